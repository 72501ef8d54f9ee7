/* gradlens C API (C99): load an ONNX model, run it, explain its predictions with any of the
 * attribution methods `gradlens methods` lists.
 *
 * Conventions
 * - Every function that can fail returns a gradlens_status; GRADLENS_OK is 0. On failure
 *   gradlens_last_error() returns a one-line message naming the file, node, method, option or
 *   argument at fault, and no output argument has been written (nor a handle allocated).
 * - Handles are opaque. A handle from gradlens_model_load*() or gradlens_explain() is owned by
 *   the caller and released with the matching *_free() function (NULL is accepted).
 * - Strings returned by the library are owned by the library: method and parameter texts live as
 *   long as the process, model texts as long as their model, gradlens_last_error() until the next
 *   failing call on the same thread. Buffers passed in are only read during the call.
 * - Tensors are float32, row-major, batch first (NCHW for images), rank <= GRADLENS_MAX_RANK.
 * - No C++ exception crosses this interface; out of memory is GRADLENS_ERROR_OUT_OF_MEMORY.
 *
 * Threads: a gradlens_model may be used by any number of threads at once (gradlens_run,
 * gradlens_explain*, the queries): each call records its own tape and arena, and the results are
 * bitwise equal to a single thread's. Freeing a model while another thread uses it is an error.
 * A gradlens_explanation is read-only after creation and may be read from several threads.
 * The library's own parallelism is OpenMP (OMP_NUM_THREADS); results do not depend on it.
 */
#ifndef GRADLENS_GRADLENS_H
#define GRADLENS_GRADLENS_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define GRADLENS_API __attribute__((visibility("default")))
#else
#define GRADLENS_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define GRADLENS_MAX_RANK 8

typedef enum gradlens_status {
  GRADLENS_OK = 0,
  /* A caller error detected before any work: a NULL pointer, a rank of 0 or above
   * GRADLENS_MAX_RANK, a non-positive extent, an index out of range, a wrong target count. */
  GRADLENS_ERROR_ARGUMENT = 1,
  /* gradlens refused the request: unreadable or invalid model file, unknown method or parameter,
   * bad parameter value, input shape the model does not accept, class out of range, or a tensor
   * over gradlens's memory limit (8 GiB by default), refused before anything is allocated. */
  GRADLENS_ERROR_REQUEST = 2,
  /* The caller-provided output buffer is too small; the required shape has been written. */
  GRADLENS_ERROR_BUFFER_TOO_SMALL = 3,
  /* An allocation under the memory limit failed (the system has less memory than the limit). */
  GRADLENS_ERROR_OUT_OF_MEMORY = 4,
  /* A bug in gradlens (an unexpected C++ exception); please report the message. */
  GRADLENS_ERROR_INTERNAL = 5
} gradlens_status;

typedef struct gradlens_model gradlens_model;
typedef struct gradlens_explanation gradlens_explanation;

/* "MAJOR.MINOR.PATCH" of the library (static string). */
GRADLENS_API const char* gradlens_version(void);
/* The message of the last failing call on this thread ("" when none has failed). */
GRADLENS_API const char* gradlens_last_error(void);
/* "GRADLENS_OK", "GRADLENS_ERROR_ARGUMENT", ... (static string; "unknown" for other values). */
GRADLENS_API const char* gradlens_status_name(gradlens_status status);

/* ---- Models ---------------------------------------------------------------------------- */

/* Reads an .onnx file (external tensor data next to it). *model receives a new handle. */
GRADLENS_API gradlens_status gradlens_model_load(const char* path, gradlens_model** model);
/* Parses an ONNX ModelProto of `size` bytes held in memory (copied; `data` may be freed after). */
GRADLENS_API gradlens_status gradlens_model_load_buffer(const void* data, size_t size, gradlens_model** model);
GRADLENS_API void gradlens_model_free(gradlens_model* model);

GRADLENS_API gradlens_status gradlens_model_input_count(const gradlens_model* model, size_t* count);
GRADLENS_API gradlens_status gradlens_model_output_count(const gradlens_model* model, size_t* count);
/* Name and declared dims of graph input/output `index`. *name is owned by the model; dims must
 * hold GRADLENS_MAX_RANK values; a symbolic or unknown extent is -1; *rank is 0 when the model
 * declares no shape. */
GRADLENS_API gradlens_status gradlens_model_input(const gradlens_model* model, size_t index, const char** name,
                                                  int64_t* dims, size_t* rank);
GRADLENS_API gradlens_status gradlens_model_output(const gradlens_model* model, size_t index, const char** name,
                                                   int64_t* dims, size_t* rank);
