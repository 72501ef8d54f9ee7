#!/usr/bin/python3
"""Independent references for gradlens's evaluation metrics, written from the papers' formulas.

On the small_cnn fixture (rebuilt in float64 from tools/make_fixtures.py's registry, as
tools/make_path_references.py does) with its committed gradient map ref_gradient.npy as the
attribution, explained class target.npy, and the model's softmax probabilities as the score:

  metric_mask.npy                    [2, 32, 32] float32 ground-truth masks: rectangles placed so that
                                     example 0 is a pointing-game hit and example 1 a miss by 4 px
  metric_<name>.npy                  [2] float64 per-example values of the metric, with:
    pointing-game        tolerance 3 px (Zhang et al. 2018)
    energy-pointing-game positive energy share in the mask (Wang et al. 2020)
    relevance-mass-accuracy, relevance-rank-accuracy  pooling sum,pos (Arras et al. 2022)
    wsl-iou              threshold 0.2, largest 8-connected component (scipy.ndimage.label)
    wsl-iou_smooth       the same on metric_smooth_map.npy (blurred |gradient|, written here)
    ssim                 SSIM (Wang et al. 2004, scikit-image defaults) of the two examples' maps, and
                         of example 0's map with its smooth map (random-logit's similarity)
    sparseness, complexity   Gini of |a|, entropy of |a|/sum|a| (Chalasani / Bhatt et al. 2020)
    deletion             16 steps, zero removal, trapezoid AUC (Petsiuk et al. 2018)
    insertion            16 steps, start = 11x11 sigma-5 Gaussian blur with zero padding (Petsiuk)
    abpc                 16 steps, zero removal: AUC(LeRF) - AUC(MoRF)
    aopc                 8x8 patches, 10 regions, mean-per-channel removal (Samek et al. 2017)
    road                 4 fractions (20..80 %), noise 0: imputed by scipy.sparse.linalg.spsolve
    average-drop, increase-in-confidence, average-drop-in-deletion   seed 003 eq. 42-44 with
                         a = max(m, 0) / max m
Run: /usr/bin/python3 tools/make_metric_references.py
"""
import os
import sys

import numpy as np
import scipy.ndimage
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_path_references as mpr  # noqa: E402


def probs(m, images, target):
    with torch.no_grad():
        p = torch.softmax(m(torch.from_numpy(images)), dim=1).numpy()
    return p[:, target]


def pixel_map(a):  # [C, H, W] -> [H, W], channel sum
    return a.astype(np.float64).sum(axis=0)


def curve(m, x, end, order, steps, target):
    C, H, W = x.shape
    images, cur = [], x.copy().reshape(C, -1)
    endf = end.reshape(C, -1)
    P = len(order)
    moved = 0
    for k in range(steps + 1):
        upto = k * P // steps
        for g in order[moved:upto]:
            cur[:, g] = endf[:, g]
        moved = upto
        images.append(cur.reshape(C, H, W).copy())
    return probs(m, np.stack(images), target)


def auc(y):
    return (y[:-1] + y[1:]).sum() / 2 / (len(y) - 1)


def blur(x):  # Petsiuk et al.'s gkern(11, 5) with padding 5, per channel
    k = np.exp(-0.5 * (np.arange(11) - 5.0) ** 2 / 25.0)
    k2 = np.outer(k, k)
    k2 /= k2.sum()
    w = torch.from_numpy(k2)[None, None].repeat(x.shape[0], 1, 1, 1)
    return torch.nn.functional.conv2d(torch.from_numpy(x)[None], w, padding=5, groups=x.shape[0])[0].numpy()


