#!/usr/bin/python3
"""Train the small Fashion-MNIST CNN that gradlens ships as its demo model.

Architecture (CAM-compatible: the last convolution feeds a global average pool and one Linear
layer, so CAM, Grad-CAM and FullGrad apply; every layer has a bias):

  Conv3x3(1->16)-BN-ReLU-MaxPool2   28x28 -> 14x14
  Conv3x3(16->64)-BN-ReLU-MaxPool2  14x14 -> 7x7
  Conv3x3(64->128)-BN-ReLU          7x7
  GlobalAveragePool -> Linear(128->10) = logits

Input normalisation (the CLI preset `fashion-mnist` uses exactly these numbers, the mean and
standard deviation of the Fashion-MNIST training pixels scaled to [0, 1]):

  x = pixel / 255;  x = (x - 0.2860) / 0.3530

Data: Debian's `dataset-fashion-mnist` package (/usr/share/datasets/fashion-mnist/*.gz, IDX
format read with gzip + numpy); nothing is downloaded. Runs only with Debian's system
interpreter (/usr/bin/python3: torch 1.13, onnx, numpy, PIL). Two threads, seeded: training is
repeatable on the same machine.

Writes, under tools/demo/ (committed, < 2 MB together):
  fashion_cnn.onnx  opset 13; input `input` [N,1,28,28] (dynamic N), output `logits` [N,10]
  labels.txt        the ten class names, one a line, in class order
  images/<k>_<label>.png  for each class k the first test image the model classifies correctly
                    (28x28 8-bit grayscale; <label> is the class name with '/' and ' ' replaced)
  images.npy        those ten images normalised as above, float32 [10,1,28,28], in class order
  torch_logits.npy  torch's logits for images.npy, float32 [10,10] (reference for the C++ test)
  metadata.json     accuracy, epochs, seed, training time, normalisation, parameter count

Finally it checks the exported model against gradlens: it copies images.npy's batch and torch's
logits for it to a temporary directory, runs `build/gradlens run` on it when the binary exists
(and prints the command either way), and compares the logits. `--check-only` does just that.
"""

import argparse
import gzip
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA_DIR = "/usr/share/datasets/fashion-mnist"
OUT_DIR = os.path.join(REPO_ROOT, "tools", "demo")

# Mean and standard deviation of the training pixels in [0, 1]; the CLI preset `fashion-mnist`.
NORM_MEAN = 0.2860
NORM_STD = 0.3530

LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
          "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def read_idx(path: str) -> np.ndarray:
    """An IDX file (big-endian header: magic 0x0000 08 <rank>, then one uint32 per dimension)."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    if data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(rank)]
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank)
    if body.size != int(np.prod(dims)):
        raise ValueError(f"{path}: {body.size} bytes for shape {dims}")
    return body.reshape(dims)


def load_split(split: str):
    images = read_idx(os.path.join(DATA_DIR, f"{split}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(DATA_DIR, f"{split}-labels-idx1-ubyte.gz"))
    return images, labels.astype(np.int64)


def normalise(images_u8: np.ndarray) -> np.ndarray:
    """uint8 [N,28,28] -> float32 [N,1,28,28] with the demo's normalisation."""
    x = images_u8.astype(np.float32) / 255.0
    x = (x - NORM_MEAN) / NORM_STD
    return x[:, None, :, :].astype(np.float32)


class FashionCNN(nn.Module):
    def __init__(self):
        super().__init__()

        def block(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=True), nn.BatchNorm2d(cout),
                    nn.ReLU(inplace=True)]

        self.features = nn.Sequential(
            *block(1, 16), nn.MaxPool2d(2),
            *block(16, 64), nn.MaxPool2d(2),
            *block(64, 128))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(128, 10, bias=True)

    def forward(self, x):
        x = self.pool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


def evaluate(model, x, y, batch=1000):
    model.eval()
    correct = 0
    predictions = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            logits = model(x[i:i + batch])
            pred = logits.argmax(1)
            predictions.append(pred)
            correct += (pred == y[i:i + batch]).sum().item()
    return correct / len(x), torch.cat(predictions)


