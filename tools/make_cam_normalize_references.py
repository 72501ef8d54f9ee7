#!/usr/bin/python3
"""pytorch-grad-cam's post-processing of a CAM, applied to the committed float64 Grad-CAM references
(tests/data/fixtures/<model>/ref_grad-cam.npy, written by tools/make_fixtures.py) with PyTorch's own
interpolation, for `--upsample bilinear --normalize minmax`:

    scale(m) = (m - min m) / (1e-7 + max(m - min m))        per example (scale_cam_image)
    out      = scale(resize_bilinear(scale(relu(cam)), H x W))

The bilinear resize is F.interpolate(mode="bilinear", align_corners=False), which is cv2.resize's
INTER_LINEAR for enlargements (half-pixel centres, edges clamped). The second scale is what
pytorch-grad-cam's BaseCAM does when it aggregates the target layers' resized maps.

Writes ref_grad-cam_pytorch-grad-cam.npy [N, 1, H, W] float64 beside each reference.
Run with Debian's /usr/bin/python3:  /usr/bin/python3 tools/make_cam_normalize_references.py
"""

import os

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "tests", "data", "fixtures")


def scale(m):
    flat = m.reshape(m.shape[0], -1)
    shifted = flat - flat.min(dim=1, keepdim=True).values
    return (shifted / (1e-7 + shifted.max(dim=1, keepdim=True).values)).reshape(m.shape)


def main():
    for name in ("gap_cnn", "small_cnn", "resnet_tiny"):
        d = os.path.join(FIXTURES, name)
        cam = torch.from_numpy(np.load(os.path.join(d, "ref_grad-cam.npy"))).double()
        x = np.load(os.path.join(d, "input.npy"))
        up = F.interpolate(scale(cam.clamp(min=0)), size=x.shape[2:], mode="bilinear", align_corners=False)
        out = scale(up)
        np.save(os.path.join(d, "ref_grad-cam_pytorch-grad-cam.npy"), np.ascontiguousarray(out.numpy().astype("<f8")))
        print(f"{name}: {tuple(cam.shape)} -> {tuple(out.shape)}")


if __name__ == "__main__":
    main()
