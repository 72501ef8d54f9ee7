// Expand (ONNX operators §Expand, opsets 8/13): broadcasts x to `shape` (input 1, 1-D int64,
// constant or runtime) by bidirectional numpy rules: the output shape is
// broadcast(x.shape, shape), so an extent of 1 in `shape` keeps x's extent.
// Backward: ∂x = g summed over the broadcast axes (scatter-add of the repeated elements). Folded
// exactly for integer x.
#include "layers/shape_util.h"

namespace gradlens {

class Expand : public Layer {
 public:
  std::vector<Shape> infer(const std::vector<Shape>& in) const override {
    if (in.empty()) error("expected 2 inputs");
    if (!shape_.constant) error("the shape is computed at run time");
    return {output_shape(in[0], shape_.values, shape_.shape)};
  }

  void forward(Tape&, const std::vector<Var>& in, std::vector<Var>& out) const override {
    Shape ts;
    const std::vector<int64_t> target = shape_.get(in, 1, &ts);
    const Shape os = output_shape(in[0].shape(), target, ts);
    out[0] = record_map(in[0], os, map(in[0].shape(), os), 0.f, info());
  }

  std::vector<Initializer> fold(const std::vector<const Initializer*>& in) const override {
    const Shape& xs = in[0]->value.shape();
    const Shape os = output_shape(xs, shape_.values, shape_.shape);
    return {fold_map(*in[0], os, map(xs, os))};
  }

 protected:
  void parse(AttributeReader&, const std::vector<const Initializer*>& c) override {
    expect_inputs(2, 2);
    shape_.load(node_, c, 1);
  }

 private:
  Shape output_shape(const Shape& x, const std::vector<int64_t>& target, const Shape& ts) const {
    if (ts.rank() != 1) error("shape must be 1-D, got a tensor of shape ", ts.str());
    if (target.size() > size_t(kMaxRank))
      error("target rank ", target.size(), " exceeds the maximum ", kMaxRank);
    Shape t;
    for (int64_t d : target) {
      if (d < 0) error("shape entry ", d, " is negative");
      t.push_back(d);
    }
    try {
      return broadcast_shapes(x, t);
    } catch (const Error& e) {
      error(e.what());
    }
  }
  static std::vector<int64_t> map(const Shape& x, const Shape& os) {
    const auto st = strides_of(x);
    return build_map(os, [&](const int64_t* o) { return broadcast_offset(o, os.rank(), x, st); });
  }

  IntInput shape_;
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(Expand, gradlens::Expand)
