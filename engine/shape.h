// Shape: up to kMaxRank extents, stored inline (no heap), row-major / batch-first.
#pragma once
#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace gradlens {

constexpr int kMaxRank = 8;

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);
  explicit Shape(const std::vector<int64_t>& dims);

  int rank() const { return rank_; }
  int64_t operator[](int axis) const { return dims_[axis]; }
  int64_t& operator[](int axis) { return dims_[axis]; }
  // Extent of an axis counted from the end when negative (dim(-1) is the last).
  int64_t dim(int axis) const;
  int64_t numel() const;
  std::vector<int64_t> vec() const { return {dims_.begin(), dims_.begin() + rank_}; }
  const int64_t* begin() const { return dims_.data(); }
  const int64_t* end() const { return dims_.data() + rank_; }

  void push_back(int64_t d);
  // Normalises a possibly negative axis; throws Error when out of range.
  int axis(int a) const;

  bool operator==(const Shape& o) const;
  bool operator!=(const Shape& o) const { return !(*this == o); }
  std::string str() const;  // "[2,3,4]"

 private:
  std::array<int64_t, kMaxRank> dims_{};
  int rank_ = 0;
};

// Numpy broadcasting of two shapes; throws Error naming both when incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b);

}  // namespace gradlens
