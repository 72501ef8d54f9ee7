#!/usr/bin/python3
"""Independent reference for gradlens's model-randomization metric (Adebayo et al. 2018,
"Sanity checks for saliency maps", section 3.1), written from the definitions in the README.

Reads tests/data/fixtures/small_cnn/model.onnx with the onnx package and runs it with its own
float64 torch interpreter (Conv, Relu, MaxPool, Constant, Pad, AveragePool, Flatten, Gemm). The
parametrised layers are its Conv and Gemm nodes, output side first; each weight tensor (W, then B)
of layer l, tensor t is re-drawn as w' = mu + sigma * z with mu and sigma the trained tensor's mean
and population standard deviation and z the normals of gradlens's generator re-implemented here
(splitmix64-seeded xoshiro256**, Box-Muller with the sine kept for the next draw) seeded by
seed * 1000003 + l * 1009 + t (mod 2^64), rounded to float32 as gradlens stores weights.

Maps: the gradient of the target logit, and guided backprop (ReLU backward max(g, 0)[x > 0]), for
the original model and after each cascading step (layers 0..l re-drawn) and each independent step
(layer l alone). Similarities per example, on A = sum_c |a_c| and S = sum_c a_c:
  spearman_abs  rho_s(A, A') with average ranks (scipy.stats.rankdata)
  spearman      rho_s(S, S')
  ssim          SSIM of A / max A and A' / max A' (tools/make_metric_references.ssim)
  hog           Pearson correlation of HOG vectors of A / max A and A' / max A': [-1, 0, 1]
                gradients (0 on the border), unsigned orientation in 9 bins of 20 degrees,
                8x8-pixel cells (magnitude sums / 64), 2x2-cell blocks at a stride of one cell, L2-Hys
  top_k         |top-k(A) & top-k(A')| / k, k = ceil(0.1 * 1024) = 103, ties to the lower index
Writes randomization_<method>_<mode>.npy: float64 [steps, 5, N] in the order above, seed 3.
Run: /usr/bin/python3 tools/make_randomization_references.py
"""
import math
import os

import numpy as np
import onnx
import onnx.numpy_helper
import scipy.stats
import torch

import make_metric_references as mmr

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "tests", "data", "fixtures", "small_cnn")
SEED = 3
TOP_K = 0.1
CELL = 8
MASK = (1 << 64) - 1


class Rng:
    """gradlens's engine/random.cpp: xoshiro256** seeded by splitmix64, Box-Muller normals."""

    def __init__(self, seed):
        x = seed & MASK
        self.s = []
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & MASK
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
            self.s.append(z ^ (z >> 31))
        self.spare = None

    def next(self):
        s = self.s
        rotl = lambda v, k: ((v << k) | (v >> (64 - k))) & MASK  # noqa: E731
        result = (rotl((s[1] * 5) & MASK, 7) * 9) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result

    def uniform(self):
        return (self.next() >> 11) * 2.0 ** -53

    def normal(self):
        if self.spare is not None:
            v, self.spare = self.spare, None
            return v
        u1, u2 = self.uniform(), self.uniform()
        while u1 <= 0.0:
            u1 = self.uniform()
        r, th = math.sqrt(-2.0 * math.log(u1)), 2.0 * math.pi * u2
        self.spare = r * math.sin(th)
        return r * math.cos(th)


def redraw(w, seed, layer, tensor):
    flat = w.astype(np.float64).ravel()
    mean = 0.0
    for v in flat:  # sequential sums, as gradlens
        mean += v
    mean /= len(flat)
    var = 0.0
    for v in flat:
        var += (v - mean) * (v - mean)
    sd = math.sqrt(var / len(flat))
    if not sd > 0:
        return w.copy()
    rng = Rng(seed * 1000003 + layer * 1009 + tensor)
    return np.array([mean + sd * rng.normal() for _ in range(len(flat))]).astype(np.float32).reshape(w.shape)


