/* The C API, compiled as C99 and linked against libgradlens.so: every function, every error path
 * a caller can reach, values against PyTorch's fixtures (small_cnn: output.npy, target.npy,
 * grad.npy), and one model explained from many threads at once, bitwise equal to one thread.
 * Usage: gradlens_capi_test FIXTURES_DIR (tests/data/fixtures). Exit 0 when every check passes. */
#define _GNU_SOURCE
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "gradlens/gradlens.h"

static int failures = 0;
static int checks = 0;

#define CHECK(cond)                                                        \
  do {                                                                     \
    ++checks;                                                              \
    if (!(cond)) {                                                         \
      ++failures;                                                          \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                      \
  } while (0)

/* The call returns `status` and sets a last-error message containing `needle`. */
#define CHECK_FAILS(call, status, needle)                                                 \
  do {                                                                                    \
    gradlens_status got_ = (call);                                                        \
    CHECK(got_ == (status));                                                              \
    CHECK(strstr(gradlens_last_error(), (needle)) != NULL);                               \
    if (got_ != (status) || !strstr(gradlens_last_error(), (needle)))                     \
      fprintf(stderr, "  got %s: '%s' (wanted '%s')\n", gradlens_status_name(got_), gradlens_last_error(), \
              (needle));                                                                  \
  } while (0)

static char fixtures[1024];

static char* path_of(const char* model, const char* file) {
  static char buf[2048];
  snprintf(buf, sizeof buf, "%s/%s/%s", fixtures, model, file);
  return buf;
}

static void* read_file(const char* path, size_t* size) {
  FILE* f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  void* data = malloc((size_t)n);
  if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
    free(data);
    data = NULL;
  }
  fclose(f);
  *size = (size_t)n;
  return data;
}

/* A version-1 .npy file's data (little-endian, C order): float32 or int64, `count` elements. */
static void* read_npy(const char* path, size_t element_size, size_t* count) {
  size_t size = 0;
  unsigned char* bytes = read_file(path, &size);
  if (!bytes || size < 10 || memcmp(bytes, "\x93NUMPY\x01", 7) != 0) {
    fprintf(stderr, "%s: not a version-1 .npy file\n", path);
    exit(2);
  }
  size_t offset = 10 + (size_t)bytes[8] + 256 * (size_t)bytes[9];
  *count = (size - offset) / element_size;
  void* data = malloc(size - offset);
  memcpy(data, bytes + offset, size - offset);
  free(bytes);
  return data;
}

static double relative_l2(const float* a, const float* b, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; ++i) {
    num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    den += (double)b[i] * b[i];
  }
  return sqrt(num / (den > 0 ? den : 1));
}

static void test_version_and_status(void) {
  CHECK(strcmp(gradlens_version(), GRADLENS_EXPECTED_VERSION) == 0);
  CHECK(strcmp(gradlens_last_error(), "") == 0);
  CHECK(strcmp(gradlens_status_name(GRADLENS_OK), "GRADLENS_OK") == 0);
  CHECK(strcmp(gradlens_status_name(GRADLENS_ERROR_ARGUMENT), "GRADLENS_ERROR_ARGUMENT") == 0);
  CHECK(strcmp(gradlens_status_name(GRADLENS_ERROR_REQUEST), "GRADLENS_ERROR_REQUEST") == 0);
  CHECK(strcmp(gradlens_status_name(GRADLENS_ERROR_BUFFER_TOO_SMALL), "GRADLENS_ERROR_BUFFER_TOO_SMALL") == 0);
  CHECK(strcmp(gradlens_status_name(GRADLENS_ERROR_OUT_OF_MEMORY), "GRADLENS_ERROR_OUT_OF_MEMORY") == 0);
  CHECK(strcmp(gradlens_status_name(GRADLENS_ERROR_INTERNAL), "GRADLENS_ERROR_INTERNAL") == 0);
  CHECK(strcmp(gradlens_status_name((gradlens_status)42), "unknown") == 0);
}

