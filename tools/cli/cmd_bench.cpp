// gradlens bench MODEL.onnx: wall-clock of forward, forward + input-gradient backward, and of
// chosen methods, on random inputs of the model's shape (median of --repeat runs after a warm-up).
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sstream>

#include "attribution/gradients.h"
#include "attribution/method.h"
#include "engine/error.h"
#include "engine/random.h"
#include "tools/cli/args.h"
#include "tools/cli/commands.h"
#include "tools/cli/inputs.h"
#include "tools/cli/json.h"
#include "tools/cli/receipt.h"

namespace gradlens::cli {

namespace {
template <class F>
double median_ms(int64_t repeat, F&& f) {
  f();  // warm-up: sizes the arena, touches the weights
  std::vector<double> ms;
  for (int64_t i = 0; i < repeat; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}
}  // namespace

int run_bench(const std::vector<std::string>& argv) {
  Args args("bench",
            {{"batch", "N", "examples per run", "1"},
             {"methods", "a,b,c", "methods to time besides forward/backward", "gradient,grad-cam"},
             {"repeat", "R", "timed runs (median reported)", "5"},
             {"threads", "T", "OpenMP threads (default: all cores)", ""},
             {"json", "", "print JSON", ""}},
            "MODEL.onnx");
  if (!args.parse_or_usage(argv)) return 0;
  GL_CHECK(args.positional().size() == 1, "expected one MODEL.onnx (see gradlens bench --help)");
  if (args.has("threads")) omp_set_num_threads(int(args.get_int("threads", 1, 1024)));
  const int64_t batch = args.get_int("batch", 1, 4096), repeat = args.get_int("repeat", 1, 1000);
  auto model = load_model(args.positional()[0]);
  const auto& in = model->graph().inputs;
  GL_CHECK(in.size() == 1, "bench supports single-input models");
  Shape shape;
  shape.push_back(batch);
  for (size_t d = 1; d < in[0].dims.size(); ++d) {
    GL_CHECK(in[0].dims[d] > 0, "input '", in[0].name, "' has a dynamic extent on axis ", d);
    shape.push_back(in[0].dims[d]);
  }
  Tensor x(shape);
  Rng(1).fill_uniform(x, 0.f, 1.f);
  ModelFunction f(*model);
  Tape tape;
  const double forward = median_ms(repeat, [&] {
    tape.reset();
    f.scores(tape, tape.input(x, false));
  });
  const double backward = median_ms(repeat, [&] {
    tape.reset();
    Var s = f.scores(tape, tape.input(x, true));
    Tensor seed(s.shape());
    for (int64_t n = 0; n < batch; ++n) seed[n * s.shape()[1]] = 1.f;
    tape.backward(s, seed);
  });
  std::vector<std::pair<std::string, double>> timed;
  std::stringstream ss(args.get("methods"));
  std::string name;
  while (std::getline(ss, name, ',')) {
    if (name.empty()) continue;
    const Method& m = method(name);
    Request r;
    r.function = &f;
    r.input = x;
    r.targets.assign(size_t(batch), 0);
    r.batch = std::max<int64_t>(batch, 32);
    timed.emplace_back(name, median_ms(repeat, [&] { m.explain(r); }));
  }
  if (args.flag("json")) {
    Json j;
    j.begin_object().key("model").value(args.positional()[0]).key("input_shape").array(shape.vec());
    j.key("threads").value(int64_t(omp_get_max_threads())).key("repeat").value(repeat);
    j.key("forward_ms").value(forward).key("forward_backward_ms").value(backward);
    j.key("methods_ms").begin_object();
    for (const auto& [n, ms] : timed) j.key(n).value(ms);
    j.end_object();
    write_receipt(j, ReceiptInputs("bench", argv));
    j.end_object();
    std::printf("%s\n", j.str().c_str());
    return 0;
  }
  std::printf("model %s, input %s, %d threads, median of %lld runs\n", args.positional()[0].c_str(),
              shape.str().c_str(), omp_get_max_threads(), static_cast<long long>(repeat));
  std::printf("  %-28s %10.2f ms\n", "forward", forward);
  std::printf("  %-28s %10.2f ms\n", "forward + input gradient", backward);
  for (const auto& [n, ms] : timed) std::printf("  %-28s %10.2f ms\n", n.c_str(), ms);
  return 0;
}

}  // namespace gradlens::cli