def road_impute(img, removed):
    """Rong et al. 2022's noisy linear imputation without the noise: per channel, the removed values
    solve sum_j w_ij (x_i - x_j) = 0 over in-image neighbours (1/6 direct, 1/12 diagonal); scipy spsolve."""
    import scipy.sparse
    import scipy.sparse.linalg
    C, H, W = img.shape
    unknown = np.flatnonzero(removed.ravel())
    slot = -np.ones(H * W, int)
    slot[unknown] = np.arange(len(unknown))
    nb = [(-1, 0, 1 / 6), (1, 0, 1 / 6), (0, -1, 1 / 6), (0, 1, 1 / 6),
          (-1, -1, 1 / 12), (-1, 1, 1 / 12), (1, -1, 1 / 12), (1, 1, 1 / 12)]
    rows, cols, vals = [], [], []
    b = np.zeros((len(unknown), C))
    flat = img.reshape(C, -1)
    for u, p in enumerate(unknown):
        y, x = divmod(p, W)
        for dy, dx, w in nb:
            yy, xx = y + dy, x + dx
            if 0 <= yy < H and 0 <= xx < W:
                rows.append(u), cols.append(u), vals.append(w)
                q = yy * W + xx
                if slot[q] >= 0:
                    rows.append(u), cols.append(slot[q]), vals.append(-w)
                else:
                    b[u] += w * flat[:, q]
    A = scipy.sparse.csr_matrix((vals, (rows, cols)), shape=(len(unknown), len(unknown)))
    out = flat.copy()
    for c in range(C):
        out[c, unknown] = scipy.sparse.linalg.spsolve(A.tocsc(), b[:, c])
    return out.reshape(C, H, W)


def ssim(a, b):
    """Wang et al. 2004 eq. 13 with scikit-image's defaults: 7x7 uniform windows over the valid
    region, sample covariances, C1 = (0.01 L)^2, C2 = (0.03 L)^2, L = the larger max - min."""
    L = max(a.max() - a.min(), b.max() - b.min()) or 1.0
    c1, c2 = (0.01 * L) ** 2, (0.03 * L) ** 2
    win = np.lib.stride_tricks.sliding_window_view
    wa, wb = win(a, (7, 7)).reshape(-1, 49), win(b, (7, 7)).reshape(-1, 49)
    ma, mb = wa.mean(1), wb.mean(1)
    va, vb = wa.var(1, ddof=1), wb.var(1, ddof=1)
    cab = ((wa - ma[:, None]) * (wb - mb[:, None])).sum(1) / 48
    return (((2 * ma * mb + c1) * (2 * cab + c2)) / ((ma ** 2 + mb ** 2 + c1) * (va + vb + c2))).mean()


def gini(v):
    v = np.sort(np.abs(v.ravel()))
    d = len(v)
    k = np.arange(1, d + 1)
    return ((2 * k - d - 1) * v).sum() / (d * v.sum())


def entropy(v):
    p = np.abs(v.ravel()) / np.abs(v).sum()
    p = p[p > 0]
    return -(p * np.log(p)).sum()


def largest_box(on):
    labels, count = scipy.ndimage.label(on, structure=np.ones((3, 3)))
    sizes = [(labels == i).sum() for i in range(1, count + 1)]
    best = 1 + int(np.argmax(sizes))  # first label of the largest size (labels follow row-major scan)
    ys, xs = np.nonzero(labels == best)
    return xs.min(), ys.min(), xs.max() + 1, ys.max() + 1


