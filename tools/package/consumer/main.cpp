// Explain one prediction with the C++ API: load an ONNX model, run integrated gradients for the
// highest-scoring class, check completeness (the attributions sum to f(x) − f(baseline)).
//   find_package(gradlens) + target_link_libraries(app PRIVATE gradlens::gradlens)
#include <cmath>
#include <cstdio>

#include <gradlens/attribution/gradients.h>
#include <gradlens/attribution/method.h>
#include <gradlens/engine/error.h>
#include <gradlens/io/onnx.h>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s MODEL.onnx\n", argv[0]);
    return 2;
  }
  try {
    const gradlens::Model model(gradlens::load_onnx(argv[1]));
    const gradlens::ModelFunction f(model);  // explains the logits
    // An input of the declared shape, batch 1: a smooth pattern in [0, 1].
    std::vector<int64_t> dims = model.graph().inputs.at(0).dims;
    dims.at(0) = 1;
    gradlens::Tensor x{gradlens::Shape(dims)};
    for (int64_t i = 0; i < x.numel(); ++i) x[i] = float(0.5 + 0.5 * std::sin(0.37 * double(i)));

    const gradlens::Tensor scores = gradlens::evaluate_scores(f, x, 1);
    int64_t best = 0;
    for (int64_t c = 1; c < scores.dim(1); ++c)
      if (scores[c] > scores[best]) best = c;

    gradlens::Request request;
    request.function = &f;
    request.input = x;
    request.targets = {best};
    request.options.set("steps", "32");
    const gradlens::Explanation e = gradlens::method("integrated-gradients").explain(request);
    double sum = 0;
    for (int64_t i = 0; i < e.attribution.numel(); ++i) sum += e.attribution[i];
    std::printf("%zu methods registered\n", gradlens::methods().size());
    std::printf("integrated-gradients for class %lld: sum of attributions %.6f, completeness gap %.2e\n",
                static_cast<long long>(best), sum, e.per_example.at("completeness_gap").at(0));
    return gradlens::methods().size() >= 30 ? 0 : 1;
  } catch (const gradlens::Error& error) {
    std::fprintf(stderr, "%s\n", error.what());
    return 2;
  }
}
