#!/usr/bin/python3
"""Writes the .npy fixtures of tests/test_npy.cpp (run from this directory; needs numpy)."""
import numpy as np

values = np.array([[1.5, -2.0, 3.25], [0.0, 1e-3, -7.0]])
np.save("f4.npy", values.astype("<f4"))
np.save("f8.npy", values.astype("<f8"))
np.save("i8.npy", np.array([[1, -2, 3], [2**40, -(2**40), 0]], dtype="<i8"))
np.save("i4.npy", np.array([[1, -2, 3], [2**30, -(2**31), 0]], dtype="<i4"))
np.save("scalar.npy", np.array(4.5, dtype="<f4"))
np.save("empty.npy", np.zeros((0, 3), dtype="<f4"))
np.save("rank5.npy", np.arange(2 * 1 * 3 * 1 * 2, dtype="<f4").reshape(2, 1, 3, 1, 2))

# Format versions 2.0 and 3.0 (4-byte header length; 3.0 allows a UTF-8 header).
with open("v2.npy", "wb") as f:
    np.lib.format.write_array(f, values.astype("<f4"), version=(2, 0))
with open("v3.npy", "wb") as f:
    np.lib.format.write_array(f, values.astype("<f4"), version=(3, 0))

# uint8 (read, as images are saved); rejected: Fortran order, big-endian, unsupported dtypes,
# truncated data, bad headers.
np.save("fortran.npy", np.asfortranarray(values.astype("<f4")))
np.save("big_endian.npy", values.astype(">f4"))
np.save("uint8.npy", np.arange(6, dtype="u1").reshape(2, 3))
np.save("complex.npy", np.ones(3, dtype="<c8"))
np.save("structured.npy", np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]))
with open("f4.npy", "rb") as f:
    data = f.read()
with open("truncated.npy", "wb") as f:
    f.write(data[:-5])
with open("trailing.npy", "wb") as f:
    f.write(data + b"\0\0\0\0")
with open("bad_magic.npy", "wb") as f:
    f.write(b"\x93NUMPX" + data[6:])
with open("bad_version.npy", "wb") as f:
    f.write(data[:6] + b"\x04\x00" + data[8:])
with open("bad_header.npy", "wb") as f:  # same length, dict not closed
    header = data[10:data.index(b"\n") + 1]
    f.write(data[:10] + header.replace(b"}", b" ") + data[len(header) + 10:])
with open("header_past_end.npy", "wb") as f:
    f.write(data[:8] + b"\xff\xff" + data[10:40])
