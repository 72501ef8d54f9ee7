// Tile (ONNX operators §Tile, opsets 1/6/13): repeats x `repeats[i]` times along each axis i;
// the output extent is d_i·repeats[i]. From opset 6 `repeats` is input 1 (1-D int64 of length
// rank(x), entries >= 0; constant or runtime); opset 1 took scalar inputs `tiles` and `axis`
// instead (repeat along one axis).
// Backward: ∂x = Σ over the copies of g (scatter-add). Folded exactly for integer x.
#include "layers/shape_util.h"

namespace gradlens {

class Tile : public Layer {
 public:
  std::vector<Shape> infer(const std::vector<Shape>& in) const override {
    if (in.empty()) error("expected an input");
    if (!repeats_.constant || (node_.opset < 6 && !axis_.constant))
      error("the repeats are computed at run time");
    return {output_shape(in[0], repeats(in[0], {}))};
  }

  void forward(Tape&, const std::vector<Var>& in, std::vector<Var>& out) const override {
    const Shape& xs = in[0].shape();
    const Shape os = output_shape(xs, repeats(xs, in));
    out[0] = record_map(in[0], os, map(xs, os), 0.f, info());
  }

  std::vector<Initializer> fold(const std::vector<const Initializer*>& in) const override {
    const Shape& xs = in[0]->value.shape();
    const Shape os = output_shape(xs, repeats(xs, {}));
    return {fold_map(*in[0], os, map(xs, os))};
  }

 protected:
  void parse(AttributeReader&, const std::vector<const Initializer*>& c) override {
    if (node_.opset < 6) {
      expect_inputs(3, 3);
      axis_.load(node_, c, 2);
    } else {
      expect_inputs(2, 2);
    }
    repeats_.load(node_, c, 1);
  }

 private:
  // Repeats per axis for this run (in is empty when everything is constant).
  std::vector<int64_t> repeats(const Shape& x, const std::vector<Var>& in) const {
    Shape rs;
    const std::vector<int64_t> r = repeats_.get(in, 1, &rs);
    if (node_.opset < 6) {
      const std::vector<int64_t> a = axis_.get(in, 2);
      if (r.size() != 1 || a.size() != 1) error("tiles and axis must be scalars");
      std::vector<int64_t> all(size_t(x.rank()), 1);
      all[size_t(normalize_axis(*this, a[0], x.rank()))] = r[0];
      return all;
    }
    if (rs.rank() != 1) error("repeats must be 1-D, got a tensor of shape ", rs.str());
    if (int64_t(r.size()) != x.rank())
      error("repeats has ", r.size(), " entries for input rank ", x.rank());
    return r;
  }
  Shape output_shape(const Shape& x, const std::vector<int64_t>& r) const {
    Shape out;
    double n = 1;
    for (int i = 0; i < x.rank(); ++i) {
      if (r[size_t(i)] < 0) error("repeat ", r[size_t(i)], " on axis ", i, " is negative");
      int64_t extent = 0;
      n *= double(x[i]) * double(r[size_t(i)]);
      if (n > double(kMaxTensorElements) || !checked_mul(x[i], r[size_t(i)], extent))
        error("output is too large (axis ", i, ": ", x[i], " x ", r[size_t(i)], ")");
      out.push_back(extent);
    }
    return out;
  }
  static std::vector<int64_t> map(const Shape& x, const Shape& os) {
    const auto st = strides_of(x);
    return build_map(os, [&](const int64_t* o) {
      int64_t off = 0;
      for (int i = 0; i < x.rank(); ++i) off += (o[i] % x[i]) * st[size_t(i)];
      return off;
    });
  }

  IntInput repeats_, axis_;
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(Tile, gradlens::Tile)
