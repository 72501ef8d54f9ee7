// Transpose (ONNX operators §Transpose, opsets 1/13/21): permutes the axes, output axis j being
// input axis perm[j]; `perm` defaults to the reversed axes and must be a permutation of
// 0..rank−1.
// Backward: g permuted back by the inverse permutation. Folded exactly for integer x.
#include "engine/ops.h"
#include "layers/shape_util.h"

namespace gradlens {

class Transpose : public Layer {
 public:
  std::vector<Shape> infer(const std::vector<Shape>& in) const override {
    if (in.empty()) error("expected 1 input, got 0");
    const std::vector<int> p = perm(in[0].rank());
    Shape out;
    for (int a : p) out.push_back(in[0][a]);
    return {out};
  }

  void forward(Tape&, const std::vector<Var>& in, std::vector<Var>& out) const override {
    out[0] = transpose(in[0], perm(in[0].shape().rank()), info());
  }

  std::vector<Initializer> fold(const std::vector<const Initializer*>& in) const override {
    const Shape& xs = in[0]->value.shape();
    const std::vector<int> p = perm(xs.rank());
    const Shape os = infer({xs})[0];
    const auto st = strides_of(xs);
    return {fold_map(*in[0], os, build_map(os, [&](const int64_t* o) {
                       int64_t off = 0;
                       for (size_t j = 0; j < p.size(); ++j) off += o[j] * st[size_t(p[j])];
                       return off;
                     }))};
  }

 protected:
  void parse(AttributeReader& a, const std::vector<const Initializer*>&) override {
    expect_inputs(1, 1);
    has_perm_ = a.has("perm");
    perm_ = a.get_ints("perm", {});
  }

 private:
  std::vector<int> perm(int r) const {
    std::vector<int> p;
    if (!has_perm_) {
      for (int i = r - 1; i >= 0; --i) p.push_back(i);
      return p;
    }
    if (int(perm_.size()) != r) error("perm has ", perm_.size(), " entries for rank ", r);
    std::vector<bool> seen(size_t(r), false);
    for (int64_t v : perm_) {
      if (v < 0 || v >= r || seen[size_t(v)])
        error("perm is not a permutation of 0..", r - 1);
      seen[size_t(v)] = true;
      p.push_back(int(v));
    }
    return p;
  }

  bool has_perm_ = false;
  std::vector<int64_t> perm_;
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(Transpose, gradlens::Transpose)
