#!/usr/bin/python3
"""Runs `gradlens evaluate` for every attribution method on the localisation benchmark
(tools/benchmark: fashion_canvas_cnn.onnx and its 200 canvases with masks) and on the demo model
(tools/demo/fashion_cnn.onnx, its 10 images), and writes the README's tables to
tools/benchmark/results.md.

  canvases: the true class explained and scored (--target = the labels, as TorchRay's pointing
            game explains the ground-truth class); pointing-game (15 px), energy-pointing-game,
            wsl-iou (and its localisation accuracy: IoU >= 0.5; the class is right by construction
            here), deletion (zero removal) and insertion (blur start), 10 steps, softmax probability
  demo:     the predicted class; deletion, insertion, abpc, aopc (4x4 patches, 20 regions, mean
            removal), average-drop, increase-in-confidence, average-drop-in-deletion,
            faithfulness-correlation, infidelity (--normalize true: scale-free, comparable across methods)
Every method runs with its default parameters; methods whose maps are not input- or layer-shaped
(integrated-hessians) are left out. The two methods that need a parameter file get one made here
from the training data of each model:
  expected-gradients  --baselines: 100 training inputs (canvases: the first 100 of the model's
                      4000 training canvases, regenerated from make_localisation_benchmark.py's
                      seed; demo: 100 Fashion-MNIST training images drawn with seed 0, normalised
                      as the demo model's inputs)
  idg                 --groups: two nested levels of square blocks, 4x4 pixels inside 16x16
                      pixels, shared by the examples
Values are means over the examples with 95% CIs.

Resumes: rows already in results.md are kept as they are and only the missing methods are run;
the file is rewritten after every method, so an interrupted run loses at most one method.
Run:  nice -n 10 /usr/bin/python3 tools/benchmark/run_benchmark.py [path/to/gradlens]
"""
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RESULTS = os.path.join(HERE, "results.md")
CLI = sys.argv[1] if len(sys.argv) > 1 and __name__ == "__main__" else os.path.join(ROOT, "build", "gradlens")
N_CANVASES = 200

LOC_TITLE = (f"**Localisation benchmark**: {N_CANVASES} canvases (tools/benchmark), the true class, "
             "10 deletion/insertion steps, mean ± 95% CI half-width")
LOC_HEADER = ["method", "pointing game", "energy PG", "WSL IoU", "WSL loc. acc.", "deletion ↓", "insertion ↑"]
DEMO_TITLE = ("**Demo model** (tools/demo/fashion_cnn.onnx, 10 images, the predicted class; 20 steps, removal = "
              "each image's mean, AOPC 4x4 patches, 20 regions, infidelity with --normalize true), "
              "mean ± 95% CI half-width")
DEMO_HEADER = ["method", "deletion ↓", "insertion ↑", "ABPC ↑", "AOPC ↑", "AD ↓", "IC ↑", "ADD ↑",
               "faith. corr. ↑", "infidelity ↓"]


def evaluate(args):
    r = subprocess.run([CLI, "evaluate", *args, "--json", "--quiet"], capture_output=True, text=True)
    if r.returncode != 0:
        return None, r.stderr.strip()
    return json.loads(r.stdout), None


def cell(result, key="mean"):
    lo, hi = result["ci95" + key[4:]]
    return f"{result[key]:.3f} ± {(hi - lo) / 2:.3f}"


def markdown(header, rows):
    s = "| " + " | ".join(header) + " |\n|" + "---|" * len(header) + "\n"
    return s + "".join("| " + " | ".join(r) + " |\n" for r in rows)


def read_existing(path):
    """{table title prefix: {method: row cells}} from a results.md written before."""
    tables = {"**Localisation": {}, "**Demo": {}}
    if not os.path.exists(path):
        return tables
    current = None
    for line in open(path, encoding="utf-8"):
        for key in tables:
            if line.startswith(key):
                current = tables[key]
        m = re.match(r"^\| (.+) \|$", line.rstrip("\n"))
        if current is not None and m:
            cells = m.group(1).split(" | ")
            if cells[0] != "method" and not cells[0].startswith("---"):
                current[cells[0]] = cells
    return tables


def localisation_benchmark():
    """make_localisation_benchmark.py as a module: its Fashion-MNIST reader and canvas generator."""
    sys.path.insert(0, HERE)
    import make_localisation_benchmark
    return make_localisation_benchmark


