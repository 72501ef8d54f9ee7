// gradlens bench MODEL.onnx: wall-clock of forward, forward + input-gradient backward, and of
// chosen methods, on random inputs of the model's shape (median and min of --repeat runs after a
// warm-up), the GFLOP/s of the two passes beside this machine's GEMM peak measured through
// engine/gemm.h, and the process's peak resident memory.
//
// FLOP convention: a forward pass costs 2·MACs (Model::macs: convolutions, Gemm, MatMul); the
// input-gradient backward costs as many again (each dX = Wᵀ·dY has its forward's multiply-adds;
// weights are constants, so no weight gradients), so forward + input gradient counts 4·MACs.
#include <omp.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <set>

#include "attribution/gradients.h"
#include "attribution/method.h"
#include "engine/error.h"
#include "engine/gemm.h"
#include "engine/number_text.h"
#include "engine/random.h"
#include "tools/cli/args.h"
#include "tools/cli/chunk_monitor.h"
#include "tools/cli/commands.h"
#include "tools/cli/inputs.h"
#include "tools/cli/json.h"
#include "tools/cli/method_flags.h"
#include "tools/cli/receipt.h"
#include "tools/cli/text_table.h"

namespace gradlens::cli {

namespace {
struct Timing {
  double median_ms = 0, min_ms = 0;
};

template <class F>
Timing time_runs(int64_t repeat, F&& f) {
  f();  // warm-up: sizes the arena, touches the weights
  std::vector<double> ms;
  for (int64_t i = 0; i < repeat; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms.front()};
}

// GFLOP/s of gemm() on an n×n×n product (2n³ FLOP), best of five runs after a warm-up, with
// `threads` OpenMP threads; the caller's thread count is restored.
double gemm_peak_gflops(int64_t n, int threads) {
  const int before = omp_get_max_threads();
  omp_set_num_threads(threads);
  Tensor a(Shape{n, n}), b(Shape{n, n}), c(Shape{n, n});
  Rng(2).fill_uniform(a, -1.f, 1.f);
  Rng(3).fill_uniform(b, -1.f, 1.f);
  const Timing t = time_runs(5, [&] { gemm(n, n, n, a.data(), false, b.data(), false, c.data(), false); });
  omp_set_num_threads(before);
  return 2.0 * double(n) * double(n) * double(n) / (t.min_ms * 1e6);
}

std::string fixed(double v, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, v);
  return text;
}

// Peak resident memory of this process: Linux's VmHWM (the high-water mark of this address space,
// which starts at exec) or else getrusage's ru_maxrss. ru_maxrss alone can report the parent's
// size: a child started by vfork/posix_spawn from a large process (a Python driver with torch
// loaded) inherits that process's high-water mark across exec.
int64_t peak_rss_bytes() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;  // "VmHWM:  1234 kB"
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return int64_t(usage.ru_maxrss) * 1024;  // KiB
}

// Flags handled here rather than passed to the methods as parameters.
std::set<std::string> own_flags() {
  return {"batch", "rows", "methods", "repeat", "threads", "peak-size", "no-relu", "json"};
}

std::vector<Flag> bench_flags() {
  std::vector<Flag> flags = {
      {"batch", "N", "examples per run", "1"},
      {"rows", "B", "methods: most rows (examples × steps or samples) per forward/backward (explain's --batch)", "32"},
      max_memory_flag(),
      {"methods", "a,b,c", "methods to time besides forward/backward; their parameters are the flags below", "gradient,grad-cam"},
      {"repeat", "R", "timed runs after a warm-up (median and min reported)", "5"},
      {"threads", "T", "OpenMP threads (default: all cores)", ""},
      {"peak-size", "N", "GEMM peak: gemm() on N×N×N, best of 5, 1 and T threads, 0 skips it; GFLOP/s count "
                         "2·MACs per forward and as many again for the input gradient", "1024"},
      {"no-relu", "", "CAM methods: keep the signed map", ""},
      {"json", "", "print JSON (numbers: milliseconds, GFLOP/s, bytes)", ""},
  };
  append_method_parameter_flags(flags, own_flags());
  return flags;
}
}  // namespace

