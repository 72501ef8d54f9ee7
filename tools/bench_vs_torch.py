#!/usr/bin/python3
"""gradlens against plain PyTorch: the same methods on the same models, alternating runs.

Builds four seeded models (torchvision resnet18 without weights at 224² batch 1; a VGG-style
3×32×32 net, a tiny 1×28×28 CNN and an MLP at batch 32), exports each to ONNX (dynamic batch,
opset 13) in a temporary directory, then, per model, thread count and round, alternates
`gradlens bench MODEL.onnx --json` and a PyTorch subprocess computing the same thing, and prints
median times (over rounds, each round's own median), ratios and peak resident memory of each
process. The PyTorch side implements the methods from their formulas, as Captum computes them:

  forward          model(x) under no_grad                       gradlens: bench "forward"
  forward+grad     ∂y_0/∂x, one backward to the input            gradlens: bench "forward_backward"
  saliency         |∂y_c/∂x| (Captum Saliency, abs=True)         gradlens --methods saliency
  grad-cam         ReLU(Σ_k mean(∂y_c/∂A_k)·A_k) at the last     gradlens --methods grad-cam (its
                   4-D activation (Captum LayerGradCam)          default layer, layer resolution)
  integrated-      (x − 0) ⊙ Σ_i w_i ∂y_c/∂x(α_i x), Gauss-      gradlens --methods integrated-gradients
  gradients        Legendre α, w (Captum's default), 50 steps,   --steps 50 (rows per pass: gradlens'
                   rows in batches of internal_batch_size        default 32, or --rows)
  smoothgrad       mean over 50 draws of ∂y_c/∂x at x + ε,       gradlens --methods smoothgrad
                   ε ~ N(0, (0.15·(max − min))²) per example,    --samples 50
                   signed; the same row batches

The PyTorch side runs IG and SmoothGrad with each of a few internal batch sizes and keeps the
fastest, as a Captum user would. Before timing, a check runs gradlens explain and the PyTorch
formulas on the tiny CNN and the MLP (gradient, saliency, integrated gradients) and reports the
relative L2 distance of the attribution arrays (must be ≤ 1e-4), so both sides do equal work.

    nice -n -20 /usr/bin/python3 tools/bench_vs_torch.py --gradlens build/gradlens --threads 1,2
    /usr/bin/python3 tools/bench_vs_torch.py --quick --models tiny_cnn,mlp
    /usr/bin/python3 tools/bench_vs_torch.py --batch-sweep vgg_small --threads 2
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn

METHODS = ["passes", "saliency", "grad-cam", "integrated-gradients", "smoothgrad"]


# ---------------------------------------------------------------------------------------------
# Models (seeded; the worker subprocesses rebuild them from the same seed)

class VggSmall(nn.Module):
    """Four VGG blocks (conv3×3-ReLU-conv3×3-ReLU-maxpool2), 32→2 pixels, then a linear head."""

    def __init__(self):
        super().__init__()
        layers, c = [], 3
        for width in (32, 64, 128, 128):
            layers += [nn.Conv2d(c, width, 3, padding=1), nn.ReLU(), nn.Conv2d(width, width, 3, padding=1),
                       nn.ReLU(), nn.MaxPool2d(2)]
            c = width
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(128 * 2 * 2, 10))

    def forward(self, x):
        return self.head(self.features(x))


class TinyCnn(nn.Module):
    """1×28×28: conv(1→8)-ReLU-pool-conv(8→16)-ReLU-pool-GAP-linear(16→10), 1418 parameters."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3),
                                      nn.ReLU(), nn.MaxPool2d(2))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10))

    def forward(self, x):
        return self.head(self.features(x))


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))

    def forward(self, x):
        return self.net(x)


def resnet18():
    import torchvision
    return torchvision.models.resnet18(weights=None)