static void test_load_errors(void) {
  gradlens_model* m = NULL;
  CHECK_FAILS(gradlens_model_load(NULL, &m), GRADLENS_ERROR_ARGUMENT, "gradlens_model_load: path");
  CHECK_FAILS(gradlens_model_load(path_of("small_cnn", "model.onnx"), NULL), GRADLENS_ERROR_ARGUMENT, "NULL");
  CHECK_FAILS(gradlens_model_load(path_of("small_cnn", "missing.onnx"), &m), GRADLENS_ERROR_REQUEST, "missing.onnx");
  CHECK_FAILS(gradlens_model_load(path_of("small_cnn", "input.npy"), &m), GRADLENS_ERROR_REQUEST, "input.npy");
  CHECK(m == NULL);
  const char junk[] = "not a protobuf at all";
  CHECK_FAILS(gradlens_model_load_buffer(NULL, 10, &m), GRADLENS_ERROR_ARGUMENT, "data");
  CHECK_FAILS(gradlens_model_load_buffer(junk, 0, &m), GRADLENS_ERROR_ARGUMENT, "size is 0");
  CHECK_FAILS(gradlens_model_load_buffer(junk, sizeof junk, NULL), GRADLENS_ERROR_ARGUMENT, "model");
  CHECK_FAILS(gradlens_model_load_buffer(junk, sizeof junk, &m), GRADLENS_ERROR_REQUEST, "<buffer>");
  CHECK(m == NULL);
  gradlens_model_free(NULL);
  gradlens_explanation_free(NULL);
}

