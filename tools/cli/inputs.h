// Loading what the CLI is given: models, input tensors (.npy or ONNX TensorProto .pb), targets.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "attribution/function.h"
#include "layers/model.h"

namespace gradlens::cli {

std::unique_ptr<Model> load_model(const std::string& path);
// .npy or .pb by extension (a .pb is a serialized TensorProto). `integer_type`, when given, is
// set to the .npy's integer dtype ("uint8", ..., "int64"), or "" for a float array or a .pb.
Tensor load_tensor(const std::string& path, std::string* integer_type = nullptr);
// Input k of the model from a tensor file: load_tensor, then with_batch_axis. An integer .npy for
// an input the model declares float is converted with a one-line note on stderr.
Tensor load_model_input(const Model& model, size_t k, const std::string& path);
// Adds a batch axis when the tensor has one axis fewer than the model's input `k`; an Error
// naming `source` when the shape does not fit the declared one (apart from the batch).
Tensor with_batch_axis(const Model& model, size_t k, Tensor t, const std::string& source);
// "auto" → each example's predicted class (predicted_classes, attribution/method.h); "K" → K for all; "K1,K2,..." → one per example.
std::vector<int64_t> parse_targets(const std::string& text, const Tensor& scores, const char* flag);
// The same without scores, for N examples of a model with C classes (C < 0: unknown, no range
// check): "auto" → empty, which a method takes as each example's predicted class from its own
// forward (Method::explain), so no forward runs here.
std::vector<int64_t> parse_classes(const std::string& text, int64_t N, int64_t C, const char* flag);
// The classes the model scores for an input of this shape (static shape inference, no forward);
// -1 when the shapes cannot be inferred.
int64_t model_classes(const Model& model, const Shape& input);
// Top-k (class, score) of row n.
std::vector<std::pair<int64_t, float>> top_k(const Tensor& scores, int64_t n, int64_t k);
bool ends_with(const std::string& s, const std::string& suffix);
// A tensor file input (.npy or .pb) rather than an image.
bool is_tensor_file(const std::string& path);

}  // namespace gradlens::cli
