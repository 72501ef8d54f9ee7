// Einsum (ONNX operators §Einsum, opset 12), explicit labels only: equation "ij,jk->ik" (output
// term optional: implicit mode outputs the labels that occur exactly once, sorted alphabetically);
// letters are labels, spaces are ignored, a label repeated within one term takes that operand's
// diagonal. Ellipsis ("...") broadcasting is not supported and is rejected.
//   y[out labels] = Σ over the other labels of Π_k x_k[labels of term k]
// Backward for operand k: ∂x_k[labels of k] = Σ over the other labels of g[out] · Π_{j≠k} x_j
// (zero off the diagonal for a repeated label).
// Both are one contraction kernel: parallel over the elements it writes, a sequential odometer
// over the summed labels with double accumulation, so results do not depend on the thread count.
// Cost is the product of all label extents per contraction (no GEMM): meant for the small
// contractions exporters emit, not for large matrix products.
#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "engine/parallel.h"
#include "layers/layer.h"

namespace gradlens {

namespace {

constexpr int kMaxLabels = 52;
constexpr int kMaxFactors = 9;  // operands + the output gradient

struct Factor {
  const float* data = nullptr;
  std::array<int64_t, kMaxLabels> stride{};  // per label (summed over repeats), 0 when absent
};

// target[Σ l∈outer idx_l·target_stride_l] = Σ_{inner} Π_f factor_f[...], outer and inner are
// label lists with extents; every outer index writes its own target element.
void contract(const std::vector<int>& outer, const std::vector<int>& inner,
              const std::array<int64_t, kMaxLabels>& extent,
              const std::array<int64_t, kMaxLabels>& target_stride, float* target,
              const std::vector<Factor>& factors) {
  int64_t outer_count = 1, inner_count = 1;
  for (int l : outer) outer_count *= extent[size_t(l)];
  for (int l : inner) inner_count *= extent[size_t(l)];
  const size_t nf = factors.size();
  parallel_for(outer_count, [&](int64_t o) {
    std::array<int64_t, kMaxFactors> base{};
    int64_t t = 0, rem = o;
    for (size_t p = outer.size(); p-- > 0;) {
      const size_t l = size_t(outer[p]);
      const int64_t i = rem % extent[l];
      rem /= extent[l];
      t += i * target_stride[l];
      for (size_t f = 0; f < nf; ++f) base[f] += i * factors[f].stride[l];
    }
    std::array<int64_t, kMaxLabels> idx{};
    std::array<int64_t, kMaxFactors> off = base;
    double acc = 0;
    for (int64_t n = 0; n < inner_count; ++n) {
      double prod = 1;
      for (size_t f = 0; f < nf; ++f) prod *= factors[f].data[off[f]];
      acc += prod;
      // Odometer step over the inner labels, last fastest.
      for (size_t p = inner.size(); p-- > 0;) {
        const size_t l = size_t(inner[p]);
        if (++idx[p] < extent[l]) {
          for (size_t f = 0; f < nf; ++f) off[f] += factors[f].stride[l];
          break;
        }
        idx[p] = 0;
        for (size_t f = 0; f < nf; ++f) off[f] -= (extent[l] - 1) * factors[f].stride[l];
      }
    }
    target[t] = float(acc);
  }, 16);
}

}  // namespace

class Einsum : public Layer {
 public:
  std::vector<Shape> infer(const std::vector<Shape>& in) const override {
    std::array<int64_t, kMaxLabels> extent;
    return {output_shape(in, extent)};
  }

  void forward(Tape& tape, const std::vector<Var>& in, std::vector<Var>& out) const override {
    std::vector<Shape> shapes;
    for (const Var& v : in) shapes.push_back(v.shape());
    std::array<int64_t, kMaxLabels> extent;
    const Shape ys = output_shape(shapes, extent);
    Tensor y = tape.alloc(ys);
    std::vector<Factor> factors;
    for (size_t k = 0; k < in.size(); ++k) factors.push_back(factor(k, in[k].value()));
    contract(output_, inner_of(output_), extent, strides_of(output_, ys), y.data(), factors);
    out[0] = tape.record(info(), in.data(), int(in.size()), y,
                         [this](BackwardContext& ctx) { backward(ctx); });
  }

