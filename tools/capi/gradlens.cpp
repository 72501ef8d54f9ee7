// The C API (tools/capi/gradlens/gradlens.h): a front-end over the C++ API. Each function checks
// the caller's pointers and sizes, makes one call into the library (io/onnx, layers/model,
// attribution/method) and turns any exception into a status plus a thread-local message.
#include "gradlens/gradlens.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "attribution/adversarial.h"
#include "attribution/gradients.h"
#include "attribution/method.h"
#include "engine/error.h"
#include "engine/number_text.h"
#include "io/onnx.h"

#ifndef GRADLENS_VERSION
#error "GRADLENS_VERSION must be defined by the build"
#endif

struct gradlens_model {
  gradlens::Model model;
};

struct gradlens_explanation {
  gradlens::Tensor attribution;
  std::vector<double> scores;
  std::vector<int64_t> targets;
};

namespace {

thread_local std::string last_error;

// A caller error found before calling the library.
struct ArgumentError {
  std::string message;
};

template <class... Parts>
void require(bool ok, const Parts&... parts) {
  if (!ok) throw ArgumentError{gradlens::str(parts...)};
}

// Runs `body`, mapping every exception to a status and the thread's last-error message.
template <class Body>
gradlens_status guarded(const char* function, Body&& body) {
  try {
    body();
    return GRADLENS_OK;
  } catch (const ArgumentError& e) {
    last_error = std::string(function) + ": " + e.message;
    return GRADLENS_ERROR_ARGUMENT;
  } catch (const gradlens::Error& e) {
    last_error = std::string(function) + ": " + e.what();
    return GRADLENS_ERROR_REQUEST;
  } catch (const std::bad_alloc&) {
    last_error = std::string(function) + ": out of memory";
    return GRADLENS_ERROR_OUT_OF_MEMORY;
  } catch (const std::exception& e) {
    last_error = std::string(function) + ": internal error: " + e.what();
    return GRADLENS_ERROR_INTERNAL;
  } catch (...) {
    last_error = std::string(function) + ": internal error";
    return GRADLENS_ERROR_INTERNAL;
  }
}

gradlens::Shape checked_shape(const int64_t* shape, size_t rank) {
  require(shape != nullptr, "shape is NULL");
  require(rank >= 1 && rank <= GRADLENS_MAX_RANK, "rank ", rank, " is not in [1, ", GRADLENS_MAX_RANK, "]");
  for (size_t d = 0; d < rank; ++d) require(shape[d] >= 1, "shape[", d, "] = ", shape[d], " is not positive");
  const gradlens::Shape s(std::vector<int64_t>(shape, shape + rank));
  require(s.numel() <= gradlens::kMaxTensorElements, "shape ", s.str(), " is too large");
  return s;
}

// An owning copy of the caller's input (methods keep no reference to it after the call).
gradlens::Tensor input_tensor(const float* input, const int64_t* shape, size_t rank) {
  const gradlens::Shape s = checked_shape(shape, rank);
  require(input != nullptr, "input is NULL");
  gradlens::Tensor t(s);
  std::memcpy(t.data(), input, sizeof(float) * size_t(s.numel()));
  return t;
}

void write_shape(const gradlens::Shape& s, int64_t* dims, size_t* rank) {
  for (int d = 0; d < s.rank(); ++d) dims[d] = s.dim(d);
  *rank = size_t(s.rank());
}

// Writes t's shape, and its values when `capacity` floats suffice; else returns what is missing.
std::string copy_out(const gradlens::Tensor& t, float* output, size_t capacity, int64_t* out_shape, size_t* out_rank) {
  require(t.rank() <= GRADLENS_MAX_RANK, "result rank above GRADLENS_MAX_RANK");
  write_shape(t.shape(), out_shape, out_rank);
  if (size_t(t.numel()) > capacity)
    return gradlens::str("result ", t.shape().str(), " needs ", t.numel(), " floats, capacity is ", capacity);
  std::memcpy(output, t.data(), sizeof(float) * size_t(t.numel()));
  return "";
}

gradlens_status finish_copy(const char* function, gradlens_status status, const std::string& too_small) {
  if (status != GRADLENS_OK || too_small.empty()) return status;
  last_error = std::string(function) + ": " + too_small;
  return GRADLENS_ERROR_BUFFER_TOO_SMALL;
}

void value_info(const std::vector<gradlens::ValueInfo>& values, size_t index, const char** name, int64_t* dims,
                size_t* rank) {
  require(name && dims && rank, "name, dims and rank must not be NULL");
  require(index < values.size(), "index ", index, " is out of range (", values.size(), ")");
  require(values[index].dims.size() <= GRADLENS_MAX_RANK, "rank above GRADLENS_MAX_RANK");
  *name = values[index].name.c_str();
  for (size_t d = 0; d < values[index].dims.size(); ++d) dims[d] = values[index].dims[d];
  *rank = values[index].dims.size();
}

// The Request for gradlens_explain*: options split into the method's parameters and the keys
// every method takes (score, batch, seed); targets expanded to one per example.
struct Prepared {
  const gradlens::Method* method = nullptr;
  gradlens::ScoreKind kind = gradlens::ScoreKind::logit;
  gradlens::Request request;
};

int64_t parse_integer(const char* key, const char* text, int64_t min) {
  int64_t v = 0;
  GL_CHECK(gradlens::parse_integer(text, v) && v >= min, "option '", key, "': '", text,
           "' is not an integer >= ", min);
  return v;
}

Prepared prepare(const gradlens_model* model, const char* method, const gradlens_option* options,
                 size_t option_count, const float* input, const int64_t* shape, size_t rank,
                 const int64_t* targets, size_t target_count) {
  require(model != nullptr, "model is NULL");
  require(method != nullptr, "method is NULL");
  require(options != nullptr || option_count == 0, "options is NULL with option_count ", option_count);
  require(targets != nullptr || target_count == 0, "targets is NULL with target_count ", target_count);
  Prepared p;
  p.request.input = input_tensor(input, shape, rank);
  const int64_t N = shape[0];
  require(target_count == 0 || target_count == 1 || int64_t(target_count) == N, "target_count ", target_count,
          " must be 0 (argmax), 1 or the number of examples (", N, ")");
  for (size_t k = 0; k < option_count; ++k)
    require(options[k].name != nullptr && options[k].value != nullptr, "options[", k, "] has a NULL name or value");
  p.method = &gradlens::method(method);
  for (size_t k = 0; k < option_count; ++k) {
    const std::string key = options[k].name;
    if (key == "score")
      p.kind = gradlens::parse_score_kind(options[k].value);
    else if (key == "batch")
      p.request.batch = parse_integer("batch", options[k].value, 1);
    else
      p.request.options.set(key, options[k].value);
  }
  p.request.options.check_known(p.method->info());
  p.request.targets.assign(targets, targets + target_count);
  if (target_count == 1) p.request.targets.assign(size_t(N), targets[0]);
  return p;
}

// Explains with a function over the model (built here: it only refers to the model).
gradlens::Explanation run_explain(const gradlens_model* model, Prepared& p) {
  const gradlens::ModelFunction f(model->model, p.kind);
  p.request.function = &f;
  // No targets: Method::explain takes each example's predicted class, from the method's own first
  // forward where it has one (no extra pass), and reports the classes it explained.
  gradlens::Explanation e = p.method->explain(p.request);
  p.request.targets = e.targets;
  p.request.function = nullptr;
  return e;
}

void fill_method_info(const gradlens::MethodInfo& m, gradlens_method_info* info) {
  info->name = m.name.c_str();
  info->family = m.family.c_str();
  info->paper = m.paper.c_str();
  info->cost = m.cost.c_str();
  info->summary = m.summary.c_str();
  info->parameter_count = m.parameters.size();
  info->layer_map = m.layer_map ? 1 : 0;
}

const gradlens::Method& method_at(size_t index) {
  const std::vector<const gradlens::Method*> all = gradlens::methods();
  require(index < all.size(), "method index ", index, " is out of range (", all.size(), ")");
  return *all[index];
}

}  // namespace

