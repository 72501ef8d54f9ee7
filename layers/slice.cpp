// Slice (ONNX operators §Slice, opsets 1/10/11/13): numpy-style data[starts:ends:steps] along
// `axes` (default 0..len(starts)−1). Opset 1 takes `starts`, `ends`, `axes` as attributes; from
// opset 10 they are inputs 1-4 (starts, ends, optional axes, optional steps; constant or
// runtime), negative axes from opset 11. Per axis of extent d (spec §Slice): negative starts and
// ends get d added; the start is clamped into [0, d] for positive steps and [0, d−1] for
// negative ones; the end into [0, d] resp. [−1, d−1]; the output has
// max(0, ⌈(end − start)/step⌉) elements. Steps may be negative (reversal), never 0; an axis may
// appear once. Bounds like INT64_MAX are handled in int64 (runtime float bounds saturate).
// Backward: scatter of g into the selected positions of ∂data. Folded exactly for integer data.
#include <algorithm>

#include "layers/shape_util.h"

namespace gradlens {

class Slice : public Layer {
 public:
  std::vector<Shape> infer(const std::vector<Shape>& in) const override {
    if (in.empty()) error("expected an input");
    if (!all_constant()) error("the slice bounds are computed at run time");
    return {plan(in[0], starts_.values, ends_.values, axes_.values, steps_.values).out};
  }

  void forward(Tape&, const std::vector<Var>& in, std::vector<Var>& out) const override {
    const Plan p = plan(in[0].shape(), starts_.get(in, 1), ends_.get(in, 2),
                        axes_.present ? axes_.get(in, 3) : std::vector<int64_t>{},
                        steps_.present ? steps_.get(in, 4) : std::vector<int64_t>{});
    out[0] = record_map(in[0], p.out, map(in[0].shape(), p), 0.f, info());
  }

  std::vector<Initializer> fold(const std::vector<const Initializer*>& in) const override {
    const Shape& s = in[0]->value.shape();
    const Plan p = plan(s, starts_.values, ends_.values, axes_.values, steps_.values);
    return {fold_map(*in[0], p.out, map(s, p))};
  }

 protected:
  void parse(AttributeReader& a, const std::vector<const Initializer*>& c) override {
    if (node_.opset < 10) {
      expect_inputs(1, 1);
      if (!a.has("starts")) error("attribute 'starts' is required");
      if (!a.has("ends")) error("attribute 'ends' is required");
      set(starts_, a.get_ints("starts", {}));
      set(ends_, a.get_ints("ends", {}));
      if (a.has("axes")) set(axes_, a.get_ints("axes", {}));
      return;
    }
    expect_inputs(3, 5);
    starts_.load(node_, c, 1);
    ends_.load(node_, c, 2);
    axes_.load(node_, c, 3);
    steps_.load(node_, c, 4);
    for (const IntInput* p : {&starts_, &ends_, &axes_, &steps_})
      if (p->constant && p->shape.rank() != 1)
        error("starts, ends, axes and steps must be 1-D, got a tensor of shape ", p->shape.str());
  }

 private:
  struct Plan {
    Shape out;
    std::array<int64_t, kMaxRank> start{}, step{};
  };

  static void set(IntInput& p, std::vector<int64_t> v) {
    p.present = p.constant = true;
    p.shape = Shape{int64_t(v.size())};
    p.values = std::move(v);
  }
  bool all_constant() const {
    return starts_.constant && ends_.constant && (!axes_.present || axes_.constant) &&
           (!steps_.present || steps_.constant);
  }

  Plan plan(const Shape& x, const std::vector<int64_t>& starts, const std::vector<int64_t>& ends,
            const std::vector<int64_t>& axes_in, const std::vector<int64_t>& steps) const {
    const int r = x.rank();
    const size_t n = starts.size();
    if (ends.size() != n) error("starts has ", n, " entries but ends has ", ends.size());
    if (axes_present() && axes_in.size() != n)
      error("starts has ", n, " entries but axes has ", axes_in.size());
    if (steps_.present && steps.size() != n)
      error("starts has ", n, " entries but steps has ", steps.size());
    if (n > size_t(r)) error(n, " slices given for rank ", r);
    Plan p;
    p.out = x;
    for (int i = 0; i < r; ++i) p.step[size_t(i)] = 1;
    std::vector<bool> seen(size_t(r), false);
    for (size_t k = 0; k < n; ++k) {
      const int64_t a = axes_present() ? axes_in[k] : int64_t(k);
      if (a < 0 && node_.opset < 11)
        error("axis ", a, " is negative, which opset ", node_.opset, " does not allow");
      const int ax = normalize_axis(*this, a, r);
      if (seen[size_t(ax)]) error("axis ", a, " is repeated");
      seen[size_t(ax)] = true;
      const int64_t step = steps_.present ? steps[k] : 1;
      if (step == 0) error("step on axis ", a, " is 0");
      const int64_t d = x[ax];
      int64_t b = starts[k], e = ends[k];
      if (b < 0) b += d;  // cannot overflow: d >= 0
      if (e < 0) e += d;
      int64_t count = 0;
      if (step > 0) {
        b = std::clamp<int64_t>(b, 0, d);
        e = std::clamp<int64_t>(e, 0, d);
        if (e > b) count = (e - b - 1) / step + 1;
      } else if (d > 0) {
        b = std::clamp<int64_t>(b, 0, d - 1);
        e = std::clamp<int64_t>(e, -1, d - 1);
        const int64_t mag = step == std::numeric_limits<int64_t>::min()
                                ? std::numeric_limits<int64_t>::max()
                                : -step;
        if (b > e) count = (b - e - 1) / mag + 1;
      }
      p.out[ax] = count;
      p.start[size_t(ax)] = b;
      p.step[size_t(ax)] = step;
    }
    return p;
  }
  bool axes_present() const { return axes_.present; }

  static std::vector<int64_t> map(const Shape& x, const Plan& p) {
    const auto st = strides_of(x);
    const int r = x.rank();
    return build_map(p.out, [&](const int64_t* o) {
      int64_t off = 0;
      for (int i = 0; i < r; ++i)
        off += (p.start[size_t(i)] + o[i] * p.step[size_t(i)]) * st[size_t(i)];
      return off;
    });
  }

  IntInput starts_, ends_, axes_, steps_;
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(Slice, gradlens::Slice)
