// Tensor: float32, contiguous, row-major, batch first (NCHW for images), rank <= 8.
// Either owning (64-byte aligned heap memory, shared between copies of the handle) or a view of
// memory owned elsewhere (the tape's arena, a layer's weights). Views do not keep memory alive:
// a view handed out of the tape is valid until the tape is rewound, so public accessors return
// owning copies (clone()).
#pragma once
#include <Eigen/Core>
#include <cstdint>
#include <memory>

#include "engine/shape.h"

namespace gradlens {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixMap = Eigen::Map<RowMatrix, Eigen::Unaligned>;
using ConstMatrixMap = Eigen::Map<const RowMatrix, Eigen::Unaligned>;
using VectorMap = Eigen::Map<Eigen::VectorXf, Eigen::Unaligned>;
using ConstVectorMap = Eigen::Map<const Eigen::VectorXf, Eigen::Unaligned>;

class Tensor {
 public:
  Tensor() = default;
  // Owning, zero-filled.
  explicit Tensor(const Shape& shape);
  Tensor(const Shape& shape, float fill);
  // Owning copy of values (row-major); values.size() must equal shape.numel().
  Tensor(const Shape& shape, std::initializer_list<float> values);
  // Non-owning view of `data` (which must hold shape.numel() floats).
  static Tensor view(const Shape& shape, float* data);

  Tensor clone() const;                     // owning deep copy
  Tensor reshaped(const Shape& shape) const;  // same memory, new shape (numel must match)

  const Shape& shape() const { return shape_; }
  int rank() const { return shape_.rank(); }
  int64_t dim(int axis) const { return shape_.dim(axis); }
  int64_t numel() const { return shape_.numel(); }
  bool empty() const { return data_ == nullptr; }
  bool owning() const { return owner_ != nullptr; }

  float* data() { return data_; }
  const float* data() const { return data_; }
  float& operator[](int64_t i) { return data_[i]; }
  float operator[](int64_t i) const { return data_[i]; }
  // Element at a full multi-index (slow; for tests and small code paths).
  float at(std::initializer_list<int64_t> index) const;

  VectorMap vec() { return VectorMap(data_, numel()); }
  ConstVectorMap vec() const { return ConstVectorMap(data_, numel()); }
  // Row-major matrix view with `rows` rows over the whole tensor.
  MatrixMap mat(int64_t rows) { return MatrixMap(data_, rows, rows ? numel() / rows : 0); }
  ConstMatrixMap mat(int64_t rows) const {
    return ConstMatrixMap(data_, rows, rows ? numel() / rows : 0);
  }

  void fill(float v);
  void copy_from(const Tensor& other);  // same numel required

 private:
  Shape shape_;
  float* data_ = nullptr;
  std::shared_ptr<float> owner_;
};

// Largest tensor (in elements) gradlens will allocate; larger requests are rejected with an Error
// before any memory is touched (guards against absurd dimensions in input files).
constexpr int64_t kMaxTensorElements = int64_t(1) << 32;

}  // namespace gradlens
