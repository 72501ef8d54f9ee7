#include "engine/tensor.h"

#include <cstdlib>
#include <cstring>

#include "engine/error.h"

namespace gradlens {

namespace {
std::shared_ptr<float> allocate(int64_t n) {
  GL_CHECK(n <= kMaxTensorElements, "tensor of ", n, " elements exceeds the limit of ",
           kMaxTensorElements);
  size_t bytes = ((size_t(n) * sizeof(float) + 63) / 64) * 64;
  if (bytes == 0) bytes = 64;
  void* p = std::aligned_alloc(64, bytes);
  if (!p) throw std::bad_alloc();
  return std::shared_ptr<float>(static_cast<float*>(p), [](float* q) { std::free(q); });
}
}  // namespace

Tensor::Tensor(const Shape& shape) : shape_(shape) {
  owner_ = allocate(shape.numel());
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
