// 2-D real <-> complex FFTs on FFTW3, float and double, following FFTW's
// plan/execute split: a plan is made once per (shape, precision, direction)
// under a lock, cached for the process, and executed from any thread at once
// (FFTW's new-array execute functions are thread-safe).
//
// Shapes: a real array is ny x nx, row-major [y][x]; its transform is the
// half-spectrum ny x (nx/2 + 1), row-major, complex. Unnormalised, as FFTW:
// forward then inverse multiplies by ny * nx. Sign: forward is exp(-2 pi i k.x / n).
// Arrays passed in must be 64-byte aligned (AlignedBuffer, Image, Tensor are);
// others are copied to aligned scratch first.
#pragma once
#include <complex>
#include <cstddef>

#include "deepshear/engine/aligned.hpp"

namespace ds {

template <class T>
class Fft2d {
 public:
  using Complex = std::complex<T>;
  // The cached plan pair for real arrays of ny x nx.
  static const Fft2d& get(long ny, long nx);

  long ny() const { return ny_; }
  long nx() const { return nx_; }
  long nxc() const { return nx_ / 2 + 1; }  // complex row length

  // in: ny x nx real; out: ny x (nx/2+1) complex. `in` is not changed.
  void forward(const T* in, Complex* out) const;
  // in: ny x (nx/2+1) complex (overwritten: FFTW destroys the input of a
  // complex-to-real transform); out: ny x nx real, scaled by ny * nx.
  void inverse(Complex* in, T* out) const;

  Fft2d(const Fft2d&) = delete;
  Fft2d& operator=(const Fft2d&) = delete;
  ~Fft2d();

 private:
  Fft2d(long ny, long nx);
  long ny_, nx_;
  void* forward_plan_ = nullptr;
  void* inverse_plan_ = nullptr;
};

using Fft2dF = Fft2d<float>;
using Fft2dD = Fft2d<double>;

// The FFTW library's version string.
const char* fftw_version_string();

}  // namespace ds
