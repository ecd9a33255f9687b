// 2-D images, row-major [y][x]. Image<T> owns 64-byte aligned storage with
// rows packed (stride == nx); ImageView<T> views any memory with a row stride
// (a sub-image, a tensor slice, a caller's array). Both hand their pixels to
// Eigen as a Map, without copies. Pixel (x, y) is column x of row y; pixel
// centres are at integer coordinates, 0-based.
#pragma once
#include <Eigen/Core>
#include <cstddef>
#include <limits>
#include <string>
#include <type_traits>

#include "deepshear/engine/aligned.hpp"
#include "deepshear/engine/error.hpp"

namespace ds {

template <class T>
using RowMatrix = Eigen::Matrix<std::remove_const_t<T>, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using MatrixMap = std::conditional_t<std::is_const_v<T>,
    Eigen::Map<const RowMatrix<T>, Eigen::Unaligned, Eigen::OuterStride<>>,
    Eigen::Map<RowMatrix<T>, Eigen::Unaligned, Eigen::OuterStride<>>>;

// A view of ny rows of nx pixels; row y starts at data + y * stride.
template <class T>
class ImageView {
 public:
  ImageView() = default;
  ImageView(T* data, long ny, long nx, long stride = -1)
      : data_(data), ny_(ny), nx_(nx), stride_(stride < 0 ? nx : stride) {}
  // A view of T from a view of non-const T.
  template <class U, class = std::enable_if_t<std::is_same_v<const U, T>>>
  ImageView(const ImageView<U>& o) : data_(o.data()), ny_(o.ny()), nx_(o.nx()), stride_(o.stride()) {}

  T* data() const { return data_; }
  long ny() const { return ny_; }
  long nx() const { return nx_; }
  long stride() const { return stride_; }
  long size() const { return ny_ * nx_; }
  bool contiguous() const { return stride_ == nx_; }
  T& operator()(long y, long x) const { return data_[y * stride_ + x]; }
  T* row(long y) const { return data_ + y * stride_; }

  // The sub-image of h rows and w columns whose first pixel is (x0, y0).
  ImageView sub(long y0, long x0, long h, long w) const {
    require(y0 >= 0 && x0 >= 0 && h >= 0 && w >= 0 && y0 + h <= ny_ && x0 + w <= nx_,
            "sub-image [" + std::to_string(y0) + "+" + std::to_string(h) + ", " +
                std::to_string(x0) + "+" + std::to_string(w) + "] outside a " +
                std::to_string(ny_) + "x" + std::to_string(nx_) + " image");
    return ImageView(data_ + y0 * stride_ + x0, h, w, stride_);
  }
  // An Eigen matrix (ny x nx, row-major) over the same memory.
  MatrixMap<T> matrix() const { return MatrixMap<T>(data_, ny_, nx_, Eigen::OuterStride<>(stride_)); }

  template <class F>
  void for_each(F&& f) const {
    for (long y = 0; y < ny_; ++y)
      for (long x = 0; x < nx_; ++x) f(data_[y * stride_ + x]);
  }
  double sum() const {
    double s = 0;
    for_each([&](const T& v) { s += double(v); });
    return s;
  }

 private:
  T* data_ = nullptr;
  long ny_ = 0, nx_ = 0, stride_ = 0;
};

// An owning ny x nx image, zero-initialised, rows packed, 64-byte aligned.
template <class T>
class Image {
 public:
  Image() = default;
  Image(long ny, long nx) : ny_(ny), nx_(nx), buf_(checked_size(ny, nx)) {}
  Image(long ny, long nx, T value) : ny_(ny), nx_(nx), buf_(checked_size(ny, nx), value) {}
  // A deep copy of any view.
  template <class U>
  static Image copy_of(const ImageView<U>& v) {
    Image out(v.ny(), v.nx());
    for (long y = 0; y < v.ny(); ++y)
      for (long x = 0; x < v.nx(); ++x) out(y, x) = static_cast<T>(v(y, x));
    return out;
  }

  T* data() { return buf_.data(); }
  const T* data() const { return buf_.data(); }
  long ny() const { return ny_; }
  long nx() const { return nx_; }
  long size() const { return ny_ * nx_; }
  bool empty() const { return size() == 0; }
  T& operator()(long y, long x) { return buf_[y * nx_ + x]; }
  const T& operator()(long y, long x) const { return buf_[y * nx_ + x]; }
  T* begin() { return buf_.begin(); }
  T* end() { return buf_.end(); }
  const T* begin() const { return buf_.begin(); }
  const T* end() const { return buf_.end(); }

  ImageView<T> view() { return ImageView<T>(data(), ny_, nx_); }
  ImageView<const T> view() const { return ImageView<const T>(data(), ny_, nx_); }
  operator ImageView<T>() { return view(); }
  operator ImageView<const T>() const { return view(); }
  MatrixMap<T> matrix() { return view().matrix(); }
  MatrixMap<const T> matrix() const { return view().matrix(); }
  double sum() const { return view().sum(); }
  void fill(T v) {
    for (auto& p : buf_) p = v;
  }

 private:
  static std::size_t checked_size(long ny, long nx) {
    require(ny >= 0 && nx >= 0, "image shape " + std::to_string(ny) + "x" + std::to_string(nx) + " is negative");
    // The pixel count must neither wrap nor exceed what a long indexes (2^32 x 2^32 wraps to 0).
    require(nx == 0 || ny <= (std::numeric_limits<long>::max() / long(sizeof(T))) / nx,
            "image shape " + std::to_string(ny) + "x" + std::to_string(nx) + " is too large");
    return std::size_t(ny) * std::size_t(nx);
  }
  long ny_ = 0, nx_ = 0;
  AlignedBuffer<T> buf_;
};

using ImageF = Image<float>;
using ImageD = Image<double>;

}  // namespace ds
