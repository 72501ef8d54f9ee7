// NumPy .npy files (format versions 1.0, 2.0, 3.0). Reading accepts little-endian, C-order
// float32, float64, int64, int32, int16, int8 and uint8 arrays and converts them to a float Tensor
// (integers above 2^24 in magnitude round to the nearest float32); anything else
// (Fortran order, big-endian, other dtypes, truncated data, a malformed header) is an Error naming
// the file. Writing is atomic: the array goes to `path.tmp.<pid>`, which is then renamed.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace gradlens {

Tensor read_npy(const std::string& path);
// Same, also giving the stored dtype without its byte-order mark: "f4", "f8", "i8", "i4", "i2",
// "i1" or "u1".
Tensor read_npy(const std::string& path, std::string& dtype);

// Writes a float32 array ('<f4', format 1.0).
void write_npy(const std::string& path, const Tensor& tensor);
// Writes an int64 array ('<i8'); values.size() must equal shape.numel().
void write_npy_int64(const std::string& path, const Shape& shape, const std::vector<int64_t>& values);

}  // namespace gradlens