static void test_queries(const gradlens_model* m) {
  size_t count = 99, rank = 99;
  const char* name = NULL;
  int64_t dims[GRADLENS_MAX_RANK];
  CHECK_FAILS(gradlens_model_input_count(NULL, &count), GRADLENS_ERROR_ARGUMENT, "model");
  CHECK_FAILS(gradlens_model_input_count(m, NULL), GRADLENS_ERROR_ARGUMENT, "count");
  CHECK(gradlens_model_input_count(m, &count) == GRADLENS_OK && count == 1);
  CHECK_FAILS(gradlens_model_output_count(NULL, &count), GRADLENS_ERROR_ARGUMENT, "model");
  CHECK_FAILS(gradlens_model_output_count(m, NULL), GRADLENS_ERROR_ARGUMENT, "count");
  CHECK(gradlens_model_output_count(m, &count) == GRADLENS_OK && count == 1);

  CHECK_FAILS(gradlens_model_input(NULL, 0, &name, dims, &rank), GRADLENS_ERROR_ARGUMENT, "model is NULL");
  CHECK_FAILS(gradlens_model_input(m, 1, &name, dims, &rank), GRADLENS_ERROR_ARGUMENT, "index 1 is out of range");
  CHECK_FAILS(gradlens_model_input(m, 0, NULL, dims, &rank), GRADLENS_ERROR_ARGUMENT, "NULL");
  CHECK_FAILS(gradlens_model_input(m, 0, &name, NULL, &rank), GRADLENS_ERROR_ARGUMENT, "NULL");
  CHECK_FAILS(gradlens_model_input(m, 0, &name, dims, NULL), GRADLENS_ERROR_ARGUMENT, "NULL");
  CHECK(gradlens_model_input(m, 0, &name, dims, &rank) == GRADLENS_OK);
  CHECK(strcmp(name, "input") == 0 && rank == 4 && dims[0] == 2 && dims[1] == 3 && dims[2] == 32 && dims[3] == 32);
  CHECK_FAILS(gradlens_model_output(NULL, 0, &name, dims, &rank), GRADLENS_ERROR_ARGUMENT, "model is NULL");
  CHECK_FAILS(gradlens_model_output(m, 3, &name, dims, &rank), GRADLENS_ERROR_ARGUMENT, "index 3 is out of range");
  CHECK(gradlens_model_output(m, 0, &name, dims, &rank) == GRADLENS_OK);
  CHECK(strcmp(name, "output") == 0 && rank == 2 && dims[0] == 2 && dims[1] == 10);

  int64_t classes = 0;
  const int64_t shape[4] = {5, 3, 32, 32}, bad[4] = {5, 3, 0, 32}, wrong[4] = {5, 4, 32, 32};
  CHECK_FAILS(gradlens_model_class_count(NULL, shape, 4, &classes), GRADLENS_ERROR_ARGUMENT, "model");
  CHECK_FAILS(gradlens_model_class_count(m, shape, 4, NULL), GRADLENS_ERROR_ARGUMENT, "classes");
  CHECK_FAILS(gradlens_model_class_count(m, NULL, 4, &classes), GRADLENS_ERROR_ARGUMENT, "shape is NULL");
  CHECK_FAILS(gradlens_model_class_count(m, shape, 0, &classes), GRADLENS_ERROR_ARGUMENT, "rank 0");
  CHECK_FAILS(gradlens_model_class_count(m, shape, 9, &classes), GRADLENS_ERROR_ARGUMENT, "rank 9");
  CHECK_FAILS(gradlens_model_class_count(m, bad, 4, &classes), GRADLENS_ERROR_ARGUMENT, "shape[2] = 0");
  CHECK_FAILS(gradlens_model_class_count(m, wrong, 4, &classes), GRADLENS_ERROR_REQUEST, "gradlens_model_class_count");
  CHECK(gradlens_model_class_count(m, shape, 4, &classes) == GRADLENS_OK && classes == 10);

  size_t n = 0, index = 99;
  gradlens_method_info info;
  gradlens_parameter p;
  CHECK_FAILS(gradlens_method_count(NULL), GRADLENS_ERROR_ARGUMENT, "count");
  CHECK(gradlens_method_count(&n) == GRADLENS_OK && n >= 30); /* registered through the .so */
  CHECK_FAILS(gradlens_method_info_at(0, NULL), GRADLENS_ERROR_ARGUMENT, "info");
  CHECK_FAILS(gradlens_method_info_at(n, &info), GRADLENS_ERROR_ARGUMENT, "out of range");
  CHECK_FAILS(gradlens_method_find(NULL, &index), GRADLENS_ERROR_ARGUMENT, "NULL");
  CHECK_FAILS(gradlens_method_find("grad-cam", NULL), GRADLENS_ERROR_ARGUMENT, "NULL");
  CHECK_FAILS(gradlens_method_find("no-such-method", &index), GRADLENS_ERROR_REQUEST, "no-such-method");
  CHECK(gradlens_method_find("integrated-gradients", &index) == GRADLENS_OK && index < n);
  CHECK(gradlens_method_info_at(index, &info) == GRADLENS_OK);
  CHECK(strcmp(info.name, "integrated-gradients") == 0 && strcmp(info.family, "path") == 0 && info.layer_map == 0);
  CHECK(info.parameter_count >= 2 && strlen(info.paper) > 0 && strlen(info.cost) > 0 && strlen(info.summary) > 0);
  CHECK_FAILS(gradlens_method_parameter(index, 0, NULL), GRADLENS_ERROR_ARGUMENT, "parameter is NULL");
  CHECK_FAILS(gradlens_method_parameter(n, 0, &p), GRADLENS_ERROR_ARGUMENT, "method index");
  CHECK_FAILS(gradlens_method_parameter(index, info.parameter_count, &p), GRADLENS_ERROR_ARGUMENT,
              "parameter index");
  int found_steps = 0;
  for (size_t k = 0; k < info.parameter_count; ++k) {
    CHECK(gradlens_method_parameter(index, k, &p) == GRADLENS_OK && p.help != NULL);
    if (strcmp(p.name, "steps") == 0) found_steps = atoi(p.default_value) > 0;
  }
  CHECK(found_steps);
  CHECK(gradlens_method_find("grad-cam", &index) == GRADLENS_OK && gradlens_method_info_at(index, &info) == GRADLENS_OK);
  CHECK(info.layer_map == 1);
}

