#include "layers/layer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace gradlens {

Initializer Initializer::from_ints(const Shape& shape, std::vector<int64_t> values) {
  GL_CHECK(int64_t(values.size()) == shape.numel(), "integer tensor ", shape.str(), " given ",
           values.size(), " values");
  Initializer c;
  c.value = Tensor(shape);
  for (size_t i = 0; i < values.size(); ++i) c.value[int64_t(i)] = float(values[i]);
  c.ints = std::move(values);
  c.is_integer = true;
  return c;
}

std::vector<int64_t> Initializer::as_ints() const {
  if (is_integer) return ints;
  std::vector<int64_t> out(size_t(value.numel()));
  // Saturating: converting a float outside int64's range (2^63, what INT64_MAX becomes in float)
  // to int64 is undefined behaviour; NaN becomes 0.
  for (int64_t i = 0; i < value.numel(); ++i) {
    const float v = value[i];
    out[size_t(i)] = std::isnan(v) ? 0
                     : v >= 9.2233720368547758e18f ? std::numeric_limits<int64_t>::max()
                     : v <= -9.2233720368547758e18f ? std::numeric_limits<int64_t>::min()
                                                   : int64_t(v);
  }
  return out;
}

Attribute Attribute::of(float v) { Attribute a; a.type = Type::float_; a.f = v; return a; }
Attribute Attribute::of(int64_t v) { Attribute a; a.type = Type::int_; a.i = v; return a; }
Attribute Attribute::of(const std::string& v) { Attribute a; a.type = Type::string; a.s = v; return a; }
Attribute Attribute::of(const std::vector<float>& v) { Attribute a; a.type = Type::floats; a.floats = v; return a; }
Attribute Attribute::of(const std::vector<int64_t>& v) { Attribute a; a.type = Type::ints; a.ints = v; return a; }
Attribute Attribute::of(const Tensor& v) { Attribute a; a.type = Type::tensor; a.t = v; return a; }

const char* attribute_type_name(Attribute::Type type) {
  switch (type) {
    case Attribute::Type::undefined: return "undefined";
    case Attribute::Type::float_: return "float";
    case Attribute::Type::int_: return "int";
    case Attribute::Type::string: return "string";
    case Attribute::Type::tensor: return "tensor";
    case Attribute::Type::floats: return "floats";
    case Attribute::Type::ints: return "ints";
    case Attribute::Type::strings: return "strings";
  }
  return "?";
}

const Attribute* AttributeReader::find(const std::string& name, Attribute::Type type) {
  read_.push_back(name);
  auto it = node_.attributes.find(name);
  if (it == node_.attributes.end()) return nullptr;
  const Attribute& a = it->second;
  // An int list given where floats are expected (or a single value for a list) is a type error.
  GL_CHECK(a.type == type, "node '", node_.name, "' (", node_.op_type, "): attribute '", name,
           "' is ", attribute_type_name(a.type), ", expected ", attribute_type_name(type));
  return &a;
}

int64_t AttributeReader::get_int(const std::string& name, int64_t fallback) {
  const Attribute* a = find(name, Attribute::Type::int_);
  return a ? a->i : fallback;
}

float AttributeReader::get_float(const std::string& name, float fallback) {
  const Attribute* a = find(name, Attribute::Type::float_);
  return a ? a->f : fallback;
}

std::string AttributeReader::get_string(const std::string& name, const std::string& fallback) {
  const Attribute* a = find(name, Attribute::Type::string);
  return a ? a->s : fallback;
}

std::vector<int64_t> AttributeReader::get_ints(const std::string& name,
                                               const std::vector<int64_t>& fallback) {
  const Attribute* a = find(name, Attribute::Type::ints);
  return a ? a->ints : fallback;
}

std::vector<float> AttributeReader::get_floats(const std::string& name,
                                               const std::vector<float>& fallback) {
  const Attribute* a = find(name, Attribute::Type::floats);
  return a ? a->floats : fallback;
}

Tensor AttributeReader::get_tensor(const std::string& name) {
  const Attribute* a = find(name, Attribute::Type::tensor);
  return a ? a->t : Tensor();
}

void AttributeReader::finish() const {
  for (const auto& [name, attr] : node_.attributes) {
    (void)attr;
    GL_CHECK(std::find(read_.begin(), read_.end(), name) != read_.end(), "node '", node_.name,
             "' (", node_.op_type, "): unsupported attribute '", name, "'");
  }
}

void Layer::load(const NodeDef& node, const std::vector<const Initializer*>& constants) {
  node_ = node;
  GL_CHECK(constants.size() == node.inputs.size(), "node '", node.name, "' (", node.op_type,
           "): ", constants.size(), " constant slots for ", node.inputs.size(), " inputs");
  AttributeReader reader(node_);
  parse(reader, constants);
  reader.finish();
}

NodeInfo Layer::info(int output, const Tensor* bias) const {
  NodeInfo i;
  i.name = output < int(node_.outputs.size()) ? std::string_view(node_.outputs[size_t(output)])
                                               : std::string_view(node_.name);
  i.op = node_.op_type;
  i.bias = bias;
  return i;
}

std::vector<Initializer> Layer::fold(const std::vector<const Initializer*>& inputs) const {
  Tape tape;
  std::vector<Var> in(inputs.size()), out(node_.outputs.size());
  for (size_t k = 0; k < inputs.size(); ++k)
    if (inputs[k]) in[k] = tape.constant(inputs[k]->value);
  forward(tape, in, out);
  std::vector<Initializer> result;
  for (const Var& v : out) result.emplace_back(v.valid() ? v.value().clone() : Tensor());
  return result;
}

std::vector<bool> Layer::integer_outputs() const {
  bool integer = false;
  for (size_t k = 0; k < node_.inputs.size(); ++k) {
    if (node_.inputs[k].empty()) continue;
    const bool known = k < node_.integer_inputs.size() && node_.integer_inputs[k];
    if (!known) {
      integer = false;
      break;
    }
    integer = true;
  }
  return std::vector<bool>(node_.outputs.size(), integer);
}

void Layer::expect_inputs(size_t min, size_t max) const {
  size_t n = node_.inputs.size();
  while (n > 0 && node_.inputs[n - 1].empty()) --n;  // trailing absent optional inputs
  if (n < min || n > max) {
    if (min == max) error("expected ", min, " inputs, got ", n);
    error("expected ", min, " to ", max, " inputs, got ", n);
  }
  for (size_t k = 0; k < min; ++k)
    if (node_.inputs[k].empty()) error("required input ", k, " is missing");
}

const Initializer& Layer::constant_input(const std::vector<const Initializer*>& constants,
                                         size_t k, const char* what) const {
  if (k >= constants.size() || !constants[k])
    error(what, " (input ", k, ") must be a constant initializer");
  return *constants[k];
}

namespace {
std::map<std::string, LayerFactory>& registry() {
  static std::map<std::string, LayerFactory> r;
  return r;
}
}  // namespace

bool register_layer(const char* op_type, LayerFactory factory) {
  registry()[op_type] = factory;
  return true;
}

std::unique_ptr<Layer> create_layer(const std::string& op_type) {
  auto it = registry().find(op_type);
  return it == registry().end() ? nullptr : it->second();
}

bool layer_registered(const std::string& op_type) { return registry().count(op_type) > 0; }

std::vector<std::string> registered_ops() {
  std::vector<std::string> ops;
  for (const auto& [name, f] : registry()) {
    (void)f;
    ops.push_back(name);
  }
  return ops;
}

}  // namespace gradlens
