// Forward-mode sweep of a recorded forward: the tangents ẏ = J ẋ of every node along one input
// direction, in tape order from ẋ = direction (each node's TangentFn, recorded beside its
// backward). Hessian-vector products (hessian.h) run it with the curvature terms S_x that the
// rules add while they compute ẏ; exact integrated gradients (attribution/linear_pieces.h) run it
// alone and watch each node's values and tangents to find where its linear piece ends.
// A node reached by a tangent whose op has no TangentFn fails naming the op and node; nodes
// recorded without a backward (non-differentiable outputs) get a zero tangent.
#pragma once
#include <vector>

#include "engine/tape.h"

namespace gradlens {

class TangentSweep;

// What a node's TangentFn (and a TangentObserver) sees: values, input tangents ẋ_k (empty when
// zero), the node's gradient g_y from a preceding backward (empty when none reached it).
class TangentContext {
 public:
  const NodeInfo& info() const;
  const Tensor& output() const;
  const Tensor& grad_output() const;
  int num_inputs() const;
  const Tensor& input(int k) const;
  const Tensor& input_tangent(int k) const;
  bool has_tangent(int k) const { return !input_tangent(k).empty(); }
  // ẏ once the rule has set it (empty before, and for nodes without a rule).
  const Tensor& output_tangent() const;
  bool differentiable() const;  // recorded with a backward (and so given a tangent)
  // ẋ_k, or a zero tensor of input k's shape when it has none.
  Tensor input_tangent_or_zero(int k);

  Tensor alloc(const Shape& shape) { return tape_.alloc(shape); }
  Tensor alloc_zeroed(const Shape& shape) { return tape_.alloc_zeroed(shape); }
  // Sets ẏ (the output's shape; tape memory or a view of it, adopted as is).
  void set_tangent(const Tensor& t);
  // ġ(input k) += s, s shaped like input k (copied, may alias anything); ignored by a sweep that
  // keeps no curvature.
  void add_curvature(int k, const Tensor& s);

 private:
  friend class TangentSweep;
  TangentContext(TangentSweep& sweep, Tape& tape, int32_t node) : sweep_(sweep), tape_(tape), node_(node) {}
  int32_t input_id(int k) const;
  TangentSweep& sweep_;
  Tape& tape_;
  int32_t node_;
};

// Watches a sweep node by node (read-only).
class TangentObserver {
 public:
  virtual ~TangentObserver() = default;
  // A node that a tangent reaches, before its rule runs; also nodes without a backward, which get
  // no tangent. May throw to refuse the node.
  virtual void reached(const TangentContext&) {}
  // After the rule of a differentiable node has set its tangent.
  virtual void computed(const TangentContext&) {}
};

class TangentSweep {
 public:
  // Tangents from `input` (ẋ = direction, its shape) through `output`, after a forward; with
  // curvature, also the terms S_x (Hessian-vector products). Its tensors live in the tape's
  // arena: valid until the tape's next backward or reset.
  TangentSweep(Tape& tape, Var input, const Tensor& direction, Var output, bool curvature = false,
               TangentObserver* observer = nullptr);
  TangentSweep(const TangentSweep&) = delete;
  TangentSweep& operator=(const TangentSweep&) = delete;

  // Owning copy of ẏ(v); zeros when none.
  Tensor tangent(Var v) const;

 private:
  friend class TangentContext;
  friend class HessianVector;
  Tape& tape_;
  bool curvature_enabled_;
  std::vector<Tensor> tangent_, curvature_;  // by node id; empty: zero
};

}  // namespace gradlens
