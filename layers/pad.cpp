// Pad (ONNX operators §Pad, opsets 1/2/11/13/18/19/21): adds pads[i] elements before and
// pads[i + r] after axis i (negative pads remove elements). `mode`:
//   constant (default): the fill value (`value` attribute before opset 11; the optional scalar
//     input `constant_value` from 11; default 0),
//   edge: the nearest edge element, reflect: the mirror image about the edge element (numpy
//     "reflect", repeating for pads wider than the axis), wrap (opset 19): periodic.
// Pads come from the `paddings` (opset 1) or `pads` (opsets 2-10) attribute, and from opset 11
// from input 1 (1-D int64 of 2r entries, constant or runtime). From opset 18 the optional input 3
// `axes` (negative counts from the end) says which axes the 2·len(axes) pads apply to.
// Coordinates are mapped against the input's own extents, so a crop on one side does not change
// what the other side reflects.
// Backward: y[i] copies x[src(i)] (or the fill), so ∂x[src(i)] += g[i]: reflected and edge
// copies send their gradient back to the element they copy. The fill value gets no gradient.
// Folded exactly for integer x.
#include <string>

#include "layers/shape_util.h"

namespace gradlens {

class Pad : public Layer {
 public:
  std::vector<Shape> infer(const std::vector<Shape>& in) const override {
    if (in.empty()) error("expected an input");
    if (!pads_.constant || (axes_.present && !axes_.constant))
      error("the pads are computed at run time");
    return {output_shape(in[0], full_pads(in[0].rank(), pads_.values, pads_.shape, axes_.values))};
  }

  void forward(Tape&, const std::vector<Var>& in, std::vector<Var>& out) const override {
    const Shape& xs = in[0].shape();
    Shape ps;
    const std::vector<int64_t> raw = pads_.get(in, 1, &ps);
    const std::vector<int64_t> pads =
        full_pads(xs.rank(), raw, ps, axes_.present ? axes_.get(in, 3) : std::vector<int64_t>{});
    float fill = value_;
    if (runtime_value_) {
      const Tensor& v = in[2].value();
      if (v.numel() != 1) error("constant_value must be a scalar, got shape ", v.shape().str());
      fill = v[0];
    }
    const Shape os = output_shape(xs, pads);
    out[0] = record_map(in[0], os, map(xs, os, pads), fill, info());
  }

  std::vector<Initializer> fold(const std::vector<const Initializer*>& in) const override {
    const Shape& xs = in[0]->value.shape();
    const std::vector<int64_t> pads = full_pads(xs.rank(), pads_.values, pads_.shape, axes_.values);
    const Shape os = output_shape(xs, pads);
    float fill = value_;
    int64_t int_fill = 0;
    if (node_.opset >= 11 && in.size() > 2 && in[2]) {
      fill = in[2]->value[0];
      int_fill = in[2]->as_ints()[0];
    }
    if (in[0]->is_integer && fill != float(int_fill)) int_fill = saturating_int64(fill);
    return {fold_map(*in[0], os, map(xs, os, pads), fill, int_fill)};
  }

 protected:
  void parse(AttributeReader& a, const std::vector<const Initializer*>& c) override {
    mode_ = a.get_string("mode", "constant");
    if (mode_ != "constant" && mode_ != "reflect" && mode_ != "edge" &&
        !(mode_ == "wrap" && node_.opset >= 19))
      error("mode '", mode_, "' is not supported (constant, reflect, edge",
            node_.opset >= 19 ? ", wrap)" : ")");
    if (node_.opset < 11) {
      expect_inputs(1, 1);
      const char* name = node_.opset < 2 ? "paddings" : "pads";
      if (!a.has(name)) error("attribute '", name, "' is required");
      pads_.present = pads_.constant = true;
      pads_.values = a.get_ints(name, {});
      pads_.shape = Shape{int64_t(pads_.values.size())};
      value_ = a.get_float("value", 0.f);
      return;
    }
    expect_inputs(2, node_.opset >= 18 ? 4 : 3);
    pads_.load(node_, c, 1);
    if (node_.inputs.size() > 2 && !node_.inputs[2].empty()) {
      if (c[2]) {
        if (c[2]->value.numel() != 1)
          error("constant_value must be a scalar, got shape ", c[2]->value.shape().str());
        value_ = c[2]->value[0];
      } else {
        runtime_value_ = true;
      }
    }
    if (node_.opset >= 18) axes_.load(node_, c, 3);
    if (axes_.constant && axes_.shape.rank() != 1)
      error("axes must be 1-D, got a tensor of shape ", axes_.shape.str());
  }

