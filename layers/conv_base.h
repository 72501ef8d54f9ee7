// What Conv and ConvTranspose share: the window attributes and group, the constant weight W
// (4-D, non-empty, the grouped axis divisible by `group`, matching kernel_shape) and the
// optional constant bias B (one per output channel, kept as [M, 1, 1] so it broadcasts to the
// output and is reported as NodeInfo::bias for FullGrad), and recording the output with the
// inputs that are present, the layer's input-only backward and, when the layer has one, its
// tangent (the convolution of ẋ without bias: linear in x, no curvature term).
#pragma once
#include <string>

#include "engine/hessian.h"
#include "layers/layer.h"
#include "layers/pool_geometry.h"

namespace gradlens {

class ConvBase : public Layer {
 protected:
  // Reads auto_pad/pads/strides/dilations/kernel_shape and group.
  void parse_window_and_group(AttributeReader& reader) {
    WindowAttributeSet set;
    set.kernel_required = false;
    set.ceil_mode = false;
    window_ = read_window_attributes(reader, *this, set);
    group_ = reader.get_int("group", 1);
    if (group_ < 1) error("group must be >= 1, got ", group_);
  }

  // W from input 1 and B from input 2. `layout` names W's axes for messages; axis 0 is the one
  // split into groups (`grouped` names it); `out_channels` is M as it follows from W.
  void read_weights(const std::vector<const Initializer*>& constants, const char* layout,
                    const char* grouped, int64_t (*out_channels)(const Tensor& w, int64_t group)) {
    const Tensor& w = constant_input(constants, 1, "weight W").value;
    if (w.rank() != 4)
      error("weight W must be 4-D ", layout, " (only 2-D is supported), got ", w.shape().str());
    for (int i = 0; i < 4; ++i)
      if (w.dim(i) < 1) error("weight W has an empty axis: ", w.shape().str());
    if (w.dim(0) % group_ != 0)
      error(grouped, " ", w.dim(0), " (weight W ", w.shape().str(), ") are not divisible by group ",
            group_);
    if (!window_.kernel.empty() && (window_.kernel[0] != w.dim(2) || window_.kernel[1] != w.dim(3)))
      error("kernel_shape ", format_ints(window_.kernel), " does not match weight W ", w.shape().str());
    weight_ = w.owning() ? w : w.clone();
    const int64_t m = out_channels(w, group_);
    if (node_.inputs.size() > 2 && !node_.inputs[2].empty()) {
      const Tensor& b = constant_input(constants, 2, "bias B").value;
      if (b.rank() != 1 || b.dim(0) != m)
        error("bias B must have shape [", m, "] (one per output channel), got ", b.shape().str());
      bias_ = Tensor(Shape{m, 1, 1});
      bias_.copy_from(b);
    }
  }

  // Records y on the tape with the given (present) inputs; backward() gives the input gradient.
  Var record_output(Tape& tape, const std::vector<Var>& in, const Tensor& y) const {
    Var inputs[3];
    int count = 0;
    for (const Var& v : in)
      if (v.valid() && count < 3) inputs[count++] = v;
    TangentFn tangent_rule;
    if (has_tangent()) tangent_rule = [this](TangentContext& ctx) { tangent(ctx); };
    return tape.record(info(0, bias_.empty() ? nullptr : &bias_), inputs, count, y,
                       [this](BackwardContext& ctx) { backward(ctx); }, std::move(tangent_rule));
  }
  virtual void backward(BackwardContext& ctx) const = 0;
  virtual bool has_tangent() const { return false; }
  virtual void tangent(TangentContext&) const {}

  WindowAttributes window_;
  int64_t group_ = 1;
  Tensor weight_;
  Tensor bias_;  // [M, 1, 1], empty without B
};

}  // namespace gradlens