# name → (constructor, input shape without batch, default batch, internal batch sizes to try)
MODELS = {
    "resnet18": (resnet18, (3, 224, 224), 1, [10, 25, 50]),
    "vgg_small": (VggSmall, (3, 32, 32), 32, [32, 256, 1600]),
    "tiny_cnn": (TinyCnn, (1, 28, 28), 32, [32, 256, 1600]),
    "mlp": (Mlp, (784,), 32, [32, 256, 1600]),
}


def build(name):
    torch.manual_seed(12)
    return MODELS[name][0]().eval()


def example_input(name, batch):
    g = torch.Generator().manual_seed(1)
    return torch.rand((batch,) + MODELS[name][1], generator=g)


def last_4d_module(m, name, batch):
    """The module producing the last 4-D activation (Grad-CAM's layer; gradlens' default too)."""
    found = []
    hooks = [mod.register_forward_hook(lambda mod, i, o: found.append(mod) if o.dim() == 4 and o.shape[-1] > 1 else None)
             for mod in m.modules() if len(list(mod.children())) == 0]
    with torch.no_grad():
        m(example_input(name, batch))
    for h in hooks:
        h.remove()
    return found[-1] if found else None


def export(name, directory):
    m = build(name)
    path = os.path.join(directory, name + ".onnx")
    torch.onnx.export(m, example_input(name, 1), path, opset_version=13, input_names=["input"],
                      output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    return path


# ---------------------------------------------------------------------------------------------
# The methods in plain PyTorch (target class: 0 for every example, as gradlens bench)

def input_grad(m, rows, target):
    rows = rows.detach().requires_grad_(True)
    y = m(rows)
    return torch.autograd.grad(y[torch.arange(len(rows)), target].sum(), rows)[0]


def chunked_grad(m, rows, target, chunk):
    return torch.cat([input_grad(m, rows[i:i + chunk], target[i:i + chunk]) for i in range(0, len(rows), chunk)])


def integrated_gradients(m, x, target, steps, chunk):
    # Captum's default rule: Gauss-Legendre nodes on [0, 1]; zero baseline; rows step-major.
    nodes, weights = np.polynomial.legendre.leggauss(steps)
    alphas = torch.tensor(0.5 * (nodes + 1), dtype=x.dtype)
    w = torch.tensor(0.5 * weights, dtype=x.dtype)
    n = len(x)
    rows = torch.cat([a * x for a in alphas])
    g = chunked_grad(m, rows, target.repeat(steps), chunk).view(steps, n, *x.shape[1:])
    return x * torch.einsum("s,s...->...", w, g)


def smoothgrad(m, x, target, samples, chunk, generator):
    n = len(x)
    span = (x.view(n, -1).amax(1) - x.view(n, -1).amin(1)).view(n, *[1] * (x.dim() - 1))
    noise = torch.randn((samples,) + tuple(x.shape), generator=generator) * (0.15 * span)
    rows = (x.unsqueeze(0) + noise).view(samples * n, *x.shape[1:])
    return chunked_grad(m, rows, target.repeat(samples), chunk).view(samples, *x.shape).mean(0)


def grad_cam(m, layer, x, target):
    saved = {}
    h = layer.register_forward_hook(lambda mod, i, o: saved.__setitem__("a", o))
    y = m(x)
    h.remove()
    a = saved["a"]
    g = torch.autograd.grad(y[torch.arange(len(x)), target].sum(), a)[0]
    return torch.relu((g.mean((2, 3), keepdim=True) * a).sum(1, keepdim=True))


def timed(fn, repeat):
    fn()  # warm-up
    ms = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ms), min(ms)