 private:
  // Pads for every axis: [begin_0.., end_0..] of 2r entries.
  std::vector<int64_t> full_pads(int r, const std::vector<int64_t>& pads, const Shape& ps,
                                 const std::vector<int64_t>& axes) const {
    if (ps.rank() != 1) error("pads must be 1-D, got a tensor of shape ", ps.str());
    for (int64_t p : pads)
      if (p > kMaxTensorElements || p < -kMaxTensorElements) error("pad ", p, " is out of range");
    if (!axes_.present) {
      if (int64_t(pads.size()) != 2 * int64_t(r))
        error("pads has ", pads.size(), " entries, expected ", 2 * r, " for rank ", r);
      return pads;
    }
    if (pads.size() != 2 * axes.size())
      error("pads has ", pads.size(), " entries, expected ", 2 * axes.size(), " for ",
            axes.size(), " axes");
    std::vector<int64_t> full(size_t(2 * r), 0);
    std::vector<bool> seen(size_t(r), false);
    for (size_t k = 0; k < axes.size(); ++k) {
      const int ax = normalize_axis(*this, axes[k], r);
      if (seen[size_t(ax)]) error("axis ", axes[k], " is repeated");
      seen[size_t(ax)] = true;
      full[size_t(ax)] = pads[k];
      full[size_t(ax + r)] = pads[k + axes.size()];
    }
    return full;
  }

  Shape output_shape(const Shape& x, const std::vector<int64_t>& pads) const {
    const int r = x.rank();
    Shape out;
    double n = 1;
    for (int i = 0; i < r; ++i) {
      const int64_t b = pads[size_t(i)], e = pads[size_t(i + r)];
      const double d = double(x[i]) + double(b) + double(e);
      if (d < 0) error("pads ", b, " and ", e, " remove more than the ", x[i], " elements of axis ", i);
      n *= d;
      if (n > double(kMaxTensorElements)) error("padded output is too large");
      if (mode_ != "constant" && x[i] == 0 && d > 0)
        error("cannot pad the empty axis ", i, " in ", mode_, " mode");
      out.push_back(x[i] + b + e);
    }
    return out;
  }

  // Source coordinate on an axis of extent d for output coordinate o (−1: the fill value).
  int64_t source(int64_t s, int64_t d) const {
    if (s >= 0 && s < d) return s;
    if (mode_ == "constant") return -1;
    if (mode_ == "edge") return s < 0 ? 0 : d - 1;
    if (mode_ == "wrap") return ((s % d) + d) % d;
    if (d == 1) return 0;  // reflect
    const int64_t period = 2 * (d - 1);
    const int64_t m = ((s % period) + period) % period;
    return m < d ? m : period - m;
  }

  std::vector<int64_t> map(const Shape& x, const Shape& os, const std::vector<int64_t>& pads) const {
    const int r = x.rank();
    const auto st = strides_of(x);
    int64_t entries = os.numel();
    for (int i = 0; i < r; ++i) entries += os[i];
    check_memory(entries * int64_t(sizeof(int64_t)), ("index map for " + os.str()).c_str());
    std::vector<std::vector<int64_t>> axis_map(static_cast<size_t>(r));
    for (int i = 0; i < r; ++i) {
      auto& m = axis_map[size_t(i)];
      m.resize(size_t(os[i]));
      for (int64_t o = 0; o < os[i]; ++o) {
        const int64_t s = source(o - pads[size_t(i)], x[i]);
        m[size_t(o)] = s < 0 ? -1 : s * st[size_t(i)];
      }
    }
    return build_map(os, [&](const int64_t* o) {
      int64_t off = 0;
      for (int i = 0; i < r; ++i) {
        const int64_t v = axis_map[size_t(i)][size_t(o[i])];
        if (v < 0) return int64_t(-1);
        off += v;
      }
      return off;
    });
  }

  std::string mode_ = "constant";
  float value_ = 0.f;
  bool runtime_value_ = false;
  IntInput pads_, axes_;
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(Pad, gradlens::Pad)
