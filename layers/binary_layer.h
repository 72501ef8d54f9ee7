// Base for the broadcasting binary layers Add, Sub, Mul, Div (ONNX operators §Add etc.).
// From opset 7 operands broadcast by numpy rules. Opsets 1-6 used "legacy" broadcasting instead:
// without `broadcast` = 1 the shapes must be equal; with it B broadcasts to A, its axes aligned
// with A's from `axis` (default: with A's trailing axes).
// When exactly one operand is a constant, a subclass may report a bias (a constant the node adds
// to its output, FullGrad's bias term): see make_bias.
#pragma once
#include <array>
#include <string>

#include "engine/ops.h"
#include "layers/op_util.h"

namespace gradlens {

class BinaryLayer : public Layer {
 public:
  std::vector<Shape> infer(const std::vector<Shape>& in) const override {
    if (in.size() != 2) error("expected 2 inputs, got ", in.size());
    return {output_shape(in[0], operand_b_shape(in[0], in[1]))};
  }

  void forward(Tape&, const std::vector<Var>& in, std::vector<Var>& out) const override {
    Var a = in[0], b = in[1];
    const Shape bs = operand_b_shape(a.shape(), b.shape());
    output_shape(a.shape(), bs);  // validates with the node's name in the message
    if (bs != b.shape()) b = reshape(b, bs, NodeInfo{legacy_name_, "Reshape"});
    const Tensor* bias = bias_views_[size_t(a.shape().rank())].empty()
                             ? nullptr
                             : &bias_views_[size_t(a.shape().rank())];
    out[0] = apply(a, b, info(0, bias));
  }

 protected:
  // The recorded operation on (a, b) with the node's identity.
  virtual Var apply(Var a, Var b, const NodeInfo& info) const = 0;
  // The bias when exactly one operand is constant (the other pointer is null); empty for none.
  virtual Tensor make_bias(const Tensor* /*a*/, const Tensor* /*b*/) const { return Tensor(); }

  void parse(AttributeReader& attributes, const std::vector<const Initializer*>& c) override {
    expect_inputs(2, 2);
    if (node_.opset < 7) {
      accept_consumed_inputs(attributes, node_);
      legacy_ = true;
      broadcast_ = attributes.get_int("broadcast", 0) != 0;
      has_axis_ = attributes.has("axis");
      axis_ = attributes.get_int("axis", 0);
      if (has_axis_ && !broadcast_) error("attribute 'axis' needs broadcast = 1");
    }
    legacy_name_ = node_.outputs.empty() ? node_.name : node_.outputs[0];
    legacy_name_ += "/broadcast_b";
    const Tensor* ca = c[0] ? &c[0]->value : nullptr;
    const Tensor* cb = c[1] ? &c[1]->value : nullptr;
    if ((ca == nullptr) == (cb == nullptr)) return;  // both runtime, or a constant result
    bias_ = make_bias(ca, cb);
    if (bias_.empty()) return;
    // The bias must broadcast to the output; under legacy broadcasting with an axis, a constant
    // B only does so after the trailing unit axes for A's rank are appended (one view per rank).
    for (int r = 0; r <= kMaxRank; ++r) {
      if (!(cb && legacy_ && has_axis_)) {
        bias_views_[size_t(r)] = bias_;
        continue;
      }
      const int rb = bias_.rank();
      const int axis = int(axis_ < 0 ? axis_ + r : axis_);
      if (axis < 0 || axis + rb > r) continue;
      Shape s = bias_.shape();
      while (s.rank() < r - axis) s.push_back(1);
      bias_views_[size_t(r)] = bias_.reshaped(s);
    }
  }

 private:
  // B's shape as it takes part in numpy broadcasting (legacy rules applied for opset < 7).
  Shape operand_b_shape(const Shape& a, const Shape& b) const {
    if (!legacy_) return b;
    if (!broadcast_) {
      if (a != b)
        error("shapes ", a.str(), " and ", b.str(), " differ and broadcast = 0 (opset ",
              node_.opset, ")");
      return b;
    }
    const int ra = a.rank(), rb = b.rank();
    const int64_t axis = has_axis_ ? (axis_ < 0 ? axis_ + ra : axis_) : ra - rb;
    if (axis < 0 || axis + rb > ra)
      error("B of shape ", b.str(), " cannot broadcast to A of shape ", a.str(), " at axis ",
            axis_);
    Shape s = b;
    while (s.rank() < ra - axis) s.push_back(1);
    bool ok;
    try {
      ok = broadcast_shapes(a, s) == a;
    } catch (const Error&) {
      ok = false;
    }
    if (!ok)
      error("B of shape ", b.str(), " does not broadcast to A of shape ", a.str(), " at axis ",
            axis);
    return s;
  }
  Shape output_shape(const Shape& a, const Shape& b) const {
    try {
      return broadcast_shapes(a, b);
    } catch (const Error& e) {
      error(e.what());
    }
  }

  bool legacy_ = false, broadcast_ = false, has_axis_ = false;
  int64_t axis_ = 0;
  std::string legacy_name_;
  Tensor bias_;
  std::array<Tensor, kMaxRank + 1> bias_views_;
};

}  // namespace gradlens
