/* Example: explain one prediction of an ONNX classifier from C.
 *   cc example.c $(pkg-config --cflags --libs gradlens) -o example
 *   ./example model.onnx [METHOD]
 * The input is a fixed smooth pattern of the model's declared shape (batch 1); a product would
 * pass its own image or features. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gradlens/gradlens.h>

static int fail(const char* what) {
  fprintf(stderr, "%s: %s\n", what, gradlens_last_error());
  return 1;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s MODEL.onnx [METHOD]\n", argv[0]);
    return 2;
  }
  const char* method = argc > 2 ? argv[2] : "integrated-gradients";
  printf("gradlens %s\n", gradlens_version());

  gradlens_model* model = NULL;
  if (gradlens_model_load(argv[1], &model) != GRADLENS_OK) return fail("load");

  /* The input's declared shape, with batch 1 (and 1 for any unknown extent). */
  const char* name = NULL;
  int64_t shape[GRADLENS_MAX_RANK];
  size_t rank = 0, numel = 1;
  if (gradlens_model_input(model, 0, &name, shape, &rank) != GRADLENS_OK) return fail("input");
  shape[0] = 1;
  for (size_t d = 0; d < rank; ++d) {
    if (shape[d] < 1) shape[d] = 1;
    numel *= (size_t)shape[d];
  }
  printf("input '%s': %zu values\n", name, numel);
  float* x = malloc(numel * sizeof(float));
  for (size_t i = 0; i < numel; ++i) x[i] = (float)(0.5 + 0.5 * sin(0.37 * (double)i));

  /* Explain the highest-scoring class (no targets given), with 32 steps if the method has steps. */
  size_t method_index = 0, option_count = 0;
  gradlens_method_info info;
  if (gradlens_method_find(method, &method_index) != GRADLENS_OK) return fail("method");
  gradlens_method_info_at(method_index, &info);
  printf("%s (%s, %s): %s\n", info.name, info.family, info.paper, info.summary);
  for (size_t k = 0; k < info.parameter_count; ++k) {
    gradlens_parameter parameter;
    gradlens_method_parameter(method_index, k, &parameter);
    if (strcmp(parameter.name, "steps") == 0) option_count = 1;
  }
  const gradlens_option options[] = {{"steps", "32"}};
  gradlens_explanation* explanation = NULL;
  if (gradlens_explain(model, method, options, option_count, x, shape, rank, NULL, 0, &explanation) != GRADLENS_OK)
    return fail("explain");

  const float* attribution = NULL;
  const double* scores = NULL;
  const int64_t* targets = NULL;
  size_t count = 0, n_scores = 0;
  gradlens_explanation_data(explanation, &attribution, &count);
  gradlens_explanation_scores(explanation, &scores, &n_scores);
  gradlens_explanation_targets(explanation, &targets, &n_scores);
  size_t top = 0;
  double sum = 0;
  for (size_t i = 0; i < count; ++i) {
    sum += attribution[i];
    if (fabs(attribution[i]) > fabs(attribution[top])) top = i;
  }
  printf("%s: class %lld, score %.6f\n", method, (long long)targets[0], scores[0]);
  printf("largest attribution %.6g at element %zu of %zu\n", attribution[top], top, count);

  /* Integrated gradients sums to f(x) − f(0) (completeness): compare with two model runs. */
  float* zero = calloc(numel, sizeof(float));
  float logits[2][4096];
  int64_t out_shape[GRADLENS_MAX_RANK];
  size_t out_rank = 0;
  if (gradlens_run(model, x, shape, rank, logits[0], 4096, out_shape, &out_rank) != GRADLENS_OK ||
      gradlens_run(model, zero, shape, rank, logits[1], 4096, out_shape, &out_rank) != GRADLENS_OK)
    return fail("run");
  const double difference = logits[0][targets[0]] - logits[1][targets[0]];
  printf("sum of attributions %.6f, f(x) - f(0) = %.6f, completeness gap %.2e\n", sum, difference,
         fabs(sum - difference));

  gradlens_explanation_free(explanation);
  gradlens_model_free(model);
  free(zero);
  free(x);
  return 0;
}