def worker(spec):
    """One PyTorch measurement in its own process (so ru_maxrss is this method's peak)."""
    torch.set_num_threads(spec["threads"])
    m = build(spec["model"])
    x = example_input(spec["model"], spec["batch"])
    target = torch.zeros(len(x), dtype=torch.long)
    method, repeat, chunk = spec["method"], spec["repeat"], spec.get("chunk")
    out = {}
    if method == "passes":
        def forward():
            with torch.no_grad():
                m(x)
        out["forward"] = timed(forward, repeat)
        out["forward_backward"] = timed(lambda: input_grad(m, x, target), repeat)
    elif method == "saliency":
        out[method] = timed(lambda: input_grad(m, x, target).abs(), repeat)
    elif method == "grad-cam":
        layer = last_4d_module(m, spec["model"], 1)
        out[method] = timed(lambda: grad_cam(m, layer, x, target), repeat)
    elif method == "integrated-gradients":
        out[method] = timed(lambda: integrated_gradients(m, x, target, spec["steps"], chunk), repeat)
    elif method == "smoothgrad":
        g = torch.Generator().manual_seed(0)
        out[method] = timed(lambda: smoothgrad(m, x, target, spec["samples"], chunk, g), repeat)
    print(json.dumps({k: {"median_ms": v[0], "min_ms": v[1]} for k, v in out.items()} | {"peak_rss_bytes": peak_rss()}))


def peak_rss():
    """This process's peak resident memory: VmHWM (its own address space since exec). ru_maxrss
    would include the driver's size: a child spawned by vfork inherits the parent's high-water mark."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run_torch(spec):
    env = dict(os.environ, OMP_NUM_THREADS=str(spec["threads"]))
    p = subprocess.run([sys.executable, __file__, "--worker", json.dumps(spec)], capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.exit(f"PyTorch worker failed for {spec}:\n{p.stderr}")
    return json.loads(p.stdout)


def run_gradlens(exe, onnx, method, batch, threads, repeat, args):
    cmd = [exe, "bench", onnx, "--json", "--batch", str(batch), "--threads", str(threads), "--repeat", str(repeat),
           "--rows", str(args.rows), "--peak-size", "1024" if method == "passes" else "0",
           "--methods", "" if method == "passes" else method]
    if method == "integrated-gradients":
        cmd += ["--steps", str(args.steps)]
    if method == "smoothgrad":
        cmd += ["--samples", str(args.samples)]
    p = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS=str(threads)))
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{p.stderr}")
    return json.loads(p.stdout)


# ---------------------------------------------------------------------------------------------
# The check: equal work (the attribution arrays agree)

def rel_l2(a, b):
    return float(np.linalg.norm(a.astype(np.float64) - b) / max(np.linalg.norm(b.astype(np.float64)), 1e-30))


def check(exe, directory, onnx, steps):
    lines, ok = [], True
    for name in ("tiny_cnn", "mlp"):
        m = build(name)
        x = example_input(name, 4)
        target = torch.tensor([0, 3, 5, 7])
        xpath = os.path.join(directory, name + "_check_x.npy")
        np.save(xpath, x.numpy())
        refs = {"gradient": input_grad(m, x, target),
                "saliency": input_grad(m, x, target).abs(),
                "integrated-gradients": integrated_gradients(m, x, target, steps, 32)}
        for method, ref in refs.items():
            out = os.path.join(directory, f"{name}_{method}.npy")
            cmd = [exe, "explain", onnx[name], xpath, "--method", method, "--target", "0,3,5,7", "--out-npy", out]
            if method == "integrated-gradients":
                cmd += ["--steps", str(steps)]
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode != 0:
                sys.exit(f"{' '.join(cmd)} failed:\n{p.stderr}")
            d = rel_l2(np.load(out), ref.detach().numpy())
            ok &= d <= 1e-4
            lines.append(f"  {name:9s} {method:21s} relative L2 {d:.2e} {'ok' if d <= 1e-4 else 'FAILED (> 1e-4)'}")
    return ok, lines


# ---------------------------------------------------------------------------------------------

def measure(exe, onnx, model, batch, threads, method, args):
    """Alternating rounds of one (model, batch, threads, method); per side: median over rounds of
    each round's median, min over all runs, peak RSS (for PyTorch: of the fastest chunk size)."""
    chunks = MODELS[model][3] if method in ("integrated-gradients", "smoothgrad") else [None]
    if args.quick:
        chunks = chunks[:1] if model != "resnet18" else chunks[-1:]
    keys = ["forward", "forward_backward"] if method == "passes" else [method]
    gl = {k: [] for k in keys}
    tc = {(k, c): [] for k in keys for c in chunks}
    gl_rss, tc_rss, gl_json = [], {c: [] for c in chunks}, None
    for r in range(args.rounds):
        def gradlens_side():
            nonlocal gl_json
            j = run_gradlens(exe, onnx, method, batch, threads, args.repeat, args)
            gl_json = gl_json or j
            for k in keys:
                t = j[k] if method == "passes" else j["methods"][k]
                gl[k].append((t["median_ms"], t["min_ms"]))
            gl_rss.append(j["peak_rss_bytes"])

        def torch_side():
            for c in chunks:
                j = run_torch({"model": model, "batch": batch, "threads": threads, "method": method,
                               "repeat": args.repeat, "chunk": c, "steps": args.steps, "samples": args.samples})
                for k in keys:
                    tc[(k, c)].append((j[k]["median_ms"], j[k]["min_ms"]))
                tc_rss[c].append(j["peak_rss_bytes"])

        for side in ((gradlens_side, torch_side) if r % 2 == 0 else (torch_side, gradlens_side)):
            side()
    rows = []
    for k in keys:
        g_med = statistics.median(t[0] for t in gl[k])
        g_min = min(t[1] for t in gl[k])
        best = min(chunks, key=lambda c: statistics.median(t[0] for t in tc[(k, c)]))
        t_med = statistics.median(t[0] for t in tc[(k, best)])
        t_min = min(t[1] for t in tc[(k, best)])
        rows.append({"model": model, "batch": batch, "threads": threads, "method": k, "gradlens_ms": g_med,
                     "gradlens_min_ms": g_min, "torch_ms": t_med, "torch_min_ms": t_min, "chunk": best,
                     "ratio": g_med / t_med, "gradlens_rss": max(gl_rss), "torch_rss": max(tc_rss[best]),
                     "json": gl_json})
    return rows


