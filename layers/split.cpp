// Split (ONNX operators §Split, opsets 1/2/11/13/18): cuts x along `axis` (default 0; negative
// counts from the end from opset 11) into one piece per output. The piece lengths are `split`
// (opset 1: input 1 or the attribute; opsets 2-12: the attribute; from 13: the optional input 1,
// constant or runtime), which must sum to the axis' extent; without it the axis is divided
// equally (it must divide evenly). Opset 18 adds `num_outputs` (equal to the number of outputs):
// pieces of ⌈d/num_outputs⌉, the last one smaller; from 18 either `split` or `num_outputs` is
// required.
// Backward: each output's gradient goes to its slice of ∂x. Folded exactly for integer x.
#include "engine/ops.h"
#include "layers/shape_util.h"

namespace gradlens {

class Split : public Layer {
 public:
  std::vector<Shape> infer(const std::vector<Shape>& in) const override {
    if (in.empty()) error("expected an input");
    if (split_.present && !split_.constant) error("the split is computed at run time");
    const Shape& x = in[0];
    const int ax = axis(x);
    std::vector<Shape> out;
    for (int64_t len : lengths(x, split_.values)) {
      Shape s = x;
      s[ax] = len;
      out.push_back(s);
    }
    return out;
  }

  void forward(Tape&, const std::vector<Var>& in, std::vector<Var>& out) const override {
    const Shape& x = in[0].shape();
    const int ax = axis(x);
    const std::vector<int64_t> lens =
        lengths(x, split_.present ? split_.get(in, 1) : std::vector<int64_t>{});
    int64_t offset = 0;
    for (size_t k = 0; k < lens.size(); ++k) {
      if (!node_.outputs[k].empty())
        out[k] = slice(in[0], ax, offset, offset + lens[k], 1, info(int(k)));
      offset += lens[k];
    }
  }

  std::vector<Initializer> fold(const std::vector<const Initializer*>& in) const override {
    const Shape& x = in[0]->value.shape();
    const int ax = axis(x);
    const auto st = strides_of(x);
    std::vector<Initializer> result;
    int64_t offset = 0;
    for (int64_t len : lengths(x, split_.values)) {
      Shape s = x;
      s[ax] = len;
      result.push_back(fold_map(*in[0], s, build_map(s, [&](const int64_t* o) {
                                  int64_t off = offset * st[size_t(ax)];
                                  for (int i = 0; i < x.rank(); ++i) off += o[i] * st[size_t(i)];
                                  return off;
                                })));
      offset += len;
    }
    return result;
  }

 protected:
  void parse(AttributeReader& a, const std::vector<const Initializer*>& c) override {
    axis_ = a.get_int("axis", 0);
    if (axis_ < 0 && node_.opset < 11)
      error("axis ", axis_, " is negative, which opset ", node_.opset, " does not allow");
    if (node_.outputs.empty()) error("expected at least 1 output");
    if (node_.opset < 2) {
      expect_inputs(1, 2);
      split_.load(node_, c, 1);
      if (a.has("split")) {
        if (split_.present) error("split is given both as an input and an attribute");
        set_split(a.get_ints("split", {}));
      }
    } else if (node_.opset < 13) {
      expect_inputs(1, 1);
      if (a.has("split")) set_split(a.get_ints("split", {}));
    } else {
      expect_inputs(1, 2);
      split_.load(node_, c, 1);
    }
    if (node_.opset >= 18) {
      has_num_outputs_ = a.has("num_outputs");
      const int64_t n = a.get_int("num_outputs", 0);
      if (has_num_outputs_ && split_.present)
        error("split and num_outputs are both given; exactly one is allowed");
      if (!has_num_outputs_ && !split_.present)
        error("either the split input or the attribute 'num_outputs' is required");
      if (has_num_outputs_ && n != int64_t(node_.outputs.size()))
        error("num_outputs is ", n, " but the node has ", node_.outputs.size(), " outputs");
    }
    if (split_.constant && split_.shape.rank() != 1)
      error("split must be 1-D, got a tensor of shape ", split_.shape.str());
  }

 private:
  void set_split(std::vector<int64_t> v) {
    split_.present = split_.constant = true;
    split_.shape = Shape{int64_t(v.size())};
    split_.values = std::move(v);
  }
  int axis(const Shape& x) const {
    if (x.rank() == 0) error("cannot split a scalar");
    return normalize_axis(*this, axis_, x.rank());
  }
  std::vector<int64_t> lengths(const Shape& x, const std::vector<int64_t>& split) const {
    const int64_t d = x[axis(x)];
    const int64_t n = int64_t(node_.outputs.size());
    if (split_.present) {
      if (int64_t(split.size()) != n)
        error("split has ", split.size(), " entries for ", n, " outputs");
      int64_t total = 0;
      for (int64_t s : split) {
        if (s < 0 || s > d) error("split length ", s, " is out of range for an axis of ", d);
        total += s;
      }
      if (total != d) error("split lengths sum to ", total, ", the axis has ", d, " elements");
      return split;
    }
    if (has_num_outputs_) {  // opset 18: ceil-sized pieces, the last one smaller
      const int64_t piece = (d + n - 1) / n;
      std::vector<int64_t> lens;
      int64_t left = d;
      for (int64_t k = 0; k < n; ++k) {
        lens.push_back(std::min(piece, left));
        left -= lens.back();
      }
      if (n > 1 && piece * (n - 1) >= d && d > 0)
        error("cannot split an axis of ", d, " into ", n, " non-empty pieces of ", piece);
      return lens;
    }
    if (d % n != 0) error("cannot split an axis of ", d, " into ", n, " equal pieces");
    return std::vector<int64_t>(size_t(n), d / n);
  }

  int64_t axis_ = 0;
  bool has_num_outputs_ = false;
  IntInput split_;
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(Split, gradlens::Split)
