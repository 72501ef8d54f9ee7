#!/usr/bin/python3
"""Exact integrated gradients of a piecewise-linear fixture model, in float64 PyTorch, by dense
sampling and bisection of the activation pattern -- independent of gradlens's tangent-based walk
(attribution/linear_pieces.h).

Along the straight path x' + t (x - x'), the pattern of a ReLU network (the sign of every ReLU's
input, the arg-max of every max-pool window) is constant on each linear piece, and so is the
gradient. The path [0, 1] is cut into GRID cells; a cell whose two ends have the same pattern is one
piece, otherwise it is bisected (all open intervals of a level in one batch) until the ends agree or
the interval is shorter than 1e-10 (an unresolved interval weighs at most 1e-10 of the path). Then

    IG = (x - x') * sum_k (b_{k+1} - b_k) grad f(x' + m_k (x - x')),   m_k the middle of piece k,

with the gradient by torch autograd in float64. Pieces are counted after merging neighbours with
equal patterns (ties at exact breakpoints aside).

Writes, for small_cnn (baseline: the committed path_baseline.npy, the target: target.npy) or the
fixture named as the first argument (its path_baseline.npy, else zero), into its folder:
  path_ig_exact.npy            [N, ...] float64 (small_cnn: [2, 3, 32, 32])
  path_ig_exact_segments.npy   [N] float64: pieces per example

Run with Debian's /usr/bin/python3:  /usr/bin/python3 tools/make_exact_ig_references.py [small_cnn|mlp]
"""

import hashlib
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_path_references as mpr  # noqa: E402

GRID = 4096
SMALLEST = 1e-10
BATCH = 2048


def patterns(m, points):
    """Per row of points: a digest of the activation pattern."""
    parts = []

    def relu_hook(module, inputs, output):
        parts.append((inputs[0] > 0).reshape(inputs[0].shape[0], -1).to(torch.int64))

    def pool_hook(module, inputs, output):
        _, idx = F.max_pool2d(inputs[0], module.kernel_size, module.stride, module.padding, module.dilation,
                              module.ceil_mode, return_indices=True)
        parts.append(idx.reshape(idx.shape[0], -1))

    hooks = []
    for mod in m.modules():
        if isinstance(mod, nn.ReLU):
            hooks.append(mod.register_forward_hook(relu_hook))
        elif isinstance(mod, nn.MaxPool2d):
            hooks.append(mod.register_forward_hook(pool_hook))
        elif isinstance(mod, (nn.Sigmoid, nn.Tanh, nn.GELU, nn.Softmax)):
            raise SystemExit(f"{type(mod).__name__}: not piecewise linear")
    out = []
    with torch.no_grad():
        for s in range(0, points.shape[0], BATCH):
            parts.clear()
            m(points[s:s + BATCH])
            rows = torch.cat(parts, dim=1).numpy()
            out.extend(hashlib.sha1(r.tobytes()).digest() for r in rows)
    for h in hooks:
        h.remove()
    return out


def exact_ig(m, x, xb, target):
    d = x - xb

    def at(ts):
        t = torch.tensor(ts, dtype=torch.float64).view(-1, *([1] * (x.dim() - 1)))
        return xb + t * d

    grid = [i / GRID for i in range(GRID + 1)]
    pat = dict(zip(grid, patterns(m, at(grid))))
    pieces, open_ = [], []
    for a, b in zip(grid[:-1], grid[1:]):
        (pieces if pat[a] == pat[b] else open_).append((a, b))
    while open_:
        mids = [0.5 * (a + b) for a, b in open_]
        pat.update(zip(mids, patterns(m, at(mids))))
        nxt = []
        for (a, b), c in zip(open_, mids):
            for lo, hi in ((a, c), (c, b)):
                (pieces if pat[lo] == pat[hi] or hi - lo < SMALLEST else nxt).append((lo, hi))
        open_ = nxt
    pieces.sort()
    mids = [0.5 * (a + b) for a, b in pieces]
    weights = torch.tensor([b - a for a, b in pieces], dtype=torch.float64)
    total = torch.zeros_like(x[0])
    for s in range(0, len(mids), BATCH):
        g, _ = mpr.grads(m, at(mids[s:s + BATCH]), target.repeat(len(mids[s:s + BATCH])))
        total += (weights[s:s + BATCH].view(-1, *([1] * (x.dim() - 1))) * g).sum(dim=0)
    # Pieces: runs of equal patterns. The slivers (< SMALLEST) left by bisection at a breakpoint are
    # skipped, not compared: a sliver on the far side of a change would hide it.
    mid_patterns = patterns(m, at(mids))
    kept = [k for k in range(len(pieces)) if pieces[k][1] - pieces[k][0] >= SMALLEST]
    count = 1 + sum(1 for a, b in zip(kept, kept[1:]) if mid_patterns[a] != mid_patterns[b])
    return (d[0] * total), count


def main():
    name = sys.argv[1] if len(sys.argv) > 1 else "small_cnn"
    m, x, target, d = mpr.rebuild(name)
    file = os.path.join(d, "path_baseline.npy")
    xb = torch.from_numpy(np.load(file)).double() if os.path.exists(file) else torch.zeros_like(x)
    out, counts = [], []
    for n in range(x.shape[0]):
        ig, count = exact_ig(m, x[n:n + 1], xb[n:n + 1], target[n:n + 1])
        fx = mpr.scores(m, x[n:n + 1], target[n:n + 1]).item()
        fb = mpr.scores(m, xb[n:n + 1], target[n:n + 1]).item()
        print(f"{name} example {n}: {count} pieces, sum IG {ig.sum().item():.12g}, "
              f"f(x) - f(x') {fx - fb:.12g}")
        out.append(ig.numpy())
        counts.append(count)
    np.save(os.path.join(d, "path_ig_exact.npy"), np.ascontiguousarray(np.stack(out).astype("<f8")))
    np.save(os.path.join(d, "path_ig_exact_segments.npy"), np.asarray(counts, dtype="<f8"))


if __name__ == "__main__":
    main()