/* Number of class scores C the model gives for an input of this shape (shape inference only). */
GRADLENS_API gradlens_status gradlens_model_class_count(const gradlens_model* model, const int64_t* shape,
                                                        size_t rank, int64_t* classes);

/* Runs a single-input model on `input` (shape[0] examples) and writes its first output into the
 * caller's `output` (capacity in floats) and its shape into out_shape (GRADLENS_MAX_RANK values)
 * and *out_rank. When capacity is too small: GRADLENS_ERROR_BUFFER_TOO_SMALL, with the shape
 * written and `output` untouched. */
GRADLENS_API gradlens_status gradlens_run(const gradlens_model* model, const float* input, const int64_t* shape,
                                          size_t rank, float* output, size_t capacity, int64_t* out_shape,
                                          size_t* out_rank);

/* ---- Methods --------------------------------------------------------------------------- */

typedef struct gradlens_method_info {
  const char* name;    /* CLI name, e.g. "integrated-gradients" */
  const char* family;  /* "gradient", "rule", "cam", "path", ... */
  const char* paper;
  const char* cost;    /* forward/backward passes per example */
  const char* summary;
  size_t parameter_count;
  int layer_map;       /* 1: output [N,1,h,w] at a layer's resolution (CAMs), 0: input-shaped */
} gradlens_method_info;

typedef struct gradlens_parameter {
  const char* name;           /* the option key */
  const char* default_value;  /* as text */
  const char* help;
} gradlens_parameter;

GRADLENS_API gradlens_status gradlens_method_count(size_t* count);
/* Method `index` in [0, count): sorted by family then name. Strings live for the process. */
GRADLENS_API gradlens_status gradlens_method_info_at(size_t index, gradlens_method_info* info);
/* Index of the method called `name` (GRADLENS_ERROR_REQUEST listing the names when unknown). */
GRADLENS_API gradlens_status gradlens_method_find(const char* name, size_t* index);
GRADLENS_API gradlens_status gradlens_method_parameter(size_t method_index, size_t parameter_index,
                                                       gradlens_parameter* parameter);

/* ---- Explaining ------------------------------------------------------------------------ */

/* One option: a method parameter by name (gradlens_method_parameter) with its value as text,
 * or one of the keys every method takes: "score" (logit|prob|log-prob, default logit: the input
 * of a final Softmax), "batch" (rows per forward/backward, default 32). Methods that draw random
 * numbers take a "seed" parameter (default 0); the others refuse one. */
typedef struct gradlens_option {
  const char* name;
  const char* value;
} gradlens_option;

/* Explains the predictions of a single-input model for `input` (shape[0] = N examples) with
 * method `method`. targets: N classes (one per example), 1 class (for all), or target_count 0
 * (targets may be NULL) for each example's highest score. *explanation receives a new handle
 * holding the attribution and the explained scores. */
GRADLENS_API gradlens_status gradlens_explain(const gradlens_model* model, const char* method,
                                              const gradlens_option* options, size_t option_count,
                                              const float* input, const int64_t* shape, size_t rank,
                                              const int64_t* targets, size_t target_count,
                                              gradlens_explanation** explanation);
/* The same, with the attribution written into the caller's `output` (capacity in floats) and its
 * shape into out_shape (GRADLENS_MAX_RANK values) / *out_rank. When capacity is too small:
 * GRADLENS_ERROR_BUFFER_TOO_SMALL with the shape written and `output` untouched. */
GRADLENS_API gradlens_status gradlens_explain_into(const gradlens_model* model, const char* method,
                                                   const gradlens_option* options, size_t option_count,
                                                   const float* input, const int64_t* shape, size_t rank,
                                                   const int64_t* targets, size_t target_count, float* output,
                                                   size_t capacity, int64_t* out_shape, size_t* out_rank);

/* The attribution's shape (dims: GRADLENS_MAX_RANK values) and its values, owned by the
 * explanation (valid until gradlens_explanation_free). */
GRADLENS_API gradlens_status gradlens_explanation_shape(const gradlens_explanation* explanation, int64_t* dims,
                                                        size_t* rank);
GRADLENS_API gradlens_status gradlens_explanation_data(const gradlens_explanation* explanation,
                                                       const float** data, size_t* count);
/* Per example: the explained score f(x) and the class explained. Arrays owned by the explanation. */
GRADLENS_API gradlens_status gradlens_explanation_scores(const gradlens_explanation* explanation,
                                                         const double** scores, size_t* count);
GRADLENS_API gradlens_status gradlens_explanation_targets(const gradlens_explanation* explanation,
                                                          const int64_t** targets, size_t* count);
GRADLENS_API void gradlens_explanation_free(gradlens_explanation* explanation);

#ifdef __cplusplus
}
#endif

#endif /* GRADLENS_GRADLENS_H */
