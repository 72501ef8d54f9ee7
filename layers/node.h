// A graph node as the ONNX reader (or a C++ builder) describes it, before it becomes a Layer.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace gradlens {

struct Attribute {
  enum class Type { undefined, float_, int_, string, tensor, floats, ints, strings };
  Type type = Type::undefined;
  float f = 0;
  int64_t i = 0;
  std::string s;
  Tensor t;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string> strings;

  static Attribute of(float v);
  static Attribute of(int64_t v);
  static Attribute of(int v) { return of(int64_t(v)); }
  static Attribute of(const std::string& v);
  static Attribute of(const char* v) { return of(std::string(v)); }
  static Attribute of(const std::vector<float>& v);
  static Attribute of(const std::vector<int64_t>& v);
  static Attribute of(const Tensor& v);
};

const char* attribute_type_name(Attribute::Type type);

// A tensor known at load time (an initializer, a Constant node, a folded shape computation).
// `value` is what the tape sees; integer-typed tensors also keep their exact int64 values, since
// shape arithmetic (Slice ends of INT64_MAX, Reshape's -1) does not survive a trip through float.
struct Initializer {
  Tensor value;
  std::vector<int64_t> ints;  // exact values when is_integer
  bool is_integer = false;

  Initializer() = default;
  explicit Initializer(Tensor v) : value(std::move(v)) {}
  static Initializer from_ints(const Shape& shape, std::vector<int64_t> values);
  // Exact integers (converted from the float values when the tensor is not integer-typed).
  std::vector<int64_t> as_ints() const;
};

struct NodeDef {
  std::string name;     // node name; the ONNX reader fills it with outputs[0] when empty
  std::string op_type;  // ONNX op name, the registry key
  std::string domain;   // "" or "ai.onnx" for the default domain
  std::vector<std::string> inputs;   // tensor names; "" marks an absent optional input
  std::vector<std::string> outputs;
  std::map<std::string, Attribute> attributes;
  int64_t opset = 17;   // opset version of the node's domain in its model
  // Per input: whether its element type is integer or bool, as the Model infers it before
  // load() (empty when unknown: treated as float). Integer Div truncates, for example.
  std::vector<bool> integer_inputs;
};

}  // namespace gradlens
