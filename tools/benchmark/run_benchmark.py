#!/usr/bin/python3
"""Runs `gradlens evaluate` for every attribution method on the localisation benchmark
(tools/benchmark: fashion_canvas_cnn.onnx and its 200 canvases with masks) and on the demo model
(tools/demo/fashion_cnn.onnx, its 10 images), and writes the README's tables to
tools/benchmark/results.md.

  canvases: the true class explained and scored (--target = the labels, as TorchRay's pointing
            game explains the ground-truth class); pointing-game (15 px), energy-pointing-game, wsl-iou (and its localisation accuracy:
            IoU >= 0.5; the class is right by construction here), deletion (zero removal) and insertion (blur start), 10 steps,
            softmax probability of the explained (predicted) class
  demo:     deletion, insertion, abpc, aopc (4x4 patches, 20 regions, mean removal),
            average-drop, increase-in-confidence, average-drop-in-deletion,
            faithfulness-correlation, infidelity (--normalize true: scale-free, comparable across methods)
Every method runs with its default parameters; methods whose maps are not input- or layer-shaped
(integrated-hessians) are left out. Values are means over the examples with 95% CIs.
Run:  /usr/bin/python3 tools/benchmark/run_benchmark.py [path/to/gradlens]
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CLI = sys.argv[1] if len(sys.argv) > 1 and __name__ == "__main__" else os.path.join(ROOT, "build", "gradlens")


def evaluate(args):
    r = subprocess.run([CLI, "evaluate", *args, "--json", "--quiet"], capture_output=True, text=True)
    if r.returncode != 0:
        return None, r.stderr.strip()
    return json.loads(r.stdout), None


def cell(result, key="mean"):
    lo, hi = result["ci95" + key[4:]]
    return f"{result[key]:.3f} ± {(hi - lo) / 2:.3f}"


def table(model, inputs, metrics, extra, methods, on_row=lambda rows: None):
    rows, skipped = [], []
    for m in methods:
        out, err = evaluate([model, inputs, "--methods", m, "--metrics", ",".join(metrics), *extra])
        if out is None:
            skipped.append(f"{m}: {err}")
            continue
        by = {r["metric"]: r for r in out["results"]}
        row = [m]
        for k in metrics:
            row.append(cell(by[k]))
            if k == "wsl-iou":
                row.append(cell(by[k], "mean.localised"))
        rows.append(row)
        print(" | ".join(row), flush=True)
        on_row(rows)
    return rows, skipped


def markdown(header, rows):
    s = "| " + " | ".join(header) + " |\n|" + "---|" * len(header) + "\n"
    return s + "".join("| " + " | ".join(r) + " |\n" for r in rows)


def main():
    listed = json.loads(subprocess.run([CLI, "methods", "--json"], capture_output=True, text=True, check=True).stdout)
    methods = [m["name"] for m in listed if m["output"] in ("input-shaped", "layer map [N,1,h,w]")]
    demo_metrics = ["deletion", "insertion", "abpc", "aopc", "average-drop", "increase-in-confidence",
                    "average-drop-in-deletion", "faithfulness-correlation", "infidelity"]
    demo_rows, demo_skipped = table(os.path.join(ROOT, "tools", "demo", "fashion_cnn.onnx"),
                                    os.path.join(ROOT, "tools", "demo", "images.npy"), demo_metrics,
                                    ["--steps", "20", "--patch", "4", "--regions", "20", "--removal", "mean", "--normalize", "true"], methods)
    loc_rows, loc_skipped = [], []

    def write(rows):  # rewritten after every method, so a long run leaves a complete file
        with open(os.path.join(HERE, "results.md"), "w") as f:
            f.write(f"Localisation benchmark: {N_CANVASES} canvases (tools/benchmark), 10 deletion/insertion steps, "
                    "mean ± 95% CI half-width\n\n")
            f.write(markdown(["method", "pointing game", "energy PG", "WSL IoU", "WSL loc. acc.", "deletion ↓",
                              "insertion ↑"], rows))
            f.write("\nDemo model (tools/demo/fashion_cnn.onnx, 10 images; 20 steps, removal = each image's mean, "
                    "AOPC 4x4 patches, 20 regions, infidelity with --normalize true), mean ± 95% CI half-width\n\n")
            f.write(markdown(["method", "deletion ↓", "insertion ↑", "ABPC ↑", "AOPC ↑", "AD ↓", "IC ↑", "ADD ↑",
                              "faith. corr. ↑", "infidelity ↓"], demo_rows))
            for s in loc_skipped + demo_skipped:
                f.write(f"\nskipped: {s}\n")

    with tempfile.TemporaryDirectory() as tmp:
        canv = np.load(os.path.join(HERE, "canvases_u8.npy")).astype(np.float32) / 255
        bits = np.load(os.path.join(HERE, "masks_bits.npy"))
        masks = np.unpackbits(bits, axis=1)[:, :64 * 64].reshape(-1, 64, 64).astype(np.float32)
        np.save(os.path.join(tmp, "canvases.npy"), canv)
        np.save(os.path.join(tmp, "masks.npy"), masks)
        np.save(os.path.join(tmp, "labels.npy"), np.load(os.path.join(HERE, "labels.npy")).astype(np.float32))
        loc_metrics = ["pointing-game", "energy-pointing-game", "wsl-iou", "deletion", "insertion"]
        labels = np.load(os.path.join(HERE, "labels.npy"))
        loc_rows, loc_skipped = table(os.path.join(HERE, "fashion_canvas_cnn.onnx"), os.path.join(tmp, "canvases.npy"),
                                      loc_metrics, ["--masks", os.path.join(tmp, "masks.npy"), "--labels",
                                                    os.path.join(tmp, "labels.npy"), "--steps", "10", "--target",
                                                    ",".join(str(int(v)) for v in labels)], methods, write)
    write(loc_rows)


N_CANVASES = 200

if __name__ == "__main__":
    main()
