// gradlens verify RECEIPT.json [--json]: re-runs the explain command a receipt records (the
// receipt itself, or an `explain --json` output holding one) and says whether the attribution is
// bitwise identical. If not: by how much (relative L2 and max |Δ| against the recorded .npy when
// it is still there unchanged, else from the recorded norms) and what differs that explains it
// (files changed since, gradlens version, compiler, instruction-set flags, build type).
// Exit code: 0 identical, 1 different, 2 the receipt cannot be verified.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/error.h"
#include "io/npy.h"
#include "io/sha256.h"
#include "tools/cli/args.h"
#include "tools/cli/commands.h"
#include "tools/cli/json_read.h"
#include "tools/cli/receipt.h"

namespace gradlens::cli {

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  GL_CHECK(in.good(), path, ": cannot read");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string text_of(const JsonValue& v) {
  switch (v.kind) {
    case JsonValue::Kind::string: return v.text;
    case JsonValue::Kind::boolean: return v.boolean ? "true" : "false";
    case JsonValue::Kind::number: return str(v.number);
    case JsonValue::Kind::array: {
      std::string out;
      for (const JsonValue& item : v.items) out += (out.empty() ? "" : " ") + text_of(item);
      return out;
    }
    default: return "";
  }
}

// Build fields of the receipt that differ from this binary's.
std::vector<std::string> build_differences(const JsonValue& recorded) {
  Json j;
  write_build(j);
  const JsonValue current = parse_json(j.str(), "this build");
  std::vector<std::string> out;
  for (const auto& [key, value] : current.members) {
    const std::string was = recorded.has(key) ? text_of(recorded.at(key)) : "(not recorded)";
    if (was != text_of(value)) out.push_back(str(key, ": receipt '", was, "', this build '", text_of(value), "'"));
  }
  return out;
}

struct Difference {
  bool exact = false;  // measured against the recorded values, else estimated from norms
  double relative_l2 = 0, max_abs = 0;
};

}  // namespace

int run_verify(const std::vector<std::string>& argv) {
  Args args("verify", {{"json", "", "print the verdict as JSON", ""}}, "RECEIPT.json");
  if (!args.parse_or_usage(argv)) return 0;
  GL_CHECK(args.positional().size() == 1, "expected one RECEIPT.json (see gradlens verify --help)");
  const std::string path = args.positional()[0];
  JsonValue doc = parse_json(read_text(path), path);
  const JsonValue& receipt = doc.has("receipt") ? doc.at("receipt") : doc;
  try {
    GL_CHECK(receipt.has("command") && receipt.has("arguments"), "not a receipt");
    GL_CHECK(receipt.at("command").text == "explain", "verify re-runs explain receipts; this one is from '",
             receipt.at("command").text, "'");
    GL_CHECK(receipt.has("methods") && receipt.has("files") && receipt.has("gradlens"), "not a receipt");
  } catch (const Error& e) {
    fail(path, ": ", e.what());
  }
  const JsonValue& recorded = receipt.at("methods").items.at(0).at("result");
  const std::string recorded_sha = recorded.at("sha256").text;

  // Files changed since the receipt make the comparison meaningless: stop and name them.
  std::vector<std::string> changed;
  for (const JsonValue& f : receipt.at("files").items) {
    const std::string file = f.at("path").text;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec))
      changed.push_back(file + " is missing");
    else if (sha256_file(file) != f.at("sha256").text)
      changed.push_back(file + " has changed (sha256 differs)");
  }

  std::string verdict, result_sha;
  std::vector<std::string> reasons;
  Difference diff;
  if (!changed.empty()) {
    verdict = "not verifiable";
    reasons = changed;
  } else {
    // Re-run explain into a temporary .npy.
    const std::filesystem::path tmp = std::filesystem::temp_directory_path() /
                                      ("gradlens_verify_" + std::to_string(getpid()) + ".npy");
    std::vector<std::string> rerun;
    for (const JsonValue& a : receipt.at("arguments").items) rerun.push_back(a.text);
    rerun.push_back("--out-npy");
    rerun.push_back(tmp.string());
    Tensor again;
    try {
      run_explain(rerun);
      again = read_npy(tmp.string());
    } catch (...) {
      std::filesystem::remove(tmp);
      throw;
    }
    std::filesystem::remove(tmp);
    result_sha = tensor_sha256(again);
    if (result_sha == recorded_sha) {
      verdict = "identical";
    } else {
      verdict = "different";
      // Against the recorded .npy when it is still the one the receipt describes.
      if (doc.has("written"))
        for (const JsonValue& w : doc.at("written").items) {
          std::error_code ec;
          if (w.text.size() < 4 || w.text.compare(w.text.size() - 4, 4, ".npy") != 0 ||
              !std::filesystem::is_regular_file(w.text, ec))
            continue;
          const Tensor before = read_npy(w.text);
          if (tensor_sha256(before) != recorded_sha || before.numel() != again.numel()) continue;
          double num = 0, den = 0;
          for (int64_t i = 0; i < again.numel(); ++i) {
            const double d = double(again[i]) - before[i];
            num += d * d;
            den += double(before[i]) * before[i];
            diff.max_abs = std::max(diff.max_abs, std::fabs(d));
          }
          diff.relative_l2 = std::sqrt(num / (den > 0 ? den : 1));
          diff.exact = true;
          break;
        }
      if (!diff.exact) {
        // ‖a‖ and max|a| recorded: |‖a'‖ − ‖a‖| / ‖a‖ is a lower bound of the relative L2 change.
        double sq = 0, max_abs = 0;
        for (int64_t i = 0; i < again.numel(); ++i) {
          sq += double(again[i]) * again[i];
          max_abs = std::max(max_abs, std::fabs(double(again[i])));
        }
        const double l2 = recorded.at("l2").number;
        diff.relative_l2 = std::fabs(std::sqrt(sq) - l2) / (l2 > 0 ? l2 : 1);
        diff.max_abs = std::fabs(max_abs - recorded.at("max_abs").number);
      }
      reasons = build_differences(receipt.at("gradlens"));
      if (reasons.empty())
        reasons.push_back("same files, build and arguments: results should be identical (please report this)");
    }
  }

  if (args.flag("json")) {
    Json j;
    j.begin_object().key("receipt").value(path).key("verdict").value(verdict);
    j.key("recorded_sha256").value(recorded_sha);
    if (!result_sha.empty()) j.key("sha256").value(result_sha);
    if (verdict == "different") {
      j.key("difference").begin_object().key("measured").value(diff.exact ? "against the recorded .npy" : "lower bound from the recorded norms");
      j.key("relative_l2").value(diff.relative_l2).key("max_abs").value(diff.max_abs).end_object();
    }
    j.key("reasons").array(reasons);
    j.key("gradlens");
    write_build(j);
    j.end_object();
    std::printf("%s\n", j.str().c_str());
  } else {
    std::printf("%s: %s", path.c_str(), verdict.c_str());
    if (verdict == "identical") std::printf(" (bitwise; sha256 %s)", result_sha.c_str());
    if (verdict == "different")
      std::printf(" — relative L2 %s %.3g, max |Δ| %s %.3g (%s)", diff.exact ? "=" : ">=", diff.relative_l2,
                  diff.exact ? "=" : ">=", diff.max_abs,
                  diff.exact ? "against the recorded .npy" : "lower bounds from the recorded norms");
    std::printf("\n");
    for (const std::string& r : reasons) std::printf("  %s\n", r.c_str());
  }
  if (verdict == "identical") return 0;
  return verdict == "different" ? 1 : 2;
}

}  // namespace gradlens::cli
