#include "engine/tensor.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "engine/error.h"
#include "engine/memory.h"

namespace gradlens {

namespace {
// Checked against the global memory limit (engine/memory.h) before anything is allocated.
std::shared_ptr<float> allocate(const Shape& shape) {
  const int64_t n = shape.numel();
  GL_CHECK(n <= kMaxTensorElements, "tensor ", shape.str(), " of ", n,
           " elements exceeds the limit of ", kMaxTensorElements);
  const int64_t bytes = std::max<int64_t>(64, (n * int64_t(sizeof(float)) + 63) / 64 * 64);
  reserve_memory(bytes, ("tensor " + shape.str()).c_str());
  void* p = std::aligned_alloc(64, size_t(bytes));
  if (!p) {
    release_memory(bytes);
    throw std::bad_alloc();
  }
  return std::shared_ptr<float>(static_cast<float*>(p), [bytes](float* q) {
    std::free(q);
    release_memory(bytes);
  });
}
}  // namespace

Tensor::Tensor(const Shape& shape) : shape_(shape) {
  owner_ = allocate(shape);
  data_ = owner_.get();
  std::memset(data_, 0, sizeof(float) * size_t(numel()));
}

Tensor::Tensor(const Shape& shape, float v) : Tensor(shape) { fill(v); }

Tensor::Tensor(const Shape& shape, std::initializer_list<float> values) : Tensor(shape) {
  GL_CHECK(int64_t(values.size()) == numel(), "tensor ", shape.str(), " given ", values.size(),
           " values");
  std::copy(values.begin(), values.end(), data_);
}

Tensor Tensor::view(const Shape& shape, float* data) {
  Tensor t;
  t.shape_ = shape;
  t.data_ = data;
  return t;
}

Tensor Tensor::clone() const {
  Tensor t(shape_);
  if (numel()) std::memcpy(t.data_, data_, sizeof(float) * size_t(numel()));
  return t;
}

Tensor Tensor::reshaped(const Shape& shape) const {
  GL_CHECK(shape.numel() == numel(), "cannot reshape ", shape_.str(), " to ", shape.str());
  Tensor t = *this;
  t.shape_ = shape;
  return t;
}

float Tensor::at(std::initializer_list<int64_t> index) const {
  GL_CHECK(int(index.size()) == rank(), "index of rank ", index.size(), " into tensor ",
           shape_.str());
  int64_t off = 0;
  int axis = 0;
  for (int64_t i : index) {
    GL_CHECK(i >= 0 && i < shape_[axis], "index ", i, " out of range on axis ", axis, " of ",
             shape_.str());
    off = off * shape_[axis++] + i;
  }
  return data_[off];
}

void Tensor::fill(float v) { std::fill(data_, data_ + numel(), v); }

void Tensor::copy_from(const Tensor& other) {
  GL_CHECK(other.numel() == numel(), "copy of ", other.shape().str(), " into ", shape_.str());
  if (numel()) std::memcpy(data_, other.data_, sizeof(float) * size_t(numel()));
}

}  // namespace gradlens