def fmt_ms(ms):
    return f"{ms / 1e3:.2f} s" if ms >= 1e3 else f"{ms:.2f} ms" if ms < 10 else f"{ms:.1f} ms"


def print_table(rows):
    head = ["model", "batch", "T", "method", "gradlens (min)", "PyTorch (min)", "chunk", "ratio", "RSS gradlens",
            "RSS PyTorch"]
    body = [[r["model"], str(r["batch"]), str(r["threads"]), r["method"],
             f"{fmt_ms(r['gradlens_ms'])} ({fmt_ms(r['gradlens_min_ms'])})",
             f"{fmt_ms(r['torch_ms'])} ({fmt_ms(r['torch_min_ms'])})", "" if r["chunk"] is None else str(r["chunk"]),
             f"{r['ratio']:.2f}", f"{r['gradlens_rss'] / 2**20:.0f} MiB", f"{r['torch_rss'] / 2**20:.0f} MiB"]
            for r in rows]
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head)]
    for line in [head] + body:
        print("  ".join(c.ljust(w) if i < 4 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths))).rstrip())
    sys.stdout.flush()


def macs_text(macs):
    return f"{macs / 1e9:.3f} GMACs" if macs >= 1e9 else f"{macs / 1e6:.3f} MMACs"


def print_gflops(rows):
    for r in rows:
        if r["method"] != "forward":
            continue
        j = r["json"]
        f, fb, p = j["forward"], j["forward_backward"], j["gemm_peak"]
        print(f"  {r['model']:9s} batch {r['batch']:2d}, {r['threads']} thread{'s' if r['threads'] > 1 else ''}: {macs_text(j['macs'])}; forward "
              f"{f['gflops']:.1f} GFLOP/s (best {f['gflops_best']:.1f}, {100 * f['peak_fraction']:.0f} % of peak), "
              f"forward + input gradient {fb['gflops']:.1f} (best {fb['gflops_best']:.1f}); gemm() 1024³ peak "
              f"{p['gflops']:.1f} GFLOP/s ({p['gflops_1_thread']:.1f} on 1 thread)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=__doc__.split("\n", 2)[2],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gradlens", default="build/gradlens", help="the gradlens executable")
    ap.add_argument("--models", default=",".join(MODELS), help="comma-separated, from " + ",".join(MODELS))
    ap.add_argument("--methods", default=",".join(METHODS), help="comma-separated, from " + ",".join(METHODS)
                    + " (passes = forward and forward + input gradient)")
    ap.add_argument("--threads", default="2", help="thread counts, e.g. 1,2")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds per measurement")
    ap.add_argument("--repeat", type=int, default=5, help="timed runs per call after a warm-up")
    ap.add_argument("--steps", type=int, default=50, help="integrated gradients steps")
    ap.add_argument("--samples", type=int, default=50, help="SmoothGrad samples")
    ap.add_argument("--rows", type=int, default=32, help="gradlens rows per forward/backward (bench --rows)")
    ap.add_argument("--batch-sweep", metavar="MODEL", help="instead: time vs batch (1, 8, 32) for one model")
    ap.add_argument("--quick", action="store_true", help="1 round, 2 runs, one chunk size: a smoke run")
    ap.add_argument("--no-check", action="store_true", help="skip the equal-work check")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(json.loads(args.worker))
    if args.quick:
        args.rounds, args.repeat = 1, 2
    exe = os.path.abspath(args.gradlens)
    if not os.access(exe, os.X_OK):
        sys.exit(f"--gradlens: {exe} is not an executable (build it first: cmake --build build)")
    models = [args.batch_sweep] if args.batch_sweep else args.models.split(",")
    methods = args.methods.split(",")
    for name in models:
        if name not in MODELS:
            sys.exit(f"--models: unknown model '{name}' (known: {', '.join(MODELS)})")
    for name in methods:
        if name not in METHODS:
            sys.exit(f"--methods: unknown method '{name}' (known: {', '.join(METHODS)})")
    threads = [int(t) for t in args.threads.split(",")]

    with tempfile.TemporaryDirectory(prefix="bench_vs_torch_") as directory:
        needed = set(models) | ({"tiny_cnn", "mlp"} if not args.no_check else set())
        onnx = {name: export(name, directory) for name in sorted(needed)}
        print(f"PyTorch {torch.__version__}, {os.cpu_count()} CPUs, gradlens {exe}; {args.rounds} alternating "
              f"rounds of {args.repeat} runs after a warm-up; times: median over rounds of each call's median (min "
              f"over all runs); ratio = gradlens / PyTorch medians; chunk = PyTorch's fastest internal batch size")
        if not args.no_check:
            ok, lines = check(exe, directory, onnx, args.steps)
            print(f"equal-work check (gradlens explain vs the PyTorch formulas, float32): {'passed' if ok else 'FAILED'}")
            print("\n".join(lines))
            if not ok:
                sys.exit(1)
        rows = []
        batches = [1, 8, 32] if args.batch_sweep else None
        for name in models:
            for t in threads:
                for b in batches or [MODELS[name][2]]:
                    for method in methods:
                        if method == "grad-cam" and len(MODELS[name][1]) != 3:
                            continue  # no 4-D activation
                        rows += measure(exe, onnx[name], name, b, t, method, args)
        print()
        print_table(rows)
        print("\nGFLOP/s (forward 2·MACs, forward + input gradient 4·MACs; best = from the min time):")
        print_gflops(rows)


if __name__ == "__main__":
    main()
