// Gather (ONNX operators §Gather, opsets 1/11/13): picks entries of `data` along `axis` (default
// 0, negative counts from the end) at `indices`; the output shape is
// data[:axis] + indices.shape + data[axis+1:] (a scalar index removes the axis). Negative indices
// count from the end of the axis from opset 11; an index outside the axis is an error. With
// integer ids into a weight matrix this is the embedding lookup.
// Indices may be a constant or a runtime tensor (floats on the tape, rounded when read).
// Backward: scatter-add, ∂data[.., indices[j], ..] += g[.., j, ..] (repeated indices add up);
// indices get no gradient. Folded exactly (int64) when data is an integer constant.
#include "layers/shape_util.h"

namespace gradlens {

class Gather : public Layer {
 public:
  std::vector<Shape> infer(const std::vector<Shape>& in) const override {
    if (in.size() != 2) error("expected 2 inputs, got ", in.size());
    return {output_shape(in[0], in[1])};
  }

  void forward(Tape&, const std::vector<Var>& in, std::vector<Var>& out) const override {
    Shape ishape;
    const std::vector<int64_t> idx = indices_.get(in, 1, &ishape);
    const Shape& ds = in[0].shape();
    const Shape os = output_shape(ds, ishape);
    out[0] = record_map(in[0], os, map(ds, ishape, idx, os), 0.f, info(),
                        {indices_.constant ? Var{} : in[1]});
  }

  std::vector<Initializer> fold(const std::vector<const Initializer*>& in) const override {
    const Shape& ds = in[0]->value.shape();
    const Shape os = output_shape(ds, indices_.shape);
    return {fold_map(*in[0], os, map(ds, indices_.shape, indices_.values, os))};
  }

 protected:
  void parse(AttributeReader& a, const std::vector<const Initializer*>& c) override {
    expect_inputs(2, 2);
    axis_ = a.get_int("axis", 0);
    indices_.load(node_, c, 1);
  }

 private:
  Shape output_shape(const Shape& d, const Shape& ind) const {
    if (d.rank() == 0) error("cannot gather from a scalar");
    const int ax = normalize_axis(*this, axis_, d.rank());
    if (d.rank() - 1 + ind.rank() > kMaxRank)
      error("output rank ", d.rank() - 1 + ind.rank(), " exceeds the maximum ", kMaxRank);
    Shape out;
    for (int i = 0; i < ax; ++i) out.push_back(d[i]);
    for (int64_t e : ind) out.push_back(e);
    for (int i = ax + 1; i < d.rank(); ++i) out.push_back(d[i]);
    return out;
  }

  std::vector<int64_t> map(const Shape& d, const Shape& ind, std::vector<int64_t> idx,
                           const Shape& os) const {
    const int ax = normalize_axis(*this, axis_, d.rank());
    const int64_t n = d[ax];
    for (int64_t& i : idx) {
      if (i < 0 && node_.opset < 11)
        error("index ", i, " is negative, which opset ", node_.opset, " does not allow");
      if (i < -n || i >= n) error("index ", i, " is out of range for axis ", ax, " of extent ", n);
      if (i < 0) i += n;
    }
    const auto ds = strides_of(d);
    const auto is = strides_of(ind);
    const int ir = ind.rank();
    return build_map(os, [&](const int64_t* o) {
      int64_t off = 0;
      for (int i = 0; i < ax; ++i) off += o[i] * ds[size_t(i)];
      int64_t j = 0;
      for (int i = 0; i < ir; ++i) j += o[ax + i] * is[size_t(i)];
      off += idx[size_t(j)] * ds[size_t(ax)];
      for (int i = ax + 1; i < d.rank(); ++i) off += o[i - 1 + ir] * ds[size_t(i)];
      return off;
    });
  }

  int64_t axis_ = 0;
  IntInput indices_;
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(Gather, gradlens::Gather)
