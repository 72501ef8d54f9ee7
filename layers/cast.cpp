// Cast (ONNX operators §Cast, opsets 1/6/9/13/19/21): converts x to the data type `to` (a
// TensorProto.DataType number from opset 6; a type name such as "FLOAT" or "INT64" in opset 1).
// Opset 19 adds `saturate` (it concerns float8 targets only, which gradlens does not support).
// On the tape every tensor is float32, so the cast is applied to the values:
//   FLOAT, DOUBLE: unchanged; FLOAT16, BFLOAT16: rounded to that precision (nearest even);
//   integer types: truncated toward zero, then wrapped into the type's range (as a C++/numpy cast
//   of an in-range value; values beyond int64 saturate, NaN becomes 0); BOOL: x ≠ 0.
// Backward: float targets pass the gradient unchanged (∂x = g, as torch's .half()/.double());
// integer and bool results are recorded with no backward. Folded exactly (int64) for integer
// targets and integer constants.
#include <cstring>
#include <string>

#include "engine/hessian.h"
#include "engine/ops.h"
#include "layers/shape_util.h"

namespace gradlens {

namespace {
enum DataType : int64_t {
  kFloat = 1, kUint8 = 2, kInt8 = 3, kUint16 = 4, kInt16 = 5, kInt32 = 6, kInt64 = 7,
  kString = 8, kBool = 9, kFloat16 = 10, kDouble = 11, kUint32 = 12, kUint64 = 13,
  kComplex64 = 14, kComplex128 = 15, kBfloat16 = 16
};

int64_t type_from_name(const std::string& s) {
  const std::pair<const char*, int64_t> names[] = {
      {"FLOAT", kFloat},   {"UINT8", kUint8},     {"INT8", kInt8},     {"UINT16", kUint16},
      {"INT16", kInt16},   {"INT32", kInt32},     {"INT64", kInt64},   {"STRING", kString},
      {"BOOL", kBool},     {"FLOAT16", kFloat16}, {"DOUBLE", kDouble}, {"UINT32", kUint32},
      {"UINT64", kUint64}, {"COMPLEX64", kComplex64}, {"COMPLEX128", kComplex128},
      {"BFLOAT16", kBfloat16}};
  for (const auto& [n, t] : names)
    if (s == n) return t;
  return -1;
}

bool is_integer_type(int64_t t) {
  return t == kUint8 || t == kInt8 || t == kUint16 || t == kInt16 || t == kInt32 ||
         t == kInt64 || t == kBool || t == kUint32 || t == kUint64;
}

// An int64 wrapped into the target integer type's range (two's complement), as an int64.
int64_t wrap(int64_t v, int64_t type) {
  const uint64_t u = uint64_t(v);
  switch (type) {
    case kBool: return v != 0;
    case kUint8: return int64_t(u & 0xffu);
    case kInt8: return int64_t(int8_t(uint8_t(u & 0xffu)));
    case kUint16: return int64_t(u & 0xffffu);
    case kInt16: return int64_t(int16_t(uint16_t(u & 0xffffu)));
    case kUint32: return int64_t(u & 0xffffffffu);
    case kInt32: return int64_t(int32_t(uint32_t(u & 0xffffffffu)));
    default: return v;  // INT64; UINT64 keeps the int64 value (huge values are inexact anyway)
  }
}

// float → integer type: truncation toward zero (bool: x ≠ 0), saturating beyond int64.
int64_t float_to_int(float x, int64_t type) {
  if (type == kBool) return x != 0.f;
  if (std::isnan(x)) return 0;
  return wrap(saturating_int64(std::trunc(double(x))), type);
}

float round_to_half(float x) {
  // IEEE binary16: 10 mantissa bits, exponent range [-14, 15]; overflow → ±inf.
  if (!std::isfinite(x) || x == 0.f) return x;
  const float ax = std::fabs(x);
  if (ax >= 65520.f) return std::copysign(std::numeric_limits<float>::infinity(), x);
  int e;
  std::frexp(ax, &e);                       // ax = m·2^e, m in [0.5, 1)
  const int exp = std::max(e - 1, -14);     // subnormals share the quantum of 2^-24
  const float quantum = std::ldexp(1.f, exp - 10);
  return std::copysign(std::nearbyint(ax / quantum) * quantum, x);
}

float round_to_bfloat16(float x) {
  if (!std::isfinite(x)) return x;
  uint32_t u;
  std::memcpy(&u, &x, 4);
  u += 0x7fffu + ((u >> 16) & 1u);  // round to nearest even on the upper 16 bits
  u &= 0xffff0000u;
  float y;
  std::memcpy(&y, &u, 4);
  return y;
}

float to_float_type(float x, int64_t type) {
  if (type == kFloat16) return round_to_half(x);
  if (type == kBfloat16) return round_to_bfloat16(x);
  return x;
}
}  // namespace

class Cast : public Layer {
 public:
  std::vector<Shape> infer(const std::vector<Shape>& in) const override {
    if (in.empty()) error("expected 1 input, got 0");
    return {in[0]};
  }