 protected:
  void parse(AttributeReader& a, const std::vector<const Initializer*>&) override {
    std::string eq;
    for (char ch : a.get_string("equation", "")) if (ch != ' ') eq += ch;
    if (eq.empty()) error("attribute 'equation' is required");
    if (eq.find("...") != std::string::npos)
      error("equation '", eq, "': ellipsis broadcasting is not supported");
    const size_t arrow = eq.find("->");
    const std::string lhs = eq.substr(0, arrow);
    std::vector<int> count(kMaxLabels, 0);
    terms_.assign(1, {});
    for (char ch : lhs) {
      if (ch == ',') {
        terms_.emplace_back();
        continue;
      }
      const int l = label(ch, eq);
      terms_.back().push_back(l);
      ++count[size_t(l)];
    }
    if (terms_.size() != node_.inputs.size())
      error("equation '", eq, "' has ", terms_.size(), " input terms but the node has ",
            node_.inputs.size(), " inputs");
    if (terms_.size() + 1 > size_t(kMaxFactors))
      error("at most ", kMaxFactors - 1, " operands are supported, got ", terms_.size());
    for (size_t k = 0; k < node_.inputs.size(); ++k)
      if (node_.inputs[k].empty()) error("input ", k, " is missing");
    output_.clear();
    if (arrow == std::string::npos) {
      for (int l = 0; l < kMaxLabels; ++l)
        if (count[size_t(l)] == 1) output_.push_back(l);
      std::sort(output_.begin(), output_.end(), [](int p, int q) { return letter(p) < letter(q); });
    } else {
      for (char ch : eq.substr(arrow + 2)) {
        const int l = label(ch, eq);
        if (count[size_t(l)] == 0)
          error("equation '", eq, "': output label '", ch, "' does not occur in any input");
        if (std::find(output_.begin(), output_.end(), l) != output_.end())
          error("equation '", eq, "': output label '", ch, "' is repeated");
        output_.push_back(l);
      }
    }
    used_.clear();
    for (int l = 0; l < kMaxLabels; ++l)
      if (count[size_t(l)] > 0) used_.push_back(l);
  }

 private:
  static char letter(int l) { return char(l < 26 ? 'a' + l : 'A' + (l - 26)); }
  int label(char ch, const std::string& eq) const {
    if (ch >= 'a' && ch <= 'z') return ch - 'a';
    if (ch >= 'A' && ch <= 'Z') return 26 + (ch - 'A');
    error("equation '", eq, "': '", ch, "' is not a label (letters a-z, A-Z)");
  }

  // Output shape; fills the extent of every label and checks the operands against the terms.
  Shape output_shape(const std::vector<Shape>& in, std::array<int64_t, kMaxLabels>& extent) const {
    if (in.size() != terms_.size())
      error("expected ", terms_.size(), " inputs, got ", in.size());
    extent.fill(-1);
    for (size_t k = 0; k < in.size(); ++k) {
      const std::vector<int>& term = terms_[k];
      if (size_t(in[k].rank()) != term.size())
        error("input ", k, " has shape ", in[k].str(), " but its term has ", term.size(),
              " labels");
      for (size_t p = 0; p < term.size(); ++p) {
        int64_t& e = extent[size_t(term[p])];
        if (e >= 0 && e != in[k][int(p)])
          error("label '", letter(term[p]), "' has extent ", e, " and ", in[k][int(p)],
                " (input ", k, " shape ", in[k].str(), ")");
        e = in[k][int(p)];
      }
    }
    Shape s;
    for (int l : output_) s.push_back(extent[size_t(l)]);
    return s;
  }

  // Used labels not in `labels`.
  std::vector<int> inner_of(const std::vector<int>& labels) const {
    std::vector<int> inner;
    for (int l : used_)
      if (std::find(labels.begin(), labels.end(), l) == labels.end()) inner.push_back(l);
    return inner;
  }

  // Strides per label of a tensor of shape s whose axes carry `labels` (repeats summed).
  static std::array<int64_t, kMaxLabels> strides_of(const std::vector<int>& labels, const Shape& s) {
    std::array<int64_t, kMaxLabels> st{};
    int64_t stride = 1;
    for (size_t p = labels.size(); p-- > 0;) {
      st[size_t(labels[p])] += stride;
      stride *= s[int(p)];
    }
    return st;
  }

  Factor factor(size_t k, const Tensor& t) const {
    Factor f;
    f.data = t.data();
    f.stride = strides_of(terms_[k], t.shape());
    return f;
  }

  void backward(BackwardContext& ctx) const {
    std::vector<Shape> shapes;
    for (int k = 0; k < ctx.num_inputs(); ++k) shapes.push_back(ctx.input(k).shape());
    std::array<int64_t, kMaxLabels> extent;
    output_shape(shapes, extent);
    Factor g;
    g.data = ctx.grad_output().data();
    g.stride = strides_of(output_, ctx.grad_output().shape());
    for (size_t k = 0; k < terms_.size(); ++k) {
      if (!ctx.needs_grad(int(k))) continue;
      std::vector<int> outer;  // the unique labels of term k
      for (int l : terms_[k])
        if (std::find(outer.begin(), outer.end(), l) == outer.end()) outer.push_back(l);
      std::vector<Factor> factors{g};
      for (size_t j = 0; j < terms_.size(); ++j)
        if (j != k) factors.push_back(factor(j, ctx.input(int(j))));
      const Shape& xs = ctx.input(int(k)).shape();
      Tensor dx = ctx.alloc_zeroed(xs);  // zero off the diagonal of repeated labels
      contract(outer, inner_of(outer), extent, strides_of(terms_[k], xs), dx.data(), factors);
      ctx.accumulate_fresh(int(k), dx);
    }
  }

  std::vector<std::vector<int>> terms_;
  std::vector<int> output_, used_;
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(Einsum, gradlens::Einsum)