def file_label(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9-]+", "-", name)


def save_png(path: str, image_u8: np.ndarray) -> None:
    from PIL import Image
    Image.fromarray(image_u8, mode="L").save(path, optimize=True)


def check_with_gradlens(out_dir: str) -> bool:
    """Runs `build/gradlens run` on images.npy (copied to a temp dir with torch's logits for it)
    and compares gradlens's logits with torch's. Prints the command either way."""
    onnx_path = os.path.join(out_dir, "fashion_cnn.onnx")
    batch = np.load(os.path.join(out_dir, "images.npy"))
    torch_logits = np.load(os.path.join(out_dir, "torch_logits.npy"))
    tmp = tempfile.mkdtemp(prefix="gradlens-demo-check-")
    np.save(os.path.join(tmp, "batch.npy"), batch)
    np.save(os.path.join(tmp, "torch_logits.npy"), torch_logits)
    exe = os.path.join(REPO_ROOT, "build", "gradlens")
    cmd = [exe, "run", onnx_path, os.path.join(tmp, "batch.npy"), "--out", tmp, "--json"]
    print(f"check: batch and torch logits saved in {tmp}")
    print("check: " + " ".join(cmd))
    if not os.access(exe, os.X_OK):
        print("check: build/gradlens is not built; build it and run the command above, "
              f"then compare {tmp}/output_0.npy with {tmp}/torch_logits.npy "
              "(or rerun this script with --check-only)")
        return True
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        print(f"check: gradlens failed: {result.stderr.strip()}")
        return False
    report = json.loads(result.stdout)
    ours = np.load(os.path.join(tmp, "output_0.npy")).astype(np.float64)
    theirs = torch_logits.astype(np.float64)
    diff = float(np.abs(ours - theirs).max()) if ours.shape == theirs.shape else float("inf")
    top1 = [row[0]["class"] for row in report["outputs"][0]["top5"]]
    same_top1 = top1 == [int(k) for k in theirs.argmax(1)]
    print(f"check: gradlens logits {list(ours.shape)}, max |gradlens - torch| = {diff:.3g}, "
          f"top-1 classes {top1} ({'same as' if same_top1 else 'DIFFERENT from'} torch)")
    ok = diff < 1e-4 * max(1.0, float(np.abs(theirs).max())) and same_top1
    print("check: " + ("ok" if ok else "FAILED"))
    if ok:
        shutil.rmtree(tmp)
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--seed", type=int, default=20240611)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=OUT_DIR)
    parser.add_argument("--check-only", action="store_true",
                        help="only compare the shipped model's logits in gradlens with torch's")
    args = parser.parse_args()
    if args.check_only:
        sys.exit(0 if check_with_gradlens(args.out) else 1)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.use_deterministic_algorithms(True)

    train_u8, train_y = load_split("train")
    test_u8, test_y = load_split("t10k")
    x_train = torch.from_numpy(normalise(train_u8))
    y_train = torch.from_numpy(train_y)
    x_test = torch.from_numpy(normalise(test_u8))
    y_test = torch.from_numpy(test_y)
    print(f"data: {len(x_train)} train, {len(x_test)} test images from {DATA_DIR}")

    model = FashionCNN()
    parameters = sum(p.numel() for p in model.parameters())
    print(f"model: {parameters} parameters")

    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    steps_per_epoch = (len(x_train) + args.batch - 1) // args.batch
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=args.lr, epochs=args.epochs, steps_per_epoch=steps_per_epoch)
    generator = torch.Generator().manual_seed(args.seed)

    start = time.time()
    history = []
    for epoch in range(1, args.epochs + 1):
        model.train()
        order = torch.randperm(len(x_train), generator=generator)
        total_loss = 0.0
        for i in range(0, len(x_train), args.batch):
            idx = order[i:i + args.batch]
            loss = F.cross_entropy(model(x_train[idx]), y_train[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total_loss += loss.item() * len(idx)
        accuracy, _ = evaluate(model, x_test, y_test)
        elapsed = time.time() - start
        history.append({"epoch": epoch, "train_loss": total_loss / len(x_train),
                        "test_accuracy": accuracy})
        print(f"epoch {epoch}/{args.epochs}: train loss {total_loss / len(x_train):.4f}, "
              f"test accuracy {accuracy * 100:.2f}%, {elapsed:.0f} s", flush=True)
    training_seconds = time.time() - start

    model.eval()
    accuracy, predictions = evaluate(model, x_test, y_test)
    if accuracy < 0.90:
        print(f"error: test accuracy {accuracy * 100:.2f}% is below 90%", file=sys.stderr)
        sys.exit(1)

    os.makedirs(args.out, exist_ok=True)
    image_dir = os.path.join(args.out, "images")
    if os.path.isdir(image_dir):
        shutil.rmtree(image_dir)
    os.makedirs(image_dir)

    # ONNX export (eval mode: torch folds BN into the convolutions when constant folding).
    onnx_path = os.path.join(args.out, "fashion_cnn.onnx")
    torch.onnx.export(model, x_test[:1], onnx_path, opset_version=13,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
                      do_constant_folding=True)
    import onnx
    onnx.checker.check_model(onnx.load(onnx_path))

    with open(os.path.join(args.out, "labels.txt"), "w") as f:
        f.write("\n".join(LABELS) + "\n")

    chosen = []
    for k in range(10):
        hits = ((y_test == k) & (predictions == k)).nonzero().flatten()
        index = int(hits[0])
        chosen.append(index)
        save_png(os.path.join(image_dir, f"{k}_{file_label(LABELS[k])}.png"), test_u8[index])
    batch = normalise(test_u8[chosen])
    np.save(os.path.join(args.out, "images.npy"), batch)
    with torch.no_grad():
        torch_logits = model(torch.from_numpy(batch)).numpy()
    np.save(os.path.join(args.out, "torch_logits.npy"), torch_logits.astype(np.float32))

    metadata = {
        "model": "fashion_cnn.onnx",
        "dataset": "Fashion-MNIST (Debian dataset-fashion-mnist)",
        "architecture": "Conv3x3(16)-BN-ReLU-MaxPool2, Conv3x3(64)-BN-ReLU-MaxPool2, "
                        "Conv3x3(128)-BN-ReLU, GlobalAveragePool, Linear(10)",
        "parameters": parameters,
        "test_accuracy": round(accuracy, 4),
        "epochs": args.epochs,
        "batch_size": args.batch,
        "optimizer": f"AdamW lr {args.lr} (one-cycle), weight decay 1e-4",
        "seed": args.seed,
        "threads": args.threads,
        "training_seconds": round(training_seconds, 1),
        "history": history,
        "normalisation": {"scale": 1.0 / 255.0, "mean": NORM_MEAN, "std": NORM_STD,
                          "formula": "x = (pixel / 255 - 0.2860) / 0.3530",
                          "preset": "fashion-mnist"},
        "input": {"name": "input", "shape": ["N", 1, 28, 28]},
        "output": {"name": "logits", "shape": ["N", 10]},
        "opset": 13,
        "labels": LABELS,
        "images": {f"{k}_{file_label(LABELS[k])}.png": {"test_index": chosen[k], "label": k}
                   for k in range(10)},
        "versions": {"torch": torch.__version__, "numpy": np.__version__,
                     "python": platform.python_version()},
    }
    with open(os.path.join(args.out, "metadata.json"), "w") as f:
        json.dump(metadata, f, indent=2)
        f.write("\n")
    print(f"wrote {args.out}: test accuracy {accuracy * 100:.2f}%, {parameters} parameters, "
          f"{training_seconds:.0f} s training")

    if not check_with_gradlens(args.out):
        sys.exit(1)


if __name__ == "__main__":
    main()