extern "C" {

const char* gradlens_version(void) { return GRADLENS_VERSION; }

const char* gradlens_last_error(void) { return last_error.c_str(); }

const char* gradlens_status_name(gradlens_status status) {
  switch (status) {
    case GRADLENS_OK: return "GRADLENS_OK";
    case GRADLENS_ERROR_ARGUMENT: return "GRADLENS_ERROR_ARGUMENT";
    case GRADLENS_ERROR_REQUEST: return "GRADLENS_ERROR_REQUEST";
    case GRADLENS_ERROR_BUFFER_TOO_SMALL: return "GRADLENS_ERROR_BUFFER_TOO_SMALL";
    case GRADLENS_ERROR_OUT_OF_MEMORY: return "GRADLENS_ERROR_OUT_OF_MEMORY";
    case GRADLENS_ERROR_INTERNAL: return "GRADLENS_ERROR_INTERNAL";
  }
  return "unknown";
}

gradlens_status gradlens_model_load(const char* path, gradlens_model** model) {
  return guarded(__func__, [&] {
    require(path != nullptr && model != nullptr, "path and model must not be NULL");
    *model = new gradlens_model{gradlens::Model(gradlens::load_onnx(path))};
  });
}

gradlens_status gradlens_model_load_buffer(const void* data, size_t size, gradlens_model** model) {
  return guarded(__func__, [&] {
    require(data != nullptr && model != nullptr, "data and model must not be NULL");
    require(size > 0, "size is 0");
    *model = new gradlens_model{gradlens::Model(
        gradlens::load_onnx_buffer(std::string_view(static_cast<const char*>(data), size), ".", "<buffer>"))};
  });
}

void gradlens_model_free(gradlens_model* model) { delete model; }

gradlens_status gradlens_model_input_count(const gradlens_model* model, size_t* count) {
  return guarded(__func__, [&] {
    require(model && count, "model and count must not be NULL");
    *count = model->model.graph().inputs.size();
  });
}

gradlens_status gradlens_model_output_count(const gradlens_model* model, size_t* count) {
  return guarded(__func__, [&] {
    require(model && count, "model and count must not be NULL");
    *count = model->model.graph().outputs.size();
  });
}

gradlens_status gradlens_model_input(const gradlens_model* model, size_t index, const char** name, int64_t* dims,
                                     size_t* rank) {
  return guarded(__func__, [&] {
    require(model != nullptr, "model is NULL");
    value_info(model->model.graph().inputs, index, name, dims, rank);
  });
}

gradlens_status gradlens_model_output(const gradlens_model* model, size_t index, const char** name, int64_t* dims,
                                      size_t* rank) {
  return guarded(__func__, [&] {
    require(model != nullptr, "model is NULL");
    value_info(model->model.graph().outputs, index, name, dims, rank);
  });
}

gradlens_status gradlens_model_class_count(const gradlens_model* model, const int64_t* shape, size_t rank,
                                           int64_t* classes) {
  return guarded(__func__, [&] {
    require(model && classes, "model and classes must not be NULL");
    const gradlens::Shape s = checked_shape(shape, rank);
    const std::string logits = model->model.logits_name();
    for (const auto& [name, inferred] : model->model.infer_shapes({s}))
      if (name == logits) {
        GL_CHECK(inferred.rank() == 2, "the scores '", logits, "' have shape ", inferred.str(), ", not [N, C]");
        *classes = inferred.dim(1);
        return;
      }
    gradlens::fail("shape inference did not reach the scores '", logits, "'");
  });
}

gradlens_status gradlens_run(const gradlens_model* model, const float* input, const int64_t* shape, size_t rank,
                             float* output, size_t capacity, int64_t* out_shape, size_t* out_rank) {
  std::string too_small;
  const gradlens_status status = guarded(__func__, [&] {
    require(model && output && out_shape && out_rank, "model, output, out_shape and out_rank must not be NULL");
    const gradlens::Tensor x = input_tensor(input, shape, rank);
    gradlens::Tape tape;
    too_small = copy_out(model->model.forward(tape, x, false).value(), output, capacity, out_shape, out_rank);
  });
  return finish_copy(__func__, status, too_small);
}

gradlens_status gradlens_method_count(size_t* count) {
  return guarded(__func__, [&] {
    require(count != nullptr, "count is NULL");
    *count = gradlens::methods().size();
  });
}

gradlens_status gradlens_method_info_at(size_t index, gradlens_method_info* info) {
  return guarded(__func__, [&] {
    require(info != nullptr, "info is NULL");
    fill_method_info(method_at(index).info(), info);
  });
}

gradlens_status gradlens_method_find(const char* name, size_t* index) {
  return guarded(__func__, [&] {
    require(name && index, "name and index must not be NULL");
    const gradlens::Method* m = &gradlens::method(name);
    const std::vector<const gradlens::Method*> all = gradlens::methods();
    for (size_t k = 0; k < all.size(); ++k)
      if (all[k] == m) *index = k;
  });
}

gradlens_status gradlens_method_parameter(size_t method_index, size_t parameter_index,
                                          gradlens_parameter* parameter) {
  return guarded(__func__, [&] {
    require(parameter != nullptr, "parameter is NULL");
    const gradlens::MethodInfo& m = method_at(method_index).info();
    require(parameter_index < m.parameters.size(), "method '", m.name, "': parameter index ", parameter_index,
            " is out of range (", m.parameters.size(), ")");
    const gradlens::Parameter& p = m.parameters[parameter_index];
    parameter->name = p.name.c_str();
    parameter->default_value = p.fallback.c_str();
    parameter->help = p.help.c_str();
  });
}

gradlens_status gradlens_explain(const gradlens_model* model, const char* method, const gradlens_option* options,
                                 size_t option_count, const float* input, const int64_t* shape, size_t rank,
                                 const int64_t* targets, size_t target_count, gradlens_explanation** explanation) {
  return guarded(__func__, [&] {
    require(explanation != nullptr, "explanation is NULL");
    Prepared p = prepare(model, method, options, option_count, input, shape, rank, targets, target_count);
    gradlens::Explanation e = run_explain(model, p);
    *explanation = new gradlens_explanation{e.attribution, e.scores, p.request.targets};
  });
}

gradlens_status gradlens_explain_into(const gradlens_model* model, const char* method,
                                      const gradlens_option* options, size_t option_count, const float* input,
                                      const int64_t* shape, size_t rank, const int64_t* targets,
                                      size_t target_count, float* output, size_t capacity, int64_t* out_shape,
                                      size_t* out_rank) {
  std::string too_small;
  const gradlens_status status = guarded(__func__, [&] {
    require(output && out_shape && out_rank, "output, out_shape and out_rank must not be NULL");
    Prepared p = prepare(model, method, options, option_count, input, shape, rank, targets, target_count);
    too_small = copy_out(run_explain(model, p).attribution, output, capacity, out_shape, out_rank);
  });
  return finish_copy(__func__, status, too_small);
}

gradlens_status gradlens_explanation_shape(const gradlens_explanation* explanation, int64_t* dims, size_t* rank) {
  return guarded(__func__, [&] {
    require(explanation && dims && rank, "explanation, dims and rank must not be NULL");
    write_shape(explanation->attribution.shape(), dims, rank);
  });
}

gradlens_status gradlens_explanation_data(const gradlens_explanation* explanation, const float** data,
                                          size_t* count) {
  return guarded(__func__, [&] {
    require(explanation && data && count, "explanation, data and count must not be NULL");
    *data = explanation->attribution.data();
    *count = size_t(explanation->attribution.numel());
  });
}

gradlens_status gradlens_explanation_scores(const gradlens_explanation* explanation, const double** scores,
                                            size_t* count) {
  return guarded(__func__, [&] {
    require(explanation && scores && count, "explanation, scores and count must not be NULL");
    *scores = explanation->scores.data();
    *count = explanation->scores.size();
  });
}

gradlens_status gradlens_explanation_targets(const gradlens_explanation* explanation, const int64_t** targets,
                                             size_t* count) {
  return guarded(__func__, [&] {
    require(explanation && targets && count, "explanation, targets and count must not be NULL");
    *targets = explanation->targets.data();
    *count = explanation->targets.size();
  });
}

void gradlens_explanation_free(gradlens_explanation* explanation) { delete explanation; }

}  // extern "C"
