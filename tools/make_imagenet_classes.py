#!/usr/bin/python3
"""Writes tools/data/imagenet_classes.txt: the 1000 ImageNet-1k class names, line K naming class K,
in the order of torchvision's ImageNet weights (the order every torchvision/timm/ONNX-zoo ImageNet
classifier uses). Source: torchvision.models.ResNet18_Weights.IMAGENET1K_V1.meta["categories"] from
Debian's python3-torchvision (no download). Run: /usr/bin/python3 tools/make_imagenet_classes.py
`gradlens compare/explain --labels imagenet` reads the file this writes."""
import pathlib

import torchvision

names = torchvision.models.ResNet18_Weights.IMAGENET1K_V1.meta["categories"]
assert len(names) == 1000 and all(n and "\n" not in n for n in names)
out = pathlib.Path(__file__).resolve().parent / "data" / "imagenet_classes.txt"
out.parent.mkdir(exist_ok=True)
out.write_text("".join(n + "\n" for n in names))
print(f"wrote {out} ({len(names)} classes)")
