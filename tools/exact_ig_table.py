#!/usr/bin/python3
"""The README's table of quadrature errors against exact integrated gradients.

For each model, runs `gradlens explain --method integrated-gradients` once with `--rule exact` and
once per quadrature rule and step count, and prints (Markdown) the relative L2 error
||A_rule - A_exact|| / ||A_exact|| over the whole batch, and the linear segments per example.

Models: the small_cnn fixture (its two inputs and targets, the committed dark-noise baseline
path_baseline.npy), the mlp fixture (zero baseline), and the shipped demo model on its first two
images (tools/demo/images.npy, zero baseline, the predicted class; about 3 minutes per image for the
exact run on two cores).

Run from the repository root after building:  /usr/bin/python3 tools/exact_ig_table.py [build/gradlens]
"""

import json
import os
import subprocess
import sys
import tempfile

import numpy as np

RULES = ["riemann-left", "riemann-right", "riemann-middle", "riemann-trapezoid", "gauss-legendre"]
STEPS = [8, 16, 32, 64, 128]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(ROOT, "tests", "data", "fixtures", "small_cnn")
MLP = os.path.join(ROOT, "tests", "data", "fixtures", "mlp")
DEMO = os.path.join(ROOT, "tools", "demo")


def targets(d):
    return ",".join(str(int(t)) for t in np.load(os.path.join(d, "target.npy")))


MODELS = [
    ("small_cnn fixture (2 inputs, dark-noise baseline)", os.path.join(FIXTURE, "model.onnx"),
     os.path.join(FIXTURE, "input.npy"),
     ["--baseline", os.path.join(FIXTURE, "path_baseline.npy"), "--target", targets(FIXTURE)]),
    ("mlp fixture (2 inputs, zero baseline)", os.path.join(MLP, "model.onnx"), os.path.join(MLP, "input.npy"),
     ["--baseline", "zero", "--target", targets(MLP)]),
    ("demo model (first 2 images, zero baseline, predicted class)", os.path.join(DEMO, "fashion_cnn.onnx"),
     "first-two", ["--baseline", "zero"]),
]


def run(cli, model, inputs, extra, out):
    cmd = [cli, "explain", model, inputs, "--method", "integrated-gradients", "--out-npy", out, "--json"] + extra
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return np.load(out).astype(np.float64), json.loads(done.stdout)


def main():
    cli = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "gradlens")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "a.npy")
        first_two = os.path.join(tmp, "demo2.npy")
        np.save(first_two, np.load(os.path.join(DEMO, "images.npy"))[:2])
        for title, model, inputs, extra in MODELS:
            inputs = first_two if inputs == "first-two" else inputs
            exact, info = run(cli, model, inputs, extra + ["--rule", "exact"], out)
            segments = [int(s) for s in find(info, "segments")]
            gaps = [abs(g) for g in find(info, "completeness_gap")]
            print(f"\n{title}: segments per example {segments}; exact's largest |completeness gap| "
                  f"{max(gaps):.1e}\n")
            print("| rule | " + " | ".join(f"{s} steps" for s in STEPS) + " |")
            print("|---|" + "---|" * len(STEPS))
            for rule in RULES:
                errors = []
                for steps in STEPS:
                    a, _ = run(cli, model, inputs, extra + ["--rule", rule, "--steps", str(steps)], out)
                    errors.append(np.linalg.norm(a - exact) / np.linalg.norm(exact))
                print(f"| {rule} | " + " | ".join(f"{e:.1e}" for e in errors) + " |")


def find(j, key):
    """The per-example array `key` wherever the JSON keeps it."""
    if isinstance(j, dict):
        if key in j and isinstance(j[key], list):
            return j[key]
        for v in j.values():
            r = find(v, key)
            if r is not None:
                return r
    if isinstance(j, list):
        for v in j:
            r = find(v, key)
            if r is not None:
                return r
    return None


if __name__ == "__main__":
    main()
