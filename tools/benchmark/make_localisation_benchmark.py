#!/usr/bin/python3
"""A localisation benchmark whose ground truth is known, from Debian's dataset-fashion-mnist.

Each 64x64 canvas holds one Fashion-MNIST item (resized to 20..40 px, at a random position) over
clutter: three 12x12 fragments of other items at half intensity and Gaussian noise (sigma 0.08),
clipped to [0, 1] and quantised to 1/255 (so the shipped uint8 canvases are exact). The label is
the item's class; its mask is the item's silhouette (resized item > 0.15, where it is drawn on
top), its box the mask's bounding box.

A small GAP CNN (conv 1-8-16-32, 3x3, BatchNorm (folded into the convs on export), ReLU, max-pool, global average pool, linear 32-10) is
trained on 4000 canvases from the training images (Adam, 8 epochs, batch 128, one CPU thread)
and exported to ONNX. The evaluation set is 200 canvases from the test images.

Writes (tools/benchmark/):
  fashion_canvas_cnn.onnx    the model (logits [N, 10]; input [N, 1, 64, 64] in [0, 1])
  canvases_u8.npy            [200, 1, 64, 64] uint8 (value / 255 is the model input)
  masks_bits.npy             [200, 64*64/8] uint8: np.packbits of the [200, 64, 64] masks
  labels.npy                 [200] int64, the items' classes
  boxes.txt                  one line 'x0 y0 x1 y1' per canvas (end exclusive)
  training.json              seeds, accuracy on the 200 canvases, training time
Run:  nice -n 10 /usr/bin/python3 tools/benchmark/make_localisation_benchmark.py
"""
import gzip
import json
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = "/usr/share/datasets/fashion-mnist"
SIZE = 64


def read_idx(name):
    with gzip.open(os.path.join(DATA, name), "rb") as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * dims).reshape(shape)


def make_canvases(images, labels, count, rng):
    canvases = np.zeros((count, 1, SIZE, SIZE), np.uint8)
    masks = np.zeros((count, SIZE, SIZE), bool)
    out_labels = np.zeros(count, np.int64)
    for n in range(count):
        canvas = np.zeros((SIZE, SIZE), np.float32)
        for _ in range(3):  # fragments of other items
            other = images[rng.integers(len(images))].astype(np.float32) / 255
            y, x = rng.integers(0, 28 - 12, size=2)
            fy, fx = rng.integers(0, SIZE - 12, size=2)
            canvas[fy:fy + 12, fx:fx + 12] = np.maximum(canvas[fy:fy + 12, fx:fx + 12], 0.5 * other[y:y + 12, x:x + 12])
        canvas += rng.normal(0, 0.08, canvas.shape).astype(np.float32)
        k = rng.integers(len(images))
        side = int(rng.integers(20, 41))
        item = torch.from_numpy(images[k].astype(np.float32) / 255)[None, None]
        item = F.interpolate(item, size=(side, side), mode="bilinear", align_corners=False)[0, 0].numpy()
        y0, x0 = rng.integers(0, SIZE - side + 1, size=2)
        silhouette = item > 0.15
        region = canvas[y0:y0 + side, x0:x0 + side]
        region[silhouette] = item[silhouette]
        canvases[n, 0] = np.round(np.clip(canvas, 0, 1) * 255).astype(np.uint8)
        masks[n, y0:y0 + side, x0:x0 + side] = silhouette
        out_labels[n] = labels[k]
    return canvases, masks, out_labels


class CanvasCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(16)
        self.conv3 = nn.Conv2d(16, 32, 3, padding=1)
        self.bn3 = nn.BatchNorm2d(32)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = F.relu(self.bn3(self.conv3(x)))
        return self.fc(x.mean(dim=(2, 3)))


def main():
    torch.set_num_threads(1)
    torch.manual_seed(20261206)
    rng = np.random.default_rng(20261206)
    train_x, train_y = read_idx("train-images-idx3-ubyte.gz"), read_idx("train-labels-idx1-ubyte.gz")
    test_x, test_y = read_idx("t10k-images-idx3-ubyte.gz"), read_idx("t10k-labels-idx1-ubyte.gz")
    tc, _, tl = make_canvases(train_x, train_y, 4000, rng)
    ec, em, el = make_canvases(test_x, test_y, 200, rng)
    X = torch.from_numpy(tc.astype(np.float32) / 255)
    Y = torch.from_numpy(tl)
    model = CanvasCNN()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    start = time.time()
    for epoch in range(8):
        perm = torch.randperm(len(X))
        for i in range(0, len(X), 128):
            idx = perm[i:i + 128]
            loss = F.cross_entropy(model(X[idx]), Y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        print(f"epoch {epoch}: loss {loss.item():.3f} ({time.time() - start:.0f} s)", flush=True)
    model.eval()
    E = torch.from_numpy(ec.astype(np.float32) / 255)
    with torch.no_grad():
        acc = float((model(E).argmax(1).numpy() == el).mean())
    print(f"accuracy on the 200 evaluation canvases: {acc:.3f}")
    torch.onnx.export(model, E[:1], os.path.join(HERE, "fashion_canvas_cnn.onnx"), input_names=["input"],
                      output_names=["logits"], dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, opset_version=12)
    np.save(os.path.join(HERE, "canvases_u8.npy"), ec)
    np.save(os.path.join(HERE, "masks_bits.npy"), np.packbits(em.reshape(len(em), -1), axis=1))
    np.save(os.path.join(HERE, "labels.npy"), el)
    with open(os.path.join(HERE, "boxes.txt"), "w") as f:
        for m in em:
            ys, xs = np.nonzero(m)
            f.write(f"{xs.min()} {ys.min()} {xs.max() + 1} {ys.max() + 1}\n")
    with open(os.path.join(HERE, "training.json"), "w") as f:
        json.dump({"seed": 20261206, "train_canvases": 4000, "epochs": 8, "accuracy_200": acc,
                   "training_seconds": round(time.time() - start, 1), "torch": torch.__version__}, f, indent=2)


if __name__ == "__main__":
    main()