static void test_run(const gradlens_model* m, const float* x, const int64_t* shape) {
  size_t n_out = 0;
  float* expected = read_npy(path_of("small_cnn", "output.npy"), 4, &n_out);
  float out[20], small[5];
  int64_t out_shape[GRADLENS_MAX_RANK];
  size_t out_rank = 0;
  const int64_t wrong[4] = {2, 3, 31, 32};
  CHECK_FAILS(gradlens_run(NULL, x, shape, 4, out, 20, out_shape, &out_rank), GRADLENS_ERROR_ARGUMENT, "NULL");
  CHECK_FAILS(gradlens_run(m, NULL, shape, 4, out, 20, out_shape, &out_rank), GRADLENS_ERROR_ARGUMENT, "input is NULL");
  CHECK_FAILS(gradlens_run(m, x, shape, 4, NULL, 20, out_shape, &out_rank), GRADLENS_ERROR_ARGUMENT, "NULL");
  CHECK_FAILS(gradlens_run(m, x, wrong, 4, out, 20, out_shape, &out_rank), GRADLENS_ERROR_REQUEST, "gradlens_run");
  memset(small, 0, sizeof small);
  CHECK_FAILS(gradlens_run(m, x, shape, 4, small, 5, out_shape, &out_rank), GRADLENS_ERROR_BUFFER_TOO_SMALL,
              "needs 20 floats, capacity is 5");
  CHECK(out_rank == 2 && out_shape[0] == 2 && out_shape[1] == 10 && small[0] == 0 && small[4] == 0);
  CHECK(gradlens_run(m, x, shape, 4, out, 20, out_shape, &out_rank) == GRADLENS_OK);
  CHECK(n_out == 20 && relative_l2(out, expected, 20) < 1e-5);
  free(expected);
}