  void forward(Tape& tape, const std::vector<Var>& in, std::vector<Var>& out) const override {
    const Tensor& x = in[0].value();
    if (is_integer_type(to_)) {
      Tensor y(x.shape());
      for (int64_t i = 0; i < x.numel(); ++i) y[i] = float(float_to_int(x[i], to_));
      out[0] = record_values(tape, y, info());
      return;
    }
    if (to_ == kFloat || to_ == kDouble) {
      out[0] = identity(in[0], info());
      return;
    }
    // Rounded values, straight-through gradient.
    Tensor y = tape.alloc(x.shape());
    for (int64_t i = 0; i < x.numel(); ++i) y[i] = to_float_type(x[i], to_);
    out[0] = tape.record(info(), {in[0]}, y, [](BackwardContext& ctx) {
      ctx.accumulate(0, ctx.grad_output());
    }, [](TangentContext& ctx) { ctx.set_tangent(ctx.input_tangent(0)); });  // straight through
  }

  std::vector<bool> integer_outputs() const override { return {is_integer_type(to_)}; }
  std::vector<Initializer> fold(const std::vector<const Initializer*>& in) const override {
    const Initializer& x = *in[0];
    const Shape& s = x.value.shape();
    if (is_integer_type(to_)) {
      std::vector<int64_t> v(size_t(s.numel()));
      for (size_t i = 0; i < v.size(); ++i)
        v[i] = x.is_integer ? wrap(x.ints[i], to_) : float_to_int(x.value[int64_t(i)], to_);
      return {int_initializer(s, std::move(v))};
    }
    Tensor y(s);
    for (int64_t i = 0; i < s.numel(); ++i)
      y[i] = to_float_type(x.is_integer ? float(x.ints[size_t(i)]) : x.value[i], to_);
    return {Initializer(y)};
  }

 protected:
  void parse(AttributeReader& a, const std::vector<const Initializer*>&) override {
    expect_inputs(1, 1);
    if (!a.has("to")) error("attribute 'to' is required");
    if (node_.opset < 6) {
      const std::string name = a.get_string("to", "");
      to_ = type_from_name(name);
      if (to_ < 0) error("unknown data type '", name, "'");
    } else {
      to_ = a.get_int("to", 0);
    }
    if (node_.opset >= 19) {
      const int64_t s = a.get_int("saturate", 1);
      if (s != 0 && s != 1) error("attribute 'saturate' must be 0 or 1, got ", s);
    }
    if (to_ == kString || to_ == kComplex64 || to_ == kComplex128)
      error("casting to data type ", to_, " (string/complex) is not supported");
    if (!is_integer_type(to_) && to_ != kFloat && to_ != kDouble && to_ != kFloat16 &&
        to_ != kBfloat16)
      error("unsupported data type ", to_, " for 'to'");
  }

 private:
  int64_t to_ = kFloat;
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(Cast, gradlens::Cast)
