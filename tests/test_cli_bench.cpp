// `gradlens bench` on the binary: the JSON's numbers (MACs from the architecture's closed form,
// FLOP = 2·MACs forward and 4·MACs forward + input gradient, GFLOP/s consistent with the times,
// a positive GEMM peak and peak RSS), method flags reaching the methods (rows counted), and bad
// options (one line naming the flag, exit 2). No timing is asserted beyond "positive".
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "cli_runner.h"
#include "method_testing.h"
#include "scratch_dir.h"

using namespace gradlens::test;
namespace fs = std::filesystem;

namespace {
// The number after "key": at or after the first occurrence of `within` (a JSON object's key);
// NaN when either is absent or the value is not a number.
double json_number(const std::string& json, const std::string& key, const std::string& within = "") {
  const size_t from = within.empty() ? 0 : json.find("\"" + within + "\":");
  if (from == std::string::npos) return std::nan("");
  const size_t at = json.find("\"" + key + "\":", from);
  if (at == std::string::npos) return std::nan("");
  const char* start = json.c_str() + at + key.size() + 3;
  char* end = nullptr;
  const double v = std::strtod(start, &end);
  return end == start ? std::nan("") : v;
}
}  // namespace

TEST_CASE("gradlens bench --json: MACs, FLOP and GFLOP/s of the passes, GEMM peak, peak RSS, method rows") {
  if (!have_cli()) return;
  const ScratchDir scratch;
  const std::string model = (fixture("small_cnn") / "model.onnx").string();
  const CliRun r = run_cli(scratch, {"bench", model, "--json", "--batch", "2", "--repeat", "2", "--threads", "1",
                                     "--peak-size", "128", "--methods", "integrated-gradients,smoothgrad",
                                     "--steps", "3", "--samples", "4"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  // small_cnn (BatchNorms folded): Conv 3→8 3×3 on 32² (32²·8·27) + Conv 8→16 3×3 stride 2 to 8²
  // (8²·16·72) + Linear 256→32 + Linear 32→10, per example; batch 2.
  const double macs = 2.0 * (32 * 32 * 8 * 27 + 8 * 8 * 16 * 72 + 256 * 32 + 32 * 10);
  CHECK(json_number(r.out, "macs") == macs);
  // `gradlens info` reports the same count (one Model::macs behind both).
  const CliRun info = run_cli(scratch, {"info", model, "--input-shape", "2,3,32,32", "--json"});
  REQUIRE(info.exit_code == 0);
  CHECK(json_number(info.out, "macs") == macs);

  for (const auto& [pass, flop] : {std::pair<std::string, double>{"forward", 2 * macs}, {"forward_backward", 4 * macs}}) {
    INFO(pass);
    const double median = json_number(r.out, "median_ms", pass), best = json_number(r.out, "min_ms", pass);
    CHECK(best > 0);
    CHECK(best <= median);
    CHECK(json_number(r.out, "flop", pass) == flop);
    CHECK(json_number(r.out, "gflops", pass) == doctest::Approx(flop / (median * 1e6)).epsilon(1e-6));
    CHECK(json_number(r.out, "gflops_best", pass) == doctest::Approx(flop / (best * 1e6)).epsilon(1e-6));
    const double peak = json_number(r.out, "gflops", "gemm_peak");
    CHECK(peak > 0);
    CHECK(json_number(r.out, "peak_fraction", pass) == doctest::Approx(flop / (best * 1e6) / peak).epsilon(1e-6));
  }
  CHECK(json_number(r.out, "size", "gemm_peak") == 128);
  CHECK(json_number(r.out, "gflops_1_thread", "gemm_peak") == json_number(r.out, "gflops", "gemm_peak"));  // --threads 1
  CHECK(json_number(r.out, "peak_rss_bytes") > 1e6);
  // --steps and --samples reached the methods: 3 path points and 4 noisy copies per example.
  CHECK(json_number(r.out, "backward_rows", "integrated-gradients") == 2 * 3);
  CHECK(json_number(r.out, "backward_rows", "smoothgrad") == 2 * 4);
  CHECK(json_number(r.out, "min_ms", "smoothgrad") > 0);
  CHECK(r.out.find("\"receipt\":{\"gradlens\":") != std::string::npos);

  // --peak-size 0 skips the GEMM timing: null, not a made-up number.
  const CliRun no_peak = run_cli(scratch, {"bench", model, "--json", "--repeat", "1", "--peak-size", "0", "--methods", ""});
  REQUIRE(no_peak.exit_code == 0);
  CHECK(no_peak.out.find("\"gemm_peak\":{\"size\":0,\"gflops_1_thread\":null,\"gflops\":null}") != std::string::npos);
  CHECK(no_peak.out.find("\"peak_fraction\":null") != std::string::npos);
  CHECK(no_peak.out.find("\"methods\":{}") != std::string::npos);
}

TEST_CASE("gradlens bench: text output and bad options") {
  if (!have_cli()) return;
  const ScratchDir scratch;
  const std::string model = (fixture("small_cnn") / "model.onnx").string();
  const CliRun text = run_cli(scratch, {"bench", model, "--repeat", "1", "--peak-size", "64", "--methods", "saliency"});
  INFO(text.err);
  REQUIRE(text.exit_code == 0);
  CHECK(text.out.find("GEMM peak (gemm() 64³, best of 5)") != std::string::npos);
  CHECK(text.out.find("forward + input gradient (4·MACs)") != std::string::npos);
  CHECK(text.out.find("saliency (1 F, 1 B rows)") != std::string::npos);
  CHECK(text.out.find("peak resident memory") != std::string::npos);

  check_rejected(run_cli(scratch, {"bench", model, "--methods", "gradient", "--steps", "5"}),
                 "--steps does not apply to any of the methods timed (gradient)");
  check_rejected(run_cli(scratch, {"bench", model, "--methods", "integrated-gradients", "--steps", "0"}), "steps");
  check_rejected(run_cli(scratch, {"bench", model, "--methods", "gradient,no-such-method"}), "no-such-method");
  check_rejected(run_cli(scratch, {"bench", model, "--methods", "gradient", "--no-relu"}), "--no-relu");
  check_rejected(run_cli(scratch, {"bench", model, "--peak-size", "-1"}), "peak-size");
}
