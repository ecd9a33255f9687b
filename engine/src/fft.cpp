#include "deepshear/engine/fft.hpp"

#include <fftw3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "deepshear/engine/error.hpp"

namespace ds {

// FFTW's planner is not thread-safe: every plan is made under this lock.
static std::mutex& planner_mutex() {
  static std::mutex m;
  return m;
}

static bool aligned(const void* p) { return (reinterpret_cast<std::uintptr_t>(p) % kAlignment) == 0; }

template <class T>
struct FftwApi;

template <>
struct FftwApi<double> {
  static void* plan_r2c(int ny, int nx, double* in, std::complex<double>* out) {
    return fftw_plan_dft_r2c_2d(ny, nx, in, reinterpret_cast<fftw_complex*>(out), FFTW_ESTIMATE);
  }
  static void* plan_c2r(int ny, int nx, std::complex<double>* in, double* out) {
    return fftw_plan_dft_c2r_2d(ny, nx, reinterpret_cast<fftw_complex*>(in), out, FFTW_ESTIMATE);
  }
  static void exec_r2c(void* p, double* in, std::complex<double>* out) {
    fftw_execute_dft_r2c(static_cast<fftw_plan>(p), in, reinterpret_cast<fftw_complex*>(out));
  }
  static void exec_c2r(void* p, std::complex<double>* in, double* out) {
    fftw_execute_dft_c2r(static_cast<fftw_plan>(p), reinterpret_cast<fftw_complex*>(in), out);
  }
  static void destroy(void* p) { fftw_destroy_plan(static_cast<fftw_plan>(p)); }
};

template <>
struct FftwApi<float> {
  static void* plan_r2c(int ny, int nx, float* in, std::complex<float>* out) {
    return fftwf_plan_dft_r2c_2d(ny, nx, in, reinterpret_cast<fftwf_complex*>(out), FFTW_ESTIMATE);
  }
  static void* plan_c2r(int ny, int nx, std::complex<float>* in, float* out) {
    return fftwf_plan_dft_c2r_2d(ny, nx, reinterpret_cast<fftwf_complex*>(in), out, FFTW_ESTIMATE);
  }
  static void exec_r2c(void* p, float* in, std::complex<float>* out) {
    fftwf_execute_dft_r2c(static_cast<fftwf_plan>(p), in, reinterpret_cast<fftwf_complex*>(out));
  }
  static void exec_c2r(void* p, std::complex<float>* in, float* out) {
    fftwf_execute_dft_c2r(static_cast<fftwf_plan>(p), reinterpret_cast<fftwf_complex*>(in), out);
  }
  static void destroy(void* p) { fftwf_destroy_plan(static_cast<fftwf_plan>(p)); }
};

template <class T>
Fft2d<T>::Fft2d(long ny, long nx) : ny_(ny), nx_(nx) {
  require(ny > 0 && nx > 0, "FFT shape " + std::to_string(ny) + "x" + std::to_string(nx) + " is not positive");
  // Plan on aligned scratch arrays; FFTW_ESTIMATE does not touch their contents.
  AlignedBuffer<T> real(std::size_t(ny * nx));
  AlignedBuffer<Complex> cplx(std::size_t(ny * nxc()));
  forward_plan_ = FftwApi<T>::plan_r2c(int(ny), int(nx), real.data(), cplx.data());
  inverse_plan_ = FftwApi<T>::plan_c2r(int(ny), int(nx), cplx.data(), real.data());
  require(forward_plan_ && inverse_plan_, "FFTW could not plan a " + std::to_string(ny) + "x" + std::to_string(nx) + " transform");
}

template <class T>
Fft2d<T>::~Fft2d() {
  std::lock_guard<std::mutex> lock(planner_mutex());
  if (forward_plan_) FftwApi<T>::destroy(forward_plan_);
  if (inverse_plan_) FftwApi<T>::destroy(inverse_plan_);
}

template <class T>
const Fft2d<T>& Fft2d<T>::get(long ny, long nx) {
  static std::map<std::pair<long, long>, std::unique_ptr<Fft2d<T>>> cache;
  std::lock_guard<std::mutex> lock(planner_mutex());
  auto& slot = cache[{ny, nx}];
  if (!slot) slot.reset(new Fft2d<T>(ny, nx));
  return *slot;
}

template <class T>
void Fft2d<T>::forward(const T* in, Complex* out) const {
  const std::size_t nr = std::size_t(ny_ * nx_), nc = std::size_t(ny_ * nxc());
  // FFTW's r2c leaves its input alone, but its signature is non-const.
  T* src = const_cast<T*>(in);
  AlignedBuffer<T> in_copy;
  AlignedBuffer<Complex> out_copy;
  if (!aligned(in)) {
    in_copy.resize(nr);
    std::copy(in, in + nr, in_copy.data());
    src = in_copy.data();
  }
  Complex* dst = out;
  if (!aligned(out)) {
    out_copy.resize(nc);
    dst = out_copy.data();
  }
  FftwApi<T>::exec_r2c(forward_plan_, src, dst);
  if (dst != out) std::copy(dst, dst + nc, out);
}

template <class T>
void Fft2d<T>::inverse(Complex* in, T* out) const {
  const std::size_t nr = std::size_t(ny_ * nx_), nc = std::size_t(ny_ * nxc());
  Complex* src = in;
  AlignedBuffer<Complex> in_copy;
  AlignedBuffer<T> out_copy;
  if (!aligned(in)) {
    in_copy.resize(nc);
    std::copy(in, in + nc, in_copy.data());
    src = in_copy.data();
  }
  T* dst = out;
  if (!aligned(out)) {
    out_copy.resize(nr);
    dst = out_copy.data();
  }
  FftwApi<T>::exec_c2r(inverse_plan_, src, dst);
  if (dst != out) std::copy(dst, dst + nr, out);
}

template class Fft2d<float>;
template class Fft2d<double>;

const char* fftw_version_string() { return fftw_version; }

}  // namespace ds
