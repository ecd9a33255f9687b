// Layer kernels (see ops.hpp for layouts). Matrix products go through Eigen
// maps of the flat buffers, so float and double share one code path.
#include "deepshear/nn/ops.hpp"

// GCC 12 reports false "may be used uninitialized" warnings inside Eigen's
// AVX-512 product kernels; they are not ours.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// nn/ parallelises over samples itself; Eigen's own OpenMP splitting of a
// product would change with the thread count (and with it the rounding), so
// results could differ between 1 and N threads. Products here run serially.
#define EIGEN_DONT_PARALLELIZE
#include <Eigen/Core>
#include "deepshear/engine/constants.hpp"
#include "deepshear/engine/random.hpp"
#include <cmath>
#include <cstring>

namespace ds::nn {

namespace {
template <class T>
using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using MapM = Eigen::Map<RowMat<T>>;
template <class T>
using CMapM = Eigen::Map<const RowMat<T>>;
template <class T>
using CMapV = Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>>;
template <class T>
using MapV = Eigen::Map<Eigen::Matrix<T, 1, Eigen::Dynamic>>;
}  // namespace

template <class T>
void im2col(const T* x, long n, long h, long w, long c, long k, long stride, T* cols) {
  const long ho = conv_out(h, k, stride), wo = conv_out(w, k, stride), kc = k * c;
  for (long b = 0; b < n; ++b)
    for (long oy = 0; oy < ho; ++oy)
      for (long ox = 0; ox < wo; ++ox) {
        T* dst = cols + ((b * ho + oy) * wo + ox) * k * kc;
        for (long ky = 0; ky < k; ++ky) {
          const T* src = x + ((b * h + oy * stride + ky) * w + ox * stride) * c;
          // A plain loop: rows are short (k floats for one channel), a memcpy call would cost more.
          for (long j = 0; j < kc; ++j) dst[ky * kc + j] = src[j];
        }
      }
}

template <class T>
void col2im_add(const T* dcols, long n, long h, long w, long c, long k, long stride, T* dx) {
  const long ho = conv_out(h, k, stride), wo = conv_out(w, k, stride), kc = k * c;
  for (long b = 0; b < n; ++b)
    for (long oy = 0; oy < ho; ++oy)
      for (long ox = 0; ox < wo; ++ox) {
        const T* src = dcols + ((b * ho + oy) * wo + ox) * k * kc;
        for (long ky = 0; ky < k; ++ky) {
          T* dst = dx + ((b * h + oy * stride + ky) * w + ox * stride) * c;
          for (long j = 0; j < kc; ++j) dst[j] += src[ky * kc + j];
        }
      }
}

template <class T>
void conv2d_forward(const T* x, long n, long h, long w, long c, const T* wt, const T* b, long k, long s, long o,
                    T* cols, T* y) {
  const long rows = n * conv_out(h, k, s) * conv_out(w, k, s), kkc = k * k * c;
  const T* a = x;
  if (!(k == 1 && s == 1)) {
    im2col(x, n, h, w, c, k, s, cols);
    a = cols;
  }
  MapM<T> Y(y, rows, o);
  Y.noalias() = CMapM<T>(a, rows, kkc) * CMapM<T>(wt, kkc, o);
  Y.rowwise() += CMapV<T>(b, o);
}

template <class T>
void conv2d_backward(const T* x, const T* cols, long n, long h, long w, long c, const T* wt, long k, long s, long o,
                     const T* dy, T* dx, T* dwt, T* db, T* dcols, bool accumulate_dx) {
  const long rows = n * conv_out(h, k, s) * conv_out(w, k, s), kkc = k * k * c;
  const bool direct = (k == 1 && s == 1);
  const T* a = direct ? x : cols;
  CMapM<T> DY(dy, rows, o);
  if (dwt) MapM<T>(dwt, kkc, o).noalias() += CMapM<T>(a, rows, kkc).transpose() * DY;
  if (db) MapV<T>(db, o) += DY.colwise().sum();
  if (dx) {
    if (direct) {
      if (accumulate_dx) MapM<T>(dx, rows, kkc).noalias() += DY * CMapM<T>(wt, kkc, o).transpose();
      else MapM<T>(dx, rows, kkc).noalias() = DY * CMapM<T>(wt, kkc, o).transpose();
    } else {
      MapM<T>(dcols, rows, kkc).noalias() = DY * CMapM<T>(wt, kkc, o).transpose();
      if (!accumulate_dx) std::memset(static_cast<void*>(dx), 0, sizeof(T) * std::size_t(n * h * w * c));
      col2im_add(dcols, n, h, w, c, k, s, dx);
    }
  }
}

template <class T>
void affine_forward(const T* x, long n, long i, const T* wt, const T* b, long o, T* y) {
  MapM<T> Y(y, n, o);
  Y.noalias() = CMapM<T>(x, n, i) * CMapM<T>(wt, i, o);
  Y.rowwise() += CMapV<T>(b, o);
}

template <class T>
void affine_backward(const T* x, long n, long i, const T* wt, long o, const T* dy, T* dx, T* dwt, T* db,
                     bool accumulate_dx) {
  CMapM<T> DY(dy, n, o);
  if (dwt) MapM<T>(dwt, i, o).noalias() += CMapM<T>(x, n, i).transpose() * DY;
  if (db) MapV<T>(db, o) += DY.colwise().sum();
  if (dx) {
    if (accumulate_dx) MapM<T>(dx, n, i).noalias() += DY * CMapM<T>(wt, i, o).transpose();
    else MapM<T>(dx, n, i).noalias() = DY * CMapM<T>(wt, i, o).transpose();
  }
}

template <class T>
void relu_forward(const T* x, long m, T* y) {
  for (long j = 0; j < m; ++j) y[j] = x[j] > T(0) ? x[j] : T(0);
}
template <class T>
void relu_backward(const T* y, long m, const T* dy, T* dx) {
  for (long j = 0; j < m; ++j) dx[j] += y[j] > T(0) ? dy[j] : T(0);
}
template <class T>
void tanh_forward(const T* x, long m, T* y) {
  for (long j = 0; j < m; ++j) y[j] = std::tanh(x[j]);
}
template <class T>
void tanh_backward(const T* y, long m, const T* dy, T* dx) {
  for (long j = 0; j < m; ++j) dx[j] += dy[j] * (T(1) - y[j] * y[j]);
}
template <class T>
void mask_forward(const T* x, const float* mask, long m, T* y) {
  for (long j = 0; j < m; ++j) y[j] = x[j] * T(mask[j]);
}

void dropout_mask(double rate, std::uint64_t seed, std::uint64_t purpose, std::uint64_t first_item, long n, long per,
                  float* mask) {
  const float keep = float(1.0 / (1.0 - rate));
  const std::uint64_t cut = std::uint64_t(rate * 4294967296.0);
  for (long r = 0; r < n; ++r) {
    RandomStream rng(seed, purpose, first_item + std::uint64_t(r));
    for (long j = r * per; j < (r + 1) * per; ++j) mask[j] = rng.next_u32() < cut ? 0.0f : keep;
  }
}

template <class T>
void mask_backward(const float* mask, long m, const T* dy, T* dx) {
  for (long j = 0; j < m; ++j) dx[j] += dy[j] * T(mask[j]);
}

template <class T>
double mse_forward(const T* p, const T* t, long count) {
  double s = 0;
  for (long j = 0; j < count; ++j) {
    double d = double(p[j]) - double(t[j]);
    s += d * d;
  }
  return count ? s / double(count) : 0.0;
}
template <class T>
void mse_backward(const T* p, const T* t, long count, double dL, T* dp) {
  const double f = 2.0 * dL / double(count);
  for (long j = 0; j < count; ++j) dp[j] += T(f * (double(p[j]) - double(t[j])));
}

template <class T>
double gaussian_nll_forward(const T* out, const T* t, long n, long m) {
  const double log2pi = std::log(2.0 * kPi);
  double s = 0;
  for (long r = 0; r < n; ++r)
    for (long j = 0; j < m; ++j) {
      double mu = out[r * 2 * m + j], lv = out[r * 2 * m + m + j], d = double(t[r * m + j]) - mu;
      s += 0.5 * (lv + d * d * std::exp(-lv) + log2pi);
    }
  return s / double(n * m);
}
template <class T>
void gaussian_nll_backward(const T* out, const T* t, long n, long m, double dL, T* dout) {
  const double f = dL / double(n * m);
  for (long r = 0; r < n; ++r)
    for (long j = 0; j < m; ++j) {
      double mu = out[r * 2 * m + j], lv = out[r * 2 * m + m + j], d = double(t[r * m + j]) - mu;
      double iv = std::exp(-lv);
      dout[r * 2 * m + j] += T(-f * d * iv);
      dout[r * 2 * m + m + j] += T(f * 0.5 * (1.0 - d * d * iv));
    }
}

#define DS_NN_INSTANTIATE(T)                                                                                        \
  template void im2col<T>(const T*, long, long, long, long, long, long, T*);                                       \
  template void col2im_add<T>(const T*, long, long, long, long, long, long, T*);                                   \
  template void conv2d_forward<T>(const T*, long, long, long, long, const T*, const T*, long, long, long, T*, T*); \
  template void conv2d_backward<T>(const T*, const T*, long, long, long, long, const T*, long, long, long,        \
                                   const T*, T*, T*, T*, T*, bool);                                                   \
  template void affine_forward<T>(const T*, long, long, const T*, const T*, long, T*);                             \
  template void affine_backward<T>(const T*, long, long, const T*, long, const T*, T*, T*, T*, bool);              \
  template void relu_forward<T>(const T*, long, T*);                                                               \
  template void relu_backward<T>(const T*, long, const T*, T*);                                                    \
  template void tanh_forward<T>(const T*, long, T*);                                                               \
  template void tanh_backward<T>(const T*, long, const T*, T*);                                                    \
  template void mask_forward<T>(const T*, const float*, long, T*);                                                 \
  template void mask_backward<T>(const float*, long, const T*, T*);                                                \
  template double mse_forward<T>(const T*, const T*, long);                                                        \
  template void mse_backward<T>(const T*, const T*, long, double, T*);                                             \
  template double gaussian_nll_forward<T>(const T*, const T*, long, long);                                         \
  template void gaussian_nll_backward<T>(const T*, const T*, long, long, double, T*);

DS_NN_INSTANTIATE(float)
DS_NN_INSTANTIATE(double)

}  // namespace ds::nn