static void test_explain(const gradlens_model* m, const float* x, const int64_t* shape) {
  size_t n_grad = 0, n_target = 0;
  float* grad = read_npy(path_of("small_cnn", "grad.npy"), 4, &n_grad);
  int64_t* target = read_npy(path_of("small_cnn", "target.npy"), 8, &n_target);
  const size_t numel = 2 * 3 * 32 * 32;
  CHECK(n_grad == numel && n_target == 2);
  gradlens_explanation* e = NULL;
  const gradlens_option bad_param[] = {{"steps", "3"}}, unknown[] = {{"no-such-option", "1"}},
                        bad_batch[] = {{"batch", "0"}}, bad_seed[] = {{"seed", "x"}},
                        bad_score[] = {{"score", "odds"}}, null_value[] = {{"steps", NULL}},
                        bad_value[] = {{"steps", "-4"}};
  const int64_t out_of_range[2] = {3, 10};

  CHECK_FAILS(gradlens_explain(NULL, "gradient", NULL, 0, x, shape, 4, NULL, 0, &e), GRADLENS_ERROR_ARGUMENT, "model");
  CHECK_FAILS(gradlens_explain(m, NULL, NULL, 0, x, shape, 4, NULL, 0, &e), GRADLENS_ERROR_ARGUMENT, "method");
  CHECK_FAILS(gradlens_explain(m, "gradient", NULL, 0, x, shape, 4, NULL, 0, NULL), GRADLENS_ERROR_ARGUMENT,
              "explanation");
  CHECK_FAILS(gradlens_explain(m, "gradient", NULL, 1, x, shape, 4, NULL, 0, &e), GRADLENS_ERROR_ARGUMENT,
              "options is NULL");
  CHECK_FAILS(gradlens_explain(m, "gradient", NULL, 0, x, shape, 4, NULL, 2, &e), GRADLENS_ERROR_ARGUMENT,
              "targets is NULL");
  CHECK_FAILS(gradlens_explain(m, "gradient", NULL, 0, x, shape, 4, target, 3, &e), GRADLENS_ERROR_ARGUMENT,
              "target_count 3");
  CHECK_FAILS(gradlens_explain(m, "gradient", NULL, 0, NULL, shape, 4, NULL, 0, &e), GRADLENS_ERROR_ARGUMENT,
              "input is NULL");
  CHECK_FAILS(gradlens_explain(m, "integrated-gradients", null_value, 1, x, shape, 4, NULL, 0, &e),
              GRADLENS_ERROR_ARGUMENT, "options[0]");
  CHECK_FAILS(gradlens_explain(m, "no-such-method", NULL, 0, x, shape, 4, NULL, 0, &e), GRADLENS_ERROR_REQUEST,
              "no-such-method");
  CHECK_FAILS(gradlens_explain(m, "gradient", bad_param, 1, x, shape, 4, NULL, 0, &e), GRADLENS_ERROR_REQUEST,
              "steps");
  CHECK_FAILS(gradlens_explain(m, "gradient", unknown, 1, x, shape, 4, NULL, 0, &e), GRADLENS_ERROR_REQUEST,
              "no-such-option");
  CHECK_FAILS(gradlens_explain(m, "integrated-gradients", bad_value, 1, x, shape, 4, NULL, 0, &e),
              GRADLENS_ERROR_REQUEST, "steps");
  CHECK_FAILS(gradlens_explain(m, "gradient", bad_batch, 1, x, shape, 4, NULL, 0, &e), GRADLENS_ERROR_REQUEST,
              "option 'batch'");
  CHECK_FAILS(gradlens_explain(m, "gradient", bad_seed, 1, x, shape, 4, NULL, 0, &e), GRADLENS_ERROR_REQUEST,
              "seed");
  CHECK_FAILS(gradlens_explain(m, "gradient", bad_score, 1, x, shape, 4, NULL, 0, &e), GRADLENS_ERROR_REQUEST, "odds");
  CHECK_FAILS(gradlens_explain(m, "gradient", NULL, 0, x, shape, 4, out_of_range, 2, &e), GRADLENS_ERROR_REQUEST,
              "10");
  CHECK(e == NULL);

  /* Targets omitted: each example's argmax, as PyTorch's target.npy; the gradient as grad.npy. */
  CHECK(gradlens_explain(m, "gradient", NULL, 0, x, shape, 4, NULL, 0, &e) == GRADLENS_OK && e != NULL);
  int64_t dims[GRADLENS_MAX_RANK];
  size_t rank = 0, count = 0;
  const float* data = NULL;
  const double* scores = NULL;
  const int64_t* targets = NULL;
  CHECK_FAILS(gradlens_explanation_shape(NULL, dims, &rank), GRADLENS_ERROR_ARGUMENT, "NULL");
  CHECK_FAILS(gradlens_explanation_shape(e, NULL, &rank), GRADLENS_ERROR_ARGUMENT, "NULL");
  CHECK_FAILS(gradlens_explanation_data(e, NULL, &count), GRADLENS_ERROR_ARGUMENT, "NULL");
  CHECK_FAILS(gradlens_explanation_data(NULL, &data, &count), GRADLENS_ERROR_ARGUMENT, "NULL");
  CHECK_FAILS(gradlens_explanation_scores(e, &scores, NULL), GRADLENS_ERROR_ARGUMENT, "NULL");
  CHECK_FAILS(gradlens_explanation_targets(NULL, &targets, &count), GRADLENS_ERROR_ARGUMENT, "NULL");
  CHECK(gradlens_explanation_shape(e, dims, &rank) == GRADLENS_OK);
  CHECK(rank == 4 && dims[0] == 2 && dims[1] == 3 && dims[2] == 32 && dims[3] == 32);
  CHECK(gradlens_explanation_data(e, &data, &count) == GRADLENS_OK && count == numel);
  CHECK(relative_l2(data, grad, numel) < 1e-4);
  CHECK(gradlens_explanation_targets(e, &targets, &count) == GRADLENS_OK && count == 2);
  CHECK(targets[0] == target[0] && targets[1] == target[1]);
  CHECK(gradlens_explanation_scores(e, &scores, &count) == GRADLENS_OK && count == 2 && isfinite(scores[0]));

  /* Into the caller's buffer: too small (shape written, buffer untouched), then the same values. */
  float* out = calloc(numel, sizeof(float));
  int64_t out_shape[GRADLENS_MAX_RANK];
  size_t out_rank = 0;
  CHECK_FAILS(gradlens_explain_into(m, "gradient", NULL, 0, x, shape, 4, target, 2, NULL, 0, out_shape, &out_rank),
              GRADLENS_ERROR_ARGUMENT, "NULL");
  CHECK_FAILS(gradlens_explain_into(m, "gradient", NULL, 0, x, shape, 4, target, 2, out, numel - 1, out_shape,
                                    &out_rank),
              GRADLENS_ERROR_BUFFER_TOO_SMALL, "needs 6144 floats, capacity is 6143");
  CHECK(out_rank == 4 && out_shape[3] == 32 && out[0] == 0.0f);
  CHECK_FAILS(gradlens_explain_into(m, "no-such-method", NULL, 0, x, shape, 4, target, 2, out, numel, out_shape,
                                    &out_rank),
              GRADLENS_ERROR_REQUEST, "no-such-method");
  CHECK(gradlens_explain_into(m, "gradient", NULL, 0, x, shape, 4, target, 2, out, numel, out_shape, &out_rank) ==
        GRADLENS_OK);
  CHECK(memcmp(out, data, numel * sizeof(float)) == 0);
  gradlens_explanation_free(e);

  /* A layer map (CAM): [N,1,h,w], at the input size with upsample; one target for both examples. */
  const gradlens_option cam_options[] = {{"upsample", "bilinear"}, {"score", "prob"}, {"batch", "1"}};
  CHECK(gradlens_explain_into(m, "grad-cam", cam_options, 3, x, shape, 4, target, 1, out, numel, out_shape,
                              &out_rank) == GRADLENS_OK);
  CHECK(out_rank == 4 && out_shape[0] == 2 && out_shape[1] == 1 && out_shape[2] == 32 && out_shape[3] == 32);
  free(out);
  free(grad);
  free(target);
}

