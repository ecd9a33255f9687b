// An n-d float tensor with 64-byte aligned, packed, row-major storage: the last
// index varies fastest. shape() = {d0, d1, ..., dk}; element (i0, ..., ik) is at
// ((i0 * d1 + i1) * d2 + ...) + ik. Used by nn/ for activations and weights.
#pragma once
#include <Eigen/Core>
#include <initializer_list>
#include <string>
#include <vector>

#include "deepshear/engine/aligned.hpp"
#include "deepshear/engine/error.hpp"
#include "deepshear/engine/image.hpp"

namespace ds {

class Tensor {
 public:
  using Shape = std::vector<long>;
  Tensor() = default;
  explicit Tensor(Shape shape) : shape_(std::move(shape)), buf_(count(shape_)) {}
  Tensor(std::initializer_list<long> shape) : Tensor(Shape(shape)) {}
  // A tensor over memory the caller owns (no copy, any alignment): packed,
  // row-major, count(shape) floats at `data`, alive while the tensor lives.
  // Readers (the estimators) see the caller's values; a resize() or a copy
  // gets memory of its own. The const_cast is the caller's promise to pass
  // it only where it is read.
  static Tensor borrow(const float* data, Shape shape) {
    Tensor t;
    t.buf_ = AlignedBuffer<float>::borrow(const_cast<float*>(data), count(shape));
    t.shape_ = std::move(shape);
    return t;
  }

  const Shape& shape() const { return shape_; }
  long dim(int i) const { return shape_.at(std::size_t(i < 0 ? int(shape_.size()) + i : i)); }
  int rank() const { return int(shape_.size()); }
  long size() const { return long(buf_.size()); }
  float* data() { return buf_.data(); }
  const float* data() const { return buf_.data(); }
  float& operator[](long i) { return buf_[std::size_t(i)]; }
  const float& operator[](long i) const { return buf_[std::size_t(i)]; }
  float* begin() { return buf_.begin(); }
  float* end() { return buf_.end(); }
  const float* begin() const { return buf_.begin(); }
  const float* end() const { return buf_.end(); }

  // Changes the shape; the element count must stay the same.
  void reshape(Shape s) {
    require(count(s) == buf_.size(), "tensor reshape " + shape_string(shape_) + " -> " + shape_string(s) +
                                         " changes the element count");
    shape_ = std::move(s);
  }
  // Resizes to a new shape; contents are zeroed.
  void resize(Shape s) {
    buf_.resize(count(s));
    shape_ = std::move(s);
  }
  void fill(float v) {
    for (auto& x : buf_) x = v;
  }
  // The tensor as a (d0) x (d1 * ... * dk) row-major matrix, without copying.
  MatrixMap<float> matrix() {
    long r = shape_.empty() ? 1 : shape_[0];
    long c = r ? size() / r : 0;
    return MatrixMap<float>(data(), r, c, Eigen::OuterStride<>(c));
  }
  // The i-th slice along the first axis as an image, when the tensor is
  // (n, ny, nx) (or (n, ny, nx, 1)).
  ImageView<float> image(long i) {
    require(rank() >= 3, "tensor " + shape_string(shape_) + " has no image slices");
    long ny = shape_[1], nx = size() / (shape_[0] * ny);
    return ImageView<float>(data() + i * ny * nx, ny, nx);
  }

  static std::string shape_string(const Shape& s) {
    std::string out = "(";
    for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + ")";
  }

 private:
  static std::size_t count(const Shape& s) {
    std::size_t n = 1;
    for (long d : s) {
      require(d >= 0, "tensor shape " + shape_string(s) + " has a negative dimension");
      n *= std::size_t(d);
    }
    return n;
  }
  Shape shape_;
  AlignedBuffer<float> buf_;
};

}  // namespace ds
