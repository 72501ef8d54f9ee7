// Base for the broadcasting binary layers Add, Sub, Mul, Div (ONNX operators §Add etc.).
// From opset 7 operands broadcast by numpy rules. Opsets 1-6 used "legacy" broadcasting instead:
// without `broadcast` = 1 the shapes must be equal; with it B broadcasts to A, its axes aligned
// with A's from `axis` (default: with A's trailing axes).
// When exactly one operand is a constant, a subclass may report a bias (a constant the node adds
// to its output, FullGrad's bias term): see make_bias.
#pragma once
#include <array>
#include <string>

#include "engine/broadcast.h"
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

  // Integer operands fold exactly in int64 (shape arithmetic); anything else folds in float.
  std::vector<Initializer> fold(const std::vector<const Initializer*>& in) const override {
    int64_t probe;
    if (!in[0]->is_integer || !in[1]->is_integer || !apply_int(1, 1, probe)) return Layer::fold(in);
    const Shape as = in[0]->value.shape();
    const Shape bs = operand_b_shape(as, in[1]->value.shape());
    const Shape os = output_shape(as, bs);
    std::vector<int64_t> y(static_cast<size_t>(os.numel()));
    BroadcastPlan(as, bs, os).for_each_sequential(
        [&](int64_t o, int64_t ia, int64_t ib, int64_t n, int64_t sa, int64_t sb) {
          for (int64_t j = 0; j < n; ++j)
            if (!apply_int(in[0]->ints[size_t(ia + j * sa)], in[1]->ints[size_t(ib + j * sb)], y[size_t(o + j)]))
              error("integer ", node_.op_type, " of ", in[0]->ints[size_t(ia + j * sa)], " and ",
                    in[1]->ints[size_t(ib + j * sb)], " is undefined");
        });
    return {Initializer::from_ints(os, std::move(y))};
  }

 protected:
  // The recorded operation on (a, b) with the node's identity.
  virtual Var apply(Var a, Var b, const NodeInfo& info) const = 0;
  // The same on int64 values for exact folding; false when the op has no integer form (or the
  // result is undefined, e.g. division by zero).
  virtual bool apply_int(int64_t /*a*/, int64_t /*b*/, int64_t& /*y*/) const { return false; }
  // Both operands are integer-typed (ONNX integer arithmetic, e.g. Div truncates).
  bool integer_operands() const {
    return node_.integer_inputs.size() == 2 && node_.integer_inputs[0] && node_.integer_inputs[1];
  }
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