class GuidedRelu(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g.clamp(min=0) * (x > 0).to(g.dtype)


def attr(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def run(graph, weights, x, guided):
    """Float64 forward of the small_cnn graph."""
    env = {graph.input[0].name: x}
    env.update({k: torch.from_numpy(v.astype(np.float64)) for k, v in weights.items()})
    for n in graph.node:
        i = [env[k] if k else None for k in n.input]
        op = n.op_type
        if op == "Conv":
            p = attr(n, "pads", [0, 0, 0, 0])
            assert p[:2] == p[2:]
            y = torch.nn.functional.conv2d(i[0], i[1], i[2], stride=attr(n, "strides"), padding=p[:2],
                                           dilation=attr(n, "dilations", [1, 1]), groups=attr(n, "group", 1))
        elif op == "Relu":
            y = GuidedRelu.apply(i[0]) if guided else torch.relu(i[0])
        elif op == "MaxPool":
            y = torch.nn.functional.max_pool2d(i[0], attr(n, "kernel_shape"), attr(n, "strides"))
        elif op == "Constant":
            y = torch.from_numpy(onnx.numpy_helper.to_array(attr(n, "value")).copy())
        elif op == "Pad":
            pads = i[1].tolist()
            assert not any(pads), "only the all-zero Pad of small_cnn"
            y = i[0]
        elif op == "AveragePool":
            y = torch.nn.functional.avg_pool2d(i[0], attr(n, "kernel_shape"), attr(n, "strides"))
        elif op == "Flatten":
            y = i[0].flatten(attr(n, "axis", 1))
        elif op == "Gemm":
            assert attr(n, "transB") == 1 and attr(n, "alpha", 1.0) == 1.0 and attr(n, "beta", 1.0) == 1.0
            y = i[0] @ i[1].T + i[2]
        else:
            raise ValueError(op)
        env[n.output[0]] = y
    return env[graph.output[0].name]


def maps(graph, weights, x, target, guided):
    p = x.clone().requires_grad_(True)
    out = run(graph, weights, p, guided)
    (g,) = torch.autograd.grad(out.gather(1, target.view(-1, 1)).sum(), p)
    return g.numpy()


def hog(m):
    H, W = m.shape
    gy, gx = np.zeros_like(m), np.zeros_like(m)
    gy[1:-1, :] = m[2:, :] - m[:-2, :]
    gx[:, 1:-1] = m[:, 2:] - m[:, :-2]
    mag = np.hypot(gy, gx)
    theta = np.mod(np.degrees(np.arctan2(gy, gx)), 180.0)
    bins = np.minimum((theta / 20.0).astype(int), 8)
    cy, cx = H // CELL, W // CELL
    cells = np.zeros((cy, cx, 9))
    for y in range(cy * CELL):
        for x in range(cx * CELL):
            if mag[y, x] > 0:
                cells[y // CELL, x // CELL, bins[y, x]] += mag[y, x]
    cells /= CELL * CELL
    out = []
    for by in range(cy - 1):
        for bx in range(cx - 1):
            v = cells[by:by + 2, bx:bx + 2].ravel()
            v = v / np.sqrt((v ** 2).sum() + 1e-10)
            v = np.minimum(v, 0.2)
            out.append(v / np.sqrt((v ** 2).sum() + 1e-10))
    return np.concatenate(out)


def pearson(a, b):
    da, db = a - a.mean(), b - b.mean()
    saa, sbb = (da ** 2).sum(), (db ** 2).sum()
    if saa <= 0 or sbb <= 0:
        return 1.0 if saa <= 0 and sbb <= 0 else 0.0
    return (da * db).sum() / math.sqrt(saa * sbb)


def spearman(a, b):
    return pearson(scipy.stats.rankdata(a.ravel()), scipy.stats.rankdata(b.ravel()))


def top_k(a, b, k):
    ta = set(np.argsort(-a.ravel(), kind="stable")[:k])
    tb = set(np.argsort(-b.ravel(), kind="stable")[:k])
    return len(ta & tb) / k


def scaled(a):
    return a / a.max() if a.max() > 0 else a


def similarities(orig, new):
    A, A2 = np.abs(orig).sum(axis=0), np.abs(new).sum(axis=0)
    S, S2 = orig.sum(axis=0), new.sum(axis=0)
    k = math.ceil(TOP_K * A.size)
    return [spearman(A, A2), spearman(S, S2), mmr.ssim(scaled(A), scaled(A2)),
            pearson(hog(scaled(A)), hog(scaled(A2))), top_k(A, A2, k)]


def main():
    model = onnx.load(os.path.join(FIXTURE, "model.onnx"))
    g = model.graph
    weights = {t.name: onnx.numpy_helper.to_array(t).copy() for t in g.initializer}
    learned = {"Conv": [1, 2], "Gemm": [1, 2]}
    layers = [[n.input[k] for k in learned[n.op_type] if k < len(n.input) and n.input[k] in weights]
              for n in reversed(g.node) if n.op_type in learned]
    print("layers, output side first:", [n.name for n in reversed(g.node) if n.op_type in learned])
    x = torch.from_numpy(np.load(os.path.join(FIXTURE, "input.npy")).astype(np.float64))
    target = torch.from_numpy(np.load(os.path.join(FIXTURE, "target.npy")).astype(np.int64))
    redrawn = {}
    for l, names in enumerate(layers):
        for t, name in enumerate(names):
            redrawn[name] = redraw(weights[name], SEED, l, t)
    for method, guided in (("gradient", False), ("guided-backprop", True)):
        orig = maps(g, weights, x, target, guided)
        for mode in ("cascading", "independent"):
            steps = []
            for l in range(len(layers)):
                chosen = range(l + 1) if mode == "cascading" else [l]
                w = dict(weights)
                for c in chosen:
                    for name in layers[c]:
                        w[name] = redrawn[name]
                new = maps(g, w, x, target, guided)
                steps.append(np.array([similarities(orig[n], new[n]) for n in range(len(x))]).T)
            out = np.array(steps)
            np.save(os.path.join(FIXTURE, f"randomization_{method}_{mode}.npy"), out)
            print(method, mode, "\n", np.round(out, 4))


if __name__ == "__main__":
    main()