/* Out of memory: the input copy of a 2^20-example batch (12 GiB) under a 4 GiB address-space
 * limit. The library allocates before it reads the caller's buffer, which is never touched. */
static void test_out_of_memory(const gradlens_model* m) {
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  (void)m;
#else
  struct rlimit old;
  if (getrlimit(RLIMIT_AS, &old) != 0) return;
  struct rlimit limited = old;
  limited.rlim_cur = (rlim_t)4 << 30;
  if (old.rlim_max != RLIM_INFINITY && old.rlim_max < limited.rlim_cur) return;
  if (setrlimit(RLIMIT_AS, &limited) != 0) return;
  /* 12 GiB: over the library's memory limit (8 GiB by default), refused before allocating. 6 GiB:
   * under the limit but over this address space, so the allocation itself fails. */
  const int64_t over_limit[4] = {(int64_t)1 << 20, 3, 32, 32};
  const int64_t huge[4] = {(int64_t)1 << 19, 3, 32, 32};
  float dummy[1] = {0};
  int64_t classes = 0;
  gradlens_explanation* e = NULL;
  CHECK_FAILS(gradlens_explain(m, "gradient", NULL, 0, dummy, over_limit, 4, NULL, 0, &e), GRADLENS_ERROR_REQUEST,
              "over the memory limit");
  CHECK(e == NULL);
  CHECK_FAILS(gradlens_explain(m, "gradient", NULL, 0, dummy, huge, 4, NULL, 0, &e), GRADLENS_ERROR_OUT_OF_MEMORY,
              "out of memory");
  CHECK(e == NULL);
  setrlimit(RLIMIT_AS, &old);
  /* The model is still usable. */
  CHECK(gradlens_model_class_count(m, huge, 4, &classes) == GRADLENS_OK && classes == 10);
#endif
}

/* ---- Threads: one model, many threads, bitwise equal to one thread ---- */

typedef struct {
  const gradlens_model* model;
  const float* x;
  const int64_t* shape;
  const char* method;
  const gradlens_option* options;
  size_t option_count;
  const float* expected;
  size_t numel;
  int repeats;
  int mismatches;
  int errors;
} job;

static void* explain_repeatedly(void* arg) {
  job* j = arg;
  float* out = malloc(j->numel * sizeof(float));
  int64_t out_shape[GRADLENS_MAX_RANK];
  size_t out_rank = 0;
  for (int r = 0; r < j->repeats; ++r) {
    if (gradlens_explain_into(j->model, j->method, j->options, j->option_count, j->x, j->shape, 4, NULL, 0, out,
                              j->numel, out_shape, &out_rank) != GRADLENS_OK)
      ++j->errors;
    else if (memcmp(out, j->expected, j->numel * sizeof(float)) != 0)
      ++j->mismatches;
  }
  free(out);
  return NULL;
}

