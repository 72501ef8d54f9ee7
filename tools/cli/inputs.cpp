#include "tools/cli/inputs.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>

#include "attribution/method.h"
#include "engine/error.h"
#include "engine/number_text.h"
#include "io/npy.h"
#include "io/onnx.h"

namespace gradlens::cli {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_tensor_file(const std::string& path) { return ends_with(path, ".npy") || ends_with(path, ".pb"); }

std::unique_ptr<Model> load_model(const std::string& path) {
  return std::make_unique<Model>(load_onnx(path));
}

Tensor load_tensor(const std::string& path, std::string* integer_type) {
  if (ends_with(path, ".npy")) {
    std::string dtype;
    Tensor t = read_npy(path, dtype);
    static const std::map<std::string, const char*> kIntegerNames = {
        {"u1", "uint8"}, {"i1", "int8"}, {"i2", "int16"}, {"i4", "int32"}, {"i8", "int64"}};
    const auto integer = kIntegerNames.find(dtype);
    if (integer_type) *integer_type = integer != kIntegerNames.end() ? integer->second : "";
    return t;
  }
  if (integer_type) integer_type->clear();
  if (ends_with(path, ".pb")) return read_tensor_pb(path).value;
  fail(path, ": unsupported input file type (expected .npy or an ONNX TensorProto .pb)");
}

Tensor load_model_input(const Model& model, size_t k, const std::string& path) {
  std::string integer_type;
  Tensor t = load_tensor(path, &integer_type);
  // Images saved as uint8 (or any integer array) feed a float input: converted, and said so. An
  // input the model declares integer (token ids) takes them as they are.
  const auto& inputs = model.graph().inputs;
  if (!integer_type.empty() && k < inputs.size() && !inputs[k].is_integer)
    std::fprintf(stderr, "gradlens: %s: %s array converted to float32\n", path.c_str(), integer_type.c_str());
  return with_batch_axis(model, k, std::move(t), path);
}

Tensor with_batch_axis(const Model& model, size_t k, Tensor t, const std::string& source) {
  const auto& inputs = model.graph().inputs;
  GL_CHECK(k < inputs.size(), source, ": the model has only ", inputs.size(), " inputs");
  const auto& dims = inputs[k].dims;
  if (!dims.empty() && t.rank() + 1 == int(dims.size())) {
    Shape s;
    s.push_back(1);
    for (int i = 0; i < t.rank(); ++i) s.push_back(t.dim(i));
    return t.reshaped(s);
  }
  GL_CHECK(t.rank() >= 1, source, ": a scalar is not a model input");
  // The model checks shapes too, but only the CLI knows which file the tensor came from.
  model.check_input_shape(k, t.shape(), source);
  return t;
}

std::vector<std::pair<int64_t, float>> top_k(const Tensor& scores, int64_t n, int64_t k) {
  const int64_t C = scores.dim(1);
  std::vector<std::pair<int64_t, float>> all;
  for (int64_t c = 0; c < C; ++c) all.emplace_back(c, scores[n * C + c]);
  k = std::min(k, C);
  std::partial_sort(all.begin(), all.begin() + k, all.end(), [](const auto& a, const auto& b) {
    return a.second > b.second || (a.second == b.second && a.first < b.first);
  });
  all.resize(size_t(k));
  return all;
}

std::vector<int64_t> parse_targets(const std::string& text, const Tensor& scores, const char* flag) {
  if (text == "auto") return predicted_classes(scores);
  return parse_classes(text, scores.dim(0), scores.dim(1), flag);
}

int64_t model_classes(const Model& model, const Shape& input) {
  try {
    const std::string logits = model.logits_name();
    for (const auto& [name, shape] : model.infer_shapes({input}))
      if (name == logits && shape.rank() >= 1 && shape[0] == input[0] && input[0] > 0) return shape.numel() / input[0];
  } catch (const Error&) {
  }
  return -1;
}

std::vector<int64_t> parse_classes(const std::string& text, int64_t N, int64_t C, const char* flag) {
  if (text == "auto") return {};
  std::vector<int64_t> values;
  GL_CHECK(!text.empty(), "--", flag, " is empty");
  for_each_item(text, [&](const std::string& item) {
    int64_t v = 0;
    GL_CHECK(parse_integer(item, v), "--", flag, ": '", item, "' is not a class index");
    GL_CHECK(v >= 0 && (C < 0 || v < C), "--", flag, ": class ", v, " is out of range (the model has ", C, " classes)");
    values.push_back(v);
    return true;
  });
  if (values.size() == 1) return std::vector<int64_t>(size_t(N), values[0]);
  GL_CHECK(int64_t(values.size()) == N, "--", flag, " gives ", values.size(), " classes for ", N,
           " examples (give one, or one per example)");
  return values;
}

}  // namespace gradlens::cli
