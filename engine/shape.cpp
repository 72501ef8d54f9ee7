#include "engine/shape.h"

#include "engine/error.h"

namespace gradlens {

Shape::Shape(std::initializer_list<int64_t> dims) {
  for (int64_t d : dims) push_back(d);
}

Shape::Shape(const std::vector<int64_t>& dims) {
  for (int64_t d : dims) push_back(d);
}

void Shape::push_back(int64_t d) {
  GL_CHECK(rank_ < kMaxRank, "shape ", str(), ": rank exceeds ", kMaxRank);
  GL_CHECK(d >= 0, "shape ", str(), ": negative extent ", d);
  dims_[rank_++] = d;
}

int Shape::axis(int a) const {
  int r = a < 0 ? a + rank_ : a;
  GL_CHECK(r >= 0 && r < rank_, "axis ", a, " is out of range for shape ", str());
  return r;
}

int64_t Shape::dim(int a) const { return dims_[axis(a)]; }

int64_t Shape::numel() const {
  // Extents come from files: a product past int64 is an Error, never a wrapped count.
  int64_t n = 1;
  for (int i = 0; i < rank_; ++i)
    GL_CHECK(!__builtin_mul_overflow(n, dims_[i], &n), "shape ", str(),
             ": the element count overflows int64");
  return n;
}

bool Shape::operator==(const Shape& o) const {
  if (rank_ != o.rank_) return false;
  for (int i = 0; i < rank_; ++i)
    if (dims_[i] != o.dims_[i]) return false;
  return true;
}

std::string Shape::str() const {
  std::string s = "[";
  for (int i = 0; i < rank_; ++i) {
    if (i) s += ",";
    s += std::to_string(dims_[i]);
  }
  return s + "]";
}

Shape broadcast_shapes(const Shape& a, const Shape& b) {
  int rank = std::max(a.rank(), b.rank());
  std::vector<int64_t> out(rank);
  for (int i = 0; i < rank; ++i) {
    int ia = a.rank() - rank + i, ib = b.rank() - rank + i;
    int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    GL_CHECK(da == db || da == 1 || db == 1, "shapes ", a.str(), " and ", b.str(),
             " cannot be broadcast together");
    out[i] = da == 1 ? db : da;
  }
  return Shape(out);
}

}  // namespace gradlens
