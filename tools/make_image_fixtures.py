#!/usr/bin/python3
"""Writes the JPEG fixtures of tests/test_images.cpp with Pillow (quality 100, no chroma
subsampling): smooth.jpg, value (100 + 4x, 60 + 3y, 200) on 16x16, and grey.jpg, a flat 128 grey
16x16. Committed files: stb_image_write's JPEG encoder shifts negative values (undefined
behaviour that the sanitizer suite reports), so the suite only reads JPEGs.
Run:  /usr/bin/python3 tools/make_image_fixtures.py"""
import os

import numpy as np
from PIL import Image

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "images")
os.makedirs(out, exist_ok=True)
y, x = np.mgrid[0:16, 0:16]
rgb = np.stack([100 + 4 * x, 60 + 3 * y, np.full_like(x, 200)], axis=-1).astype(np.uint8)
Image.fromarray(rgb, "RGB").save(os.path.join(out, "smooth.jpg"), quality=100, subsampling=0)
Image.fromarray(np.full((16, 16), 128, np.uint8), "L").save(os.path.join(out, "grey.jpg"), quality=100)