def iou(a, b):
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(w, 0) * max(h, 0)
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def main():
    m, x_t, target, d = mpr.rebuild("small_cnn")
    x = x_t.numpy()
    a = np.load(os.path.join(d, "ref_gradient.npy")).astype(np.float64)
    N, C, H, W = x.shape
    # Example 0's mask holds the map's maximum (a hit); example 1's nearest pixel is 4 px below
    # its maximum (a miss at tolerance 3).
    masks = np.zeros((N, H, W), np.float32)
    for n in range(N):
        py, px = np.unravel_index(np.argmax(pixel_map(a[n])), (H, W))
        if n == 0:
            masks[n, max(py - 3, 0):py + 12, max(px - 3, 0):px + 12] = 1
        else:
            masks[n, py + 4:py + 14, max(px - 2, 0):px + 8] = 1
    np.save(os.path.join(d, "metric_mask.npy"), masks)
    out = {k: [] for k in ["pointing-game", "energy-pointing-game", "relevance-mass-accuracy",
                           "relevance-rank-accuracy", "wsl-iou", "sparseness", "complexity", "deletion",
                           "insertion", "abpc", "aopc", "average-drop", "increase-in-confidence",
                           "average-drop-in-deletion", "road"]}
    for n in range(N):
        mp = pixel_map(a[n])
        gt = masks[n] > 0
        t = int(target[n])
        py, px = np.unravel_index(np.argmax(mp), mp.shape)
        yy, xx = np.mgrid[0:H, 0:W]
        out["pointing-game"].append(float(np.any(gt & ((yy - py) ** 2 + (xx - px) ** 2 <= 9))))
        pos = np.maximum(mp, 0)
        out["energy-pointing-game"].append(pos[gt].sum() / pos.sum())
        out["relevance-mass-accuracy"].append(pos[gt].sum() / pos.sum())
        K = int(gt.sum())
        top = np.argsort(-pos.ravel(), kind="stable")[:K]
        out["relevance-rank-accuracy"].append(gt.ravel()[top].sum() / K)
        ys, xs = np.nonzero(gt)
        gt_box = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
        out["wsl-iou"].append(iou(largest_box(mp >= 0.2 * mp.max()), gt_box))
        out["sparseness"].append(gini(a[n]))
        out["complexity"].append(entropy(a[n]))
        morf = np.argsort(-mp.ravel(), kind="stable")
        lerf = np.argsort(mp.ravel(), kind="stable")
        zero = np.zeros_like(x[n])
        dm = curve(m, x[n], zero, [[g] for g in morf], 16, t)
        dl = curve(m, x[n], zero, [[g] for g in lerf], 16, t)
        out["deletion"].append(auc(dm))
        out["insertion"].append(auc(curve(m, blur(x[n]), x[n], [[g] for g in morf], 16, t)))
        out["abpc"].append(auc(dl) - auc(dm))
        patches = [[y * W + xq for y in range(y0, min(y0 + 8, H)) for xq in range(x0, min(x0 + 8, W))]
                   for y0 in range(0, H, 8) for x0 in range(0, W, 8)]
        rel = np.array([mp.ravel()[p].sum() for p in patches])
        ranked = [patches[i] for i in np.argsort(-rel, kind="stable")[:10]]
        mean = np.broadcast_to(x[n].reshape(C, -1).mean(axis=1)[:, None, None], x[n].shape).copy()
        y = curve(m, x[n], mean, ranked, 10, t)
        out["aopc"].append((y[0] - y).sum() / 11)
        fr = 4
        ys_road = []
        for order in (morf, lerf):
            imgs = []
            for k in range(1, fr + 1):
                removed = np.zeros(H * W, bool)
                removed[order[:k * H * W // (fr + 1)]] = True
                imgs.append(road_impute(x[n].astype(np.float64), removed.reshape(H, W)))
            ys_road.append(probs(m, np.stack(imgs), t).mean())
        out["road"].append(ys_road[1] - ys_road[0])
        w = pos / pos.max()
        f = probs(m, np.stack([x[n], w * x[n], (1 - w) * x[n]]), t)
        out["average-drop"].append(100 * max(0.0, f[0] - f[1]) / f[0])
        out["increase-in-confidence"].append(100.0 if f[0] < f[1] else 0.0)
        out["average-drop-in-deletion"].append(100 * (f[0] - f[2]) / f[0])
    # WSL on a smooth map (the gradient maps' components are specks): the blurred |gradient|,
    # saved as float32 and read back, so both sides threshold the same numbers.
    smooth = np.stack([blur(np.abs(a[n])) for n in range(N)]).astype(np.float32)
    np.save(os.path.join(d, "metric_smooth_map.npy"), smooth)
    out["wsl-iou_smooth"] = []
    for n in range(N):
        mp = pixel_map(smooth[n])
        ys, xs = np.nonzero(masks[n] > 0)
        out["wsl-iou_smooth"].append(iou(largest_box(mp >= 0.2 * mp.max()), (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)))
    # SSIM of the two examples' channel-summed gradient maps, and of example 0's with its blur.
    out["ssim"] = [ssim(pixel_map(a[0]), pixel_map(a[1])), ssim(pixel_map(a[0]), pixel_map(smooth[0]))]
    for k, v in out.items():
        np.save(os.path.join(d, f"metric_{k}.npy"), np.array(v, np.float64))
        print(f"{k:26s} {v}")


if __name__ == "__main__":
    main()