static void test_threads(const gradlens_model* m, const float* x, const int64_t* shape) {
  enum { threads = 8, repeats = 3 };
  const gradlens_option ig[] = {{"steps", "8"}, {"batch", "5"}};
  const gradlens_option smooth[] = {{"samples", "4"}, {"seed", "7"}};
  const gradlens_option cam[] = {{"upsample", "nearest"}};
  const struct {
    const char* method;
    const gradlens_option* options;
    size_t count;
  } cases[] = {{"gradient", NULL, 0}, {"integrated-gradients", ig, 2}, {"smoothgrad", smooth, 2}, {"grad-cam", cam, 1}};
  const size_t numel = 2 * 3 * 32 * 32;
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
    float* expected = malloc(numel * sizeof(float));
    int64_t out_shape[GRADLENS_MAX_RANK];
    size_t out_rank = 0;
    CHECK(gradlens_explain_into(m, cases[c].method, cases[c].options, cases[c].count, x, shape, 4, NULL, 0, expected,
                                numel, out_shape, &out_rank) == GRADLENS_OK);
    size_t n = 1;
    for (size_t d = 0; d < out_rank; ++d) n *= (size_t)out_shape[d];
    job jobs[threads];
    pthread_t ids[threads];
    for (int t = 0; t < threads; ++t) {
      job j = {m, x, shape, cases[c].method, cases[c].options, cases[c].count, expected, n, repeats, 0, 0};
      jobs[t] = j;
      CHECK(pthread_create(&ids[t], NULL, explain_repeatedly, &jobs[t]) == 0);
    }
    int mismatches = 0, errors = 0;
    for (int t = 0; t < threads; ++t) {
      pthread_join(ids[t], NULL);
      mismatches += jobs[t].mismatches;
      errors += jobs[t].errors;
    }
    CHECK(errors == 0);
    CHECK(mismatches == 0);
    if (errors || mismatches)
      fprintf(stderr, "  %s: %d errors, %d results differ from one thread's\n", cases[c].method, errors, mismatches);
    free(expected);
  }
}

/* The last-error message is per thread: a failure on another thread leaves this one's intact. */
static void* fail_once(void* arg) {
  (void)arg;
  gradlens_model* m = NULL;
  gradlens_model_load("/nonexistent/other-thread.onnx", &m);
  return NULL;
}

static void test_thread_local_error(void) {
  gradlens_model* m = NULL;
  CHECK(gradlens_model_load("/nonexistent/this-thread.onnx", &m) == GRADLENS_ERROR_REQUEST);
  pthread_t id;
  CHECK(pthread_create(&id, NULL, fail_once, NULL) == 0);
  pthread_join(id, NULL);
  CHECK(strstr(gradlens_last_error(), "this-thread.onnx") != NULL);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s FIXTURES_DIR\n", argv[0]);
    return 2;
  }
  snprintf(fixtures, sizeof fixtures, "%s", argv[1]);
  const int only_threads = getenv("GRADLENS_CAPI_THREADS_ONLY") != NULL;
  test_version_and_status();

  gradlens_model *m = NULL, *from_buffer = NULL;
  CHECK(gradlens_model_load(path_of("small_cnn", "model.onnx"), &m) == GRADLENS_OK && m != NULL);
  size_t size = 0;
  void* bytes = read_file(path_of("small_cnn", "model.onnx"), &size);
  CHECK(bytes && gradlens_model_load_buffer(bytes, size, &from_buffer) == GRADLENS_OK);
  free(bytes);
  if (!m || !from_buffer) return 1;
  size_t numel = 0;
  float* x = read_npy(path_of("small_cnn", "input.npy"), 4, &numel);
  const int64_t shape[4] = {2, 3, 32, 32};
  CHECK(numel == 2 * 3 * 32 * 32);

  if (!only_threads) {
    test_load_errors();
    test_queries(m);
    test_queries(from_buffer);
    test_run(m, x, shape);
    test_run(from_buffer, x, shape);
    test_explain(m, x, shape);
    test_out_of_memory(m);
    test_thread_local_error();
  }
  test_threads(m, x, shape);

  free(x);
  gradlens_model_free(m);
  gradlens_model_free(from_buffer);
  printf("gradlens C API: %d checks, %d failed\n", checks, failures);
  return failures ? 1 : 0;
}