def block_groups(height, width):
    """IDG groups [2, H, W]: level 0 = 4x4 blocks, level 1 = 16x16 blocks (each holds whole 4x4 ones)."""
    y, x = np.mgrid[0:height, 0:width]
    fine = (y // 4) * ((width + 3) // 4) + x // 4
    coarse = (y // 16) * ((width + 15) // 16) + x // 16
    return np.stack([fine, coarse]).astype(np.int64)


def canvas_baselines(count):
    """The first `count` training canvases of fashion_canvas_cnn.onnx: make_localisation_benchmark's
    generator with its seed draws them first, canvas by canvas."""
    mlb = localisation_benchmark()
    train_x, train_y = mlb.read_idx("train-images-idx3-ubyte.gz"), mlb.read_idx("train-labels-idx1-ubyte.gz")
    canvases, _, _ = mlb.make_canvases(train_x, train_y, count, np.random.default_rng(20261206))
    return canvases.astype(np.float32) / 255


def demo_baselines(count):
    """`count` Fashion-MNIST training images (seed 0), normalised as tools/demo/metadata.json says."""
    images = localisation_benchmark().read_idx("train-images-idx3-ubyte.gz")
    pick = np.sort(np.random.default_rng(0).choice(len(images), count, replace=False))
    return ((images[pick].astype(np.float32) / 255 - 0.286) / 0.353)[:, None]


def run(model, inputs, metrics, extra, todo, method_files, rows, skipped, on_row):
    for m in todo:
        method_args = ["--method-options", f"{method_files[m][0]}={method_files[m][1]}"] if m in method_files else []
        out, err = evaluate([model, inputs, "--methods", m, "--metrics", ",".join(metrics), *extra, *method_args])
        if out is None:
            skipped.append(f"{m}: {err}")
        else:
            by = {r["metric"]: r for r in out["results"]}
            row = [m]
            for k in metrics:
                row.append(cell(by[k]))
                if k == "wsl-iou":
                    row.append(cell(by[k], "mean.localised"))
            rows[m] = row
            print(" | ".join(row), flush=True)
        on_row()


def main():
    listed = json.loads(subprocess.run([CLI, "methods", "--json"], capture_output=True, text=True, check=True).stdout)
    listed = listed["methods"] if isinstance(listed, dict) else listed
    methods = [m["name"] for m in listed if m["output"] in ("input-shaped", "layer map [N,1,h,w]")]
    existing = read_existing(RESULTS)
    loc_rows, demo_rows = existing["**Localisation"], existing["**Demo"]
    skipped = []

    def write():  # rewritten after every method, so a long run leaves a complete file
        def ordered(rows):
            return [rows[m] for m in methods if m in rows] + [r for m, r in rows.items() if m not in methods]
        missing_loc = [m for m in methods if m not in loc_rows]
        missing_demo = [m for m in methods if m not in demo_rows]
        with open(RESULTS + ".tmp", "w", encoding="utf-8") as f:
            f.write(LOC_TITLE + "\n\n" + markdown(LOC_HEADER, ordered(loc_rows)))
            if missing_loc:
                f.write("\nNot measured yet: " + ", ".join(missing_loc) + ".\n")
            f.write("\n" + DEMO_TITLE + "\n\n" + markdown(DEMO_HEADER, ordered(demo_rows)))
            if missing_demo:
                f.write("\nNot measured yet: " + ", ".join(missing_demo) + ".\n")
            for s in skipped:
                f.write(f"\nskipped: {s}\n")
        os.replace(RESULTS + ".tmp", RESULTS)

    with tempfile.TemporaryDirectory() as tmp:
        def save(name, array):
            np.save(os.path.join(tmp, name), array)
            return os.path.join(tmp, name)

        demo_todo = [m for m in methods if m not in demo_rows]
        if demo_todo:
            files = {"expected-gradients": ("baselines", save("demo_baselines.npy", demo_baselines(100))),
                     "idg": ("groups", save("demo_groups.npy", block_groups(28, 28)))}
            run(os.path.join(ROOT, "tools", "demo", "fashion_cnn.onnx"), os.path.join(ROOT, "tools", "demo", "images.npy"),
                ["deletion", "insertion", "abpc", "aopc", "average-drop", "increase-in-confidence",
                 "average-drop-in-deletion", "faithfulness-correlation", "infidelity"],
                ["--steps", "20", "--patch", "4", "--regions", "20", "--removal", "mean", "--normalize", "true"],
                demo_todo, files, demo_rows, skipped, write)

        loc_todo = [m for m in methods if m not in loc_rows]
        if loc_todo:
            canv = np.load(os.path.join(HERE, "canvases_u8.npy")).astype(np.float32) / 255
            bits = np.load(os.path.join(HERE, "masks_bits.npy"))
            masks = np.unpackbits(bits, axis=1)[:, :64 * 64].reshape(-1, 64, 64).astype(np.float32)
            labels = np.load(os.path.join(HERE, "labels.npy"))
            files = {"expected-gradients": ("baselines", save("canvas_baselines.npy", canvas_baselines(100))),
                     "idg": ("groups", save("canvas_groups.npy", block_groups(64, 64)))}
            run(os.path.join(HERE, "fashion_canvas_cnn.onnx"), save("canvases.npy", canv),
                ["pointing-game", "energy-pointing-game", "wsl-iou", "deletion", "insertion"],
                ["--masks", save("masks.npy", masks), "--labels", save("labels.npy", labels.astype(np.float32)),
                 "--steps", "10", "--target", ",".join(str(int(v)) for v in labels)],
                loc_todo, files, loc_rows, skipped, write)
    write()


if __name__ == "__main__":
    main()