int run_bench(const std::vector<std::string>& argv) {
  const std::vector<Flag> flags = bench_flags();
  Args args("bench", flags, "MODEL.onnx");
  if (!args.parse_or_usage(argv)) return 0;
  GL_CHECK(args.positional().size() == 1, "expected one MODEL.onnx (see gradlens bench --help)");
  if (args.has("threads")) omp_set_num_threads(int(args.get_int("threads", 1, 1024)));
  const int threads = omp_get_max_threads();
  const int64_t batch = args.get_int("batch", 1, 4096), repeat = args.get_int("repeat", 1, 1000);
  const int64_t rows = args.get_int("rows", 1, 1 << 20), peak_size = args.get_int("peak-size", 0, 8192);

  // The methods and their options, checked before anything is timed.
  std::vector<const Method*> methods;
  std::vector<const MethodInfo*> infos;
  std::string method_list;
  const std::string names = args.get("methods");  // "" times the passes only
  GL_CHECK(names.empty() || for_each_item(names, [&](const std::string& name) {
             methods.push_back(&method(name));
             infos.push_back(&methods.back()->info());
             method_list += (method_list.empty() ? "" : ",") + name;
             return true;
           }),
           "--methods: '", names, "' is not a comma-separated list of methods");
  const MethodFlags given = method_options(args, flags, own_flags(), infos);
  for (const std::string& name : given.unused)
    fail("--", name, " does not apply to any of the methods timed (", method_list, ")");
  GL_CHECK(!given.no_relu_unused, "--no-relu applies to CAM methods, none of which is timed (", method_list, ")");

  auto model = load_model(args.positional()[0]);
  const auto& in = model->graph().inputs;
  GL_CHECK(in.size() == 1, "bench supports single-input models");
  Shape shape;
  shape.push_back(batch);
  for (size_t d = 1; d < in[0].dims.size(); ++d) {
    GL_CHECK(in[0].dims[d] > 0, "input '", in[0].name, "' has a dynamic extent on axis ", d);
    shape.push_back(in[0].dims[d]);
  }
  const int64_t macs = model->macs({shape});
  Tensor x(shape);
  Rng(1).fill_uniform(x, 0.f, 1.f);
  ModelFunction f(*model);
  Timing forward, backward;
  {
    Tape tape;
    forward = time_runs(repeat, [&] {
      tape.reset();
      f.scores(tape, tape.input(x, false));
    });
    backward = time_runs(repeat, [&] {
      tape.reset();
      Var s = f.scores(tape, tape.input(x, true));
      Tensor seed(s.shape());
      for (int64_t n = 0; n < batch; ++n) seed[n * s.shape()[1]] = 1.f;
      tape.backward(s, seed);
    });
  }  // the methods run on their own tapes

  struct Timed {
    std::string name;
    Timing t;
    int64_t forward_rows, backward_rows;
  };
  std::vector<Timed> timed;
  for (size_t k = 0; k < methods.size(); ++k) {
    Request r;
    r.function = &f;
    r.input = x;
    r.targets.assign(size_t(batch), 0);
    r.batch = rows;
    r.options = given.options[k];
    Explanation e;
    const Timing t = time_runs(repeat, [&] { e = methods[k]->explain(r); });
    timed.push_back({infos[k]->name, t, e.forward_passes, e.backward_passes});
  }
  const double peak1 = peak_size > 0 ? gemm_peak_gflops(peak_size, 1) : 0;
  const double peak_t = peak_size > 0 ? (threads == 1 ? peak1 : gemm_peak_gflops(peak_size, threads)) : 0;
  const int64_t rss = peak_rss_bytes();

  const double forward_flop = 2.0 * double(macs), backward_flop = 4.0 * double(macs);
  auto gflops = [](double flop, double ms) { return flop / (ms * 1e6); };

  if (args.flag("json")) {
    Json j;
    j.begin_object().key("model").value(args.positional()[0]).key("input_shape").array(shape.vec());
    j.key("threads").value(int64_t(threads)).key("repeat").value(repeat).key("rows").value(rows);
    j.key("macs").value(macs);
    auto pass = [&](const char* key, const Timing& t, double flop) {
      j.key(key).begin_object().key("median_ms").value(t.median_ms).key("min_ms").value(t.min_ms);
      j.key("flop").value(flop).key("gflops").value(gflops(flop, t.median_ms));
      j.key("gflops_best").value(gflops(flop, t.min_ms));
      if (peak_t > 0) j.key("peak_fraction").value(gflops(flop, t.min_ms) / peak_t); else j.key("peak_fraction").null();
      j.end_object();
    };
    pass("forward", forward, forward_flop);
    pass("forward_backward", backward, backward_flop);
    j.key("gemm_peak").begin_object().key("size").value(peak_size);
    if (peak_size > 0) j.key("gflops_1_thread").value(peak1).key("gflops").value(peak_t);
    else j.key("gflops_1_thread").null().key("gflops").null();
    j.end_object();
    j.key("methods").begin_object();
    for (const Timed& m : timed) {
      j.key(m.name).begin_object().key("median_ms").value(m.t.median_ms).key("min_ms").value(m.t.min_ms);
      j.key("forward_rows").value(m.forward_rows).key("backward_rows").value(m.backward_rows).end_object();
    }
    j.end_object();
    j.key("peak_rss_bytes").value(rss);
    write_receipt(j, ReceiptInputs("bench", argv));
    j.end_object();
    std::printf("%s\n", j.str().c_str());
    return 0;
  }
  const std::string macs_text =
      macs >= 1000000000 ? fixed(double(macs) * 1e-9, 3) + " G" : fixed(double(macs) * 1e-6, 3) + " M";
  std::printf("model %s, input %s, %d thread%s, %sMACs per forward; median and min of %lld runs after a warm-up\n",
              args.positional()[0].c_str(), shape.str().c_str(), threads, threads == 1 ? "" : "s", macs_text.c_str(),
              static_cast<long long>(repeat));
  if (peak_size > 0 && threads == 1)
    std::printf("GEMM peak (gemm() %lld³, best of 5): %.1f GFLOP/s on 1 thread\n", static_cast<long long>(peak_size), peak1);
  else if (peak_size > 0)
    std::printf("GEMM peak (gemm() %lld³, best of 5): %.1f GFLOP/s on 1 thread, %.1f on %d\n",
                static_cast<long long>(peak_size), peak1, peak_t, threads);
  TextTable table({"", "median ms", "min ms", "GFLOP/s", "best GFLOP/s", "best / peak"});
  for (size_t c = 1; c < 6; ++c) table.align_right(c);
  auto row = [&](const std::string& name, const Timing& t, double flop) {
    table.add_row({name, fixed(t.median_ms, 2), fixed(t.min_ms, 2), fixed(gflops(flop, t.median_ms), 1),
                   fixed(gflops(flop, t.min_ms), 1),
                   peak_t > 0 ? fixed(100 * gflops(flop, t.min_ms) / peak_t, 0) + " %" : "–"});
  };
  row("forward (2·MACs)", forward, forward_flop);
  row("forward + input gradient (4·MACs)", backward, backward_flop);
  for (const Timed& m : timed)
    table.add_row({m.name + " (" + std::to_string(m.forward_rows) + " F, " + std::to_string(m.backward_rows) + " B rows)",
                   fixed(m.t.median_ms, 2), fixed(m.t.min_ms, 2), "", "", ""});
  std::printf("%s", table.render().c_str());
  std::printf("peak resident memory %s\n", byte_text(rss).c_str());
  return 0;
}

}  // namespace gradlens::cli
