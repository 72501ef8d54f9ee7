// Differentiable operations on tape variables, so a model can be written directly in C++
// (analytic models for axiom checks, custom heads) and get exact gradients:
//
//   Tape tape;
//   Var x = tape.input(Tensor({3}, {1.f, 2.f, 3.f}));
//   Var f = column(x, 0) * column(x, 1) + sin(column(x, 2));
//   tape.backward(f, Tensor({1}, {1.f}));      // grad(x) = [x1, x0, cos x2]
//
// Binary operations broadcast by numpy rules; gradients of broadcast operands are summed back to
// their shapes. Layers call these same functions with their own NodeInfo (name, op, bias).
// Each function's comment gives its derivative.
#pragma once
#include <vector>

#include "engine/tape.h"

namespace gradlens {

// ---- binary, broadcasting -------------------------------------------------------------------
Var add(Var a, Var b, const NodeInfo& info = {"add", "Add"});  // ∂a = g, ∂b = g
Var sub(Var a, Var b, const NodeInfo& info = {"sub", "Sub"});  // ∂a = g, ∂b = −g
Var mul(Var a, Var b, const NodeInfo& info = {"mul", "Mul"});  // ∂a = g·b, ∂b = g·a
Var div(Var a, Var b, const NodeInfo& info = {"div", "Div"});  // ∂a = g/b, ∂b = −g·a/b²
// a^b. ∂a = g·b·a^(b−1); ∂b = g·a^b·ln a (0 where a <= 0, as PyTorch where a = 0).
Var pow(Var a, Var b, const NodeInfo& info = {"pow", "Pow"});
// Elementwise min / max; at ties the gradient is split in halves (as torch.minimum/maximum).
Var minimum(Var a, Var b, const NodeInfo& info = {"min", "Min"});
Var maximum(Var a, Var b, const NodeInfo& info = {"max", "Max"});

// ---- with a float ------------------------------------------------------------------------
Var scalar(Tape& tape, float value);  // a rank-0 constant on the tape
Var pow(Var a, float p);              // ∂a = g·p·a^(p−1)
Var operator+(Var a, Var b);
Var operator-(Var a, Var b);
Var operator*(Var a, Var b);
Var operator/(Var a, Var b);
Var operator-(Var a);
Var operator+(Var a, float s);
Var operator+(float s, Var a);
Var operator-(Var a, float s);
Var operator-(float s, Var a);
Var operator*(Var a, float s);
Var operator*(float s, Var a);
Var operator/(Var a, float s);
Var operator/(float s, Var a);

// ---- unary ----------------------------------------------------------------------------------
Var neg(Var x, const NodeInfo& info = {"neg", "Neg"});          // −g
Var exp(Var x, const NodeInfo& info = {"exp", "Exp"});          // g·eˣ
Var log(Var x, const NodeInfo& info = {"log", "Log"});          // g/x
Var sqrt(Var x, const NodeInfo& info = {"sqrt", "Sqrt"});       // g/(2√x)
Var sin(Var x, const NodeInfo& info = {"sin", "Sin"});          // g·cos x
Var cos(Var x, const NodeInfo& info = {"cos", "Cos"});          // −g·sin x
Var abs(Var x, const NodeInfo& info = {"abs", "Abs"});          // g·sign x (0 at 0)
Var tanh(Var x, const NodeInfo& info = {"tanh", "Tanh"});       // g·(1 − y²)
Var sigmoid(Var x, const NodeInfo& info = {"sigmoid", "Sigmoid"});  // g·y(1 − y)
Var erf(Var x, const NodeInfo& info = {"erf", "Erf"});          // g·(2/√π)·e^(−x²)
// ln(1 + e^(βx))/β, linear (x) where βx > 20 as PyTorch. ∂ = g·σ(βx).
Var softplus(Var x, float beta = 1.f, const NodeInfo& info = {"softplus", "Softplus"});
// Rectifiers: backward follows the tape's GradRules (engine/rules.h).
Var relu(Var x, const NodeInfo& info = {"relu", "Relu"});
// clamp(x, lo, hi); with lo = 0 it is a rectifier (ReLU6) and follows the rules, otherwise
// ∂ = g·[lo < x < hi].
Var clip(Var x, float lo, float hi, const NodeInfo& info = {"clip", "Clip"});
Var leaky_relu(Var x, float alpha, const NodeInfo& info = {"leaky_relu", "LeakyRelu"});
// max(0, min(1, αx + β)); ∂ = g·α inside (0, 1).
Var hard_sigmoid(Var x, float alpha, float beta,
                 const NodeInfo& info = {"hard_sigmoid", "HardSigmoid"});
// x·hard_sigmoid(x; 1/6, 1/2); ∂ = g·(x/3 + 1/2) on (−3, 3), g above 3.
Var hard_swish(Var x, const NodeInfo& info = {"hard_swish", "HardSwish"});
Var scale(Var x, float s, const NodeInfo& info = {"scale", "Mul"});  // g·s
// Rounding: the derivative is 0 almost everywhere, so no gradient flows through them.
Var floor(Var x, const NodeInfo& info = {"floor", "Floor"});
Var ceil(Var x, const NodeInfo& info = {"ceil", "Ceil"});
Var round(Var x, const NodeInfo& info = {"round", "Round"});  // half to even, as ONNX Round
Var trunc(Var x, const NodeInfo& info = {"trunc", "Trunc"});  // toward zero (integer Div)

// ---- reductions and normalisations ---------------------------------------------------------
// Sum over `axes` (all when empty). ∂ = g broadcast back.
Var sum(Var x, std::vector<int> axes = {}, bool keepdims = false,
        const NodeInfo& info = {"sum", "ReduceSum"});
Var mean(Var x, std::vector<int> axes = {}, bool keepdims = false,
         const NodeInfo& info = {"mean", "ReduceMean"});
// y = softmax along axis. ∂ = y ⊙ (g − Σ_axis g⊙y).
Var softmax(Var x, int axis = -1, const NodeInfo& info = {"softmax", "Softmax"});
// y = x − logsumexp_axis(x). ∂ = g − softmax(x)·Σ_axis g.
Var log_softmax(Var x, int axis = -1, const NodeInfo& info = {"log_softmax", "LogSoftmax"});

// ---- linear algebra -------------------------------------------------------------------------
// numpy matmul: 1-D operands are promoted, leading (batch) axes broadcast.
// ∂a = g·bᵀ, ∂b = aᵀ·g (summed over broadcast batch axes).
Var matmul(Var a, Var b, const NodeInfo& info = {"matmul", "MatMul"});

// ---- shape ----------------------------------------------------------------------------------
Var reshape(Var x, const Shape& shape, const NodeInfo& info = {"reshape", "Reshape"});
// Elements start, start+step, ... < end along axis (step > 0).
Var slice(Var x, int axis, int64_t start, int64_t end, int64_t step = 1,
          const NodeInfo& info = {"slice", "Slice"});
Var column(Var x, int64_t i);  // slice(x, -1, i, i + 1): keeps the axis
Var concat(const std::vector<Var>& xs, int axis, const NodeInfo& info = {"concat", "Concat"});
Var transpose(Var x, const std::vector<int>& perm, const NodeInfo& info = {"transpose", "Transpose"});
Var identity(Var x, const NodeInfo& info = {"identity", "Identity"});

}  // namespace gradlens
