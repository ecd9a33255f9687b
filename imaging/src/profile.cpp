// Analytic profiles, composition, transforms (see profile.hpp).
// GCC 12 reports false -W(maybe-)uninitialized warnings inside its AVX-512
// intrinsics (avx512fintrin.h: `__Y = __Y` placeholders), as in noise.cpp.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include "deepshear/imaging/profile.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <deque>
#if defined(__AVX__) || defined(__AVX512F__)
#include <immintrin.h>
#endif
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>

#include "deepshear/engine/constants.hpp"
#include "deepshear/engine/error.hpp"

namespace ds::img {

namespace {

constexpr double kHuge = 1e30;  // "infinite" maxk/stepk of a point source

std::string fmt(double v) {
  std::ostringstream s;
  s.precision(6);
  s << v;
  return s.str();
}

double sinc_half(double x) {  // sin(x)/x with the x -> 0 limit
  return std::abs(x) < 1e-4 ? 1 - x * x / 6 : std::sin(x) / x;
}

// Bessel J0: power series below x = 12 (terms stay below ~1e4, so ~1e-12
// absolute), Hankel's asymptotic expansion above (its smallest term ~1e-11).
double bessel_j0(double x) {
  x = std::abs(x);
  if (x < 12) {
    const double q = -0.25 * x * x;
    double term = 1, s = 1;
    for (int k = 1; k < 80; ++k) {
      term *= q / (double(k) * k);
      s += term;
      if (std::abs(term) < 1e-17 * std::max(1.0, std::abs(s))) break;
    }
    return s;
  }
  // a_k = prod_{j=1..k} (2j-1)^2 / (k! 8^k); P = sum (-1)^m a_2m / x^2m, Q = sum (-1)^m a_(2m+1) / x^(2m+1).
  double P = 0, Q = 0, a = 1, xp = 1;
  for (int k = 0; k < 14; ++k) {
    if (k > 0) {
      a *= (2.0 * k - 1) * (2.0 * k - 1) / (8.0 * k);
      xp *= x;
    }
    double t = a / xp;
    int m = k / 2;
    double sg = (m % 2) ? -1.0 : 1.0;
    if (k % 2 == 0) P += sg * t; else Q += sg * t;
  }
  const double ph = x - 0.25 * kPi;
  return std::sqrt(2 / (kPi * x)) * (P * std::cos(ph) - Q * std::sin(ph));
}

// ln x for finite x > 0 to ~1e-12: exponent bits plus 2 atanh((m-1)/(m+1))
// for the mantissa m in [sqrt(1/2), sqrt(2)) (series to z^13, |z| <= 0.172).
// Integer operations and no branch, so loops over it vectorise: m > sqrt 2 is
// compared on the bits (positive doubles order as integers), m / 2 is one off
// the exponent field, and the exponent becomes a double through 2^52 + e.
inline double fast_ln(double x) {
  std::uint64_t bits;
  std::memcpy(&bits, &x, 8);
  std::uint64_t mb = (bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;  // mantissa in [1, 2)
  const std::uint64_t big = mb > 0x3ff6a09e667f3bcdULL ? 1 : 0;              // m > 1.4142135623730951
  mb -= big << 52;                                                            // m / 2
  const std::uint64_t eb = 0x4330000000000000ULL | (((bits >> 52) & 0x7ff) + big);
  double m, ed;
  std::memcpy(&m, &mb, 8);
  std::memcpy(&ed, &eb, 8);
  const double e = (ed - 4503599627370496.0) - 1023;  // exact
  const double z = (m - 1) / (m + 1), z2 = z * z;
  const double p = 1 + z2 * (1.0 / 3 + z2 * (1.0 / 5 + z2 * (1.0 / 7 + z2 * (1.0 / 9 + z2 * (1.0 / 11 + z2 * (1.0 / 13))))));
  return e * 0.6931471805599453 + 2 * z * p;
}

// Row kernels over flat arrays. Their pointers are restrict parameters (GCC
// ignores restrict on locals), so the loops vectorise.
// k2[i] = |k0 + i a|^2.
// (A 32-bit index: int -> double converts in vectors on AVX2 too, int64 only with AVX-512.)
void row_k2(double* __restrict k2, double k0x, double k0y, double ax, double ay, long n) {
  const int m = int(n);
  for (int i = 0; i < m; ++i) {
    const double kx = k0x + double(i) * ax, ky = k0y + double(i) * ay;
    k2[i] = kx * kx + ky * ky;
  }
}
// o = (v, 0) as complex.
void row_real_to_complex(double* __restrict o, const double* __restrict v, long n) {
  for (long i = 0; i < n; ++i) {
    o[2 * i] = v[i];
    o[2 * i + 1] = 0;
  }
}
// o *= p with p = (rr + i ri)(cr + i ci), o interleaved complex (a row's phase factors).
void row_phase(double* __restrict o, const double* __restrict cr, const double* __restrict ci, double rr, double ri,
               long n) {
  for (long i = 0; i < n; ++i) {
    const double pr = rr * cr[i] - ri * ci[i], pi = rr * ci[i] + ri * cr[i];
    const double a = o[2 * i], b = o[2 * i + 1];
    o[2 * i] = a * pr - b * pi;
    o[2 * i + 1] = a * pi + b * pr;
  }
}
// o += v p with p = (rr + i ri)(cr + i ci), o and v interleaved complex.
void row_phase_add(double* __restrict o, const double* __restrict v, const double* __restrict cr,
                   const double* __restrict ci, double rr, double ri, long n) {
  for (long i = 0; i < n; ++i) {
    const double pr = rr * cr[i] - ri * ci[i], pi = rr * ci[i] + ri * cr[i];
    const double a = v[2 * i], b = v[2 * i + 1];
    o[2 * i] += a * pr - b * pi;
    o[2 * i + 1] += a * pi + b * pr;
  }
}
// o = o (pr + i pi) s.
void row_cmul_scaled(double* __restrict o, const double* __restrict pr, const double* __restrict pi, double s,
                     long n) {
  for (long i = 0; i < n; ++i) {
    const double a = o[2 * i], b = o[2 * i + 1];
    o[2 * i] = (a * pr[i] - b * pi[i]) * s;
    o[2 * i + 1] = (a * pi[i] + b * pr[i]) * s;
  }
}
// o += v (pr + i pi) s, o and v interleaved complex.
void row_cmul_scaled_add(double* __restrict o, const double* __restrict v, const double* __restrict pr,
                         const double* __restrict pi, double s, long n) {
  for (long i = 0; i < n; ++i) {
    const double a = v[2 * i], b = v[2 * i + 1];
    o[2 * i] += (a * pr[i] - b * pi[i]) * s;
    o[2 * i + 1] += (a * pi[i] + b * pr[i]) * s;
  }
}
// The knot sum of one lattice row: a[ix] = sum_j (rr_j + i ri_j)(cr[j][ix] + i ci[j][ix]),
// cr/ci rows of stride nxp, a multiple of 8 (zero-padded). A few
// vectors of columns at a time with the accumulators in registers (GCC vector
// extensions of the target's width; GCC's loop vectoriser picks the knot loop).
#if defined(__AVX512F__)
constexpr long kVecD = 8;  // doubles per vector register
#elif defined(__AVX__)
constexpr long kVecD = 4;
#else
constexpr long kVecD = 2;
#endif
typedef double vecd __attribute__((vector_size(kVecD * sizeof(double))));
inline vecd loadv(const double* p) {
  vecd v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
// With bre/bim (not null), also the sum with the conjugate row factors, (rr - i ri):
// the same four partial sums combined with the other signs.
void row_knots(double* __restrict are, double* __restrict aim, double* __restrict bre, double* __restrict bim,
               const double* __restrict cr, const double* __restrict ci, const double* __restrict rr,
               const double* __restrict ri, long nkn, long nxp) {
  long x0 = 0;
  // Two vectors of columns per pass, the products r c, q d, r d, q c summed in
  // separate accumulators (one fused multiply-add each; combined at the end,
  // a rounding-level reordering): eight independent chains hide the latency.
  for (; x0 + 2 * kVecD <= nxp; x0 += 2 * kVecD) {
    vecd a1 = {}, a2 = {}, a3 = {}, a4 = {}, b1 = {}, b2 = {}, b3 = {}, b4 = {};
    for (long j = 0; j < nkn; ++j) {
      const double* cj = cr + j * nxp + x0;
      const double* dj = ci + j * nxp + x0;
      const vecd c = loadv(cj), d = loadv(dj), e = loadv(cj + kVecD), g = loadv(dj + kVecD);
      const double r = rr[j], q = ri[j];
      a1 += r * c;
      a2 += q * d;
      a3 += r * d;
      a4 += q * c;
      b1 += r * e;
      b2 += q * g;
      b3 += r * g;
      b4 += q * e;
    }
    const vecd ar = a1 - a2, ai = a3 + a4, br = b1 - b2, bi = b3 + b4;
    std::memcpy(are + x0, &ar, sizeof ar);
    std::memcpy(aim + x0, &ai, sizeof ai);
    std::memcpy(are + x0 + kVecD, &br, sizeof br);
    std::memcpy(aim + x0 + kVecD, &bi, sizeof bi);
    if (bre) {
      const vecd cr2 = a1 + a2, ci2 = a3 - a4, dr2 = b1 + b2, di2 = b3 - b4;
      std::memcpy(bre + x0, &cr2, sizeof cr2);
      std::memcpy(bim + x0, &ci2, sizeof ci2);
      std::memcpy(bre + x0 + kVecD, &dr2, sizeof dr2);
      std::memcpy(bim + x0 + kVecD, &di2, sizeof di2);
    }
  }
  for (; x0 < nxp; x0 += kVecD) {
    vecd a1 = {}, a2 = {}, a3 = {}, a4 = {};
    for (long j = 0; j < nkn; ++j) {
      const vecd c = loadv(cr + j * nxp + x0), d = loadv(ci + j * nxp + x0);
      const double r = rr[j], q = ri[j];
      a1 += r * c;
      a2 += q * d;
      a3 += r * d;
      a4 += q * c;
    }
    const vecd ar = a1 - a2, ai = a3 + a4;
    std::memcpy(are + x0, &ar, sizeof ar);
    std::memcpy(aim + x0, &ai, sizeof ai);
    if (bre) {
      const vecd cr2 = a1 + a2, ci2 = a3 - a4;
      std::memcpy(bre + x0, &cr2, sizeof cr2);
      std::memcpy(bim + x0, &ci2, sizeof ci2);
    }
  }
}

// Exponential: v = f / (1 + k2 r0^2)^(3/2). std::sqrt keeps an errno path that
// stops GCC vectorising the loop, so the vector code is written out.
void row_exponential(const double* __restrict k2, double* __restrict v, double r0, double f, long n) {
  long i = 0;
#if defined(__AVX512F__)
  // t^(-3/2) = y^3 with y = 1/sqrt(t): the 14-bit estimate and two Newton steps
  // (relative error ~1e-16, a rounding-level difference from f / (t sqrt t));
  // division and square root are the slow units.
  const __m512d one = _mm512_set1_pd(1.0), rr = _mm512_set1_pd(r0), ff = _mm512_set1_pd(f);
  const __m512d half = _mm512_set1_pd(0.5), three_halves = _mm512_set1_pd(1.5);
  for (; i + 8 <= n; i += 8) {
    const __m512d t = _mm512_add_pd(one, _mm512_mul_pd(_mm512_mul_pd(_mm512_loadu_pd(k2 + i), rr), rr));
    const __m512d ht = _mm512_mul_pd(half, t);
    __m512d y = _mm512_rsqrt14_pd(t);
    y = _mm512_mul_pd(y, _mm512_fnmadd_pd(ht, _mm512_mul_pd(y, y), three_halves));
    y = _mm512_mul_pd(y, _mm512_fnmadd_pd(ht, _mm512_mul_pd(y, y), three_halves));
    _mm512_storeu_pd(v + i, _mm512_mul_pd(_mm512_mul_pd(ff, y), _mm512_mul_pd(y, y)));
  }
#elif defined(__AVX__)
  const __m256d one = _mm256_set1_pd(1.0), rr = _mm256_set1_pd(r0), ff = _mm256_set1_pd(f);
  for (; i + 4 <= n; i += 4) {
    const __m256d t = _mm256_add_pd(one, _mm256_mul_pd(_mm256_mul_pd(_mm256_loadu_pd(k2 + i), rr), rr));
    _mm256_storeu_pd(v + i, _mm256_div_pd(ff, _mm256_mul_pd(t, _mm256_sqrt_pd(t))));
  }
#endif
  for (; i < n; ++i) {
    const double t = 1 + k2[i] * r0 * r0;
    v[i] = f / (t * std::sqrt(t));
  }
}

// Complex product without the C99 NaN/inf recovery path (the values here are finite).
inline cdouble cmul(cdouble a, cdouble b) {
  return {a.real() * b.real() - a.imag() * b.imag(), a.real() * b.imag() + a.imag() * b.real()};
}

// Per-thread lattice scratch for Sum and Convolution, reused across stamps
// (nested compositions take successive buffers; no allocation per stamp).
class LatticeScratch {
 public:
  explicit LatticeScratch(std::size_t n) {
    auto& p = pool();
    if (depth() >= p.size()) p.emplace_back();
    buf_ = &p[depth()++];
    if (buf_->size() < n) buf_->resize(n);
  }
  ~LatticeScratch() { --depth(); }
  LatticeScratch(const LatticeScratch&) = delete;
  LatticeScratch& operator=(const LatticeScratch&) = delete;
  cdouble* data() { return buf_->data(); }

 private:
  static std::deque<std::vector<cdouble>>& pool() {
    thread_local std::deque<std::vector<cdouble>> p;  // deque: references stay valid as it grows
    return p;
  }
  static std::size_t& depth() {
    thread_local std::size_t d = 0;
    return d;
  }
  std::vector<cdouble>* buf_;
};

// A radial profile evaluates F(k^2) only.
class Radial : public Profile {
 public:
  virtual double kvalue_k2(double k2) const = 0;
  cdouble kvalue(double kx, double ky) const override { return kvalue_k2(kx * kx + ky * ky); }
  void klattice(const KLattice& L, cdouble* out) const override { lattice_of(*this, L, out); }

 protected:
  // The lattice loop for a concrete (final) profile P, so kvalue_k2 inlines.
  template <class P>
  static void lattice_of(const P& p, const KLattice& L, cdouble* out) {
    for (long iy = 0; iy < L.ny; ++iy) {
      const double bx = L.k0x + iy * L.bx, by = L.k0y + iy * L.by;
      cdouble* o = out + iy * L.nx;
      for (long ix = 0; ix < L.nx; ++ix) {
        const double kx = bx + ix * L.ax, ky = by + ix * L.ay;
        o[ix] = p.kvalue_k2(kx * kx + ky * ky);  // devirtualised for final P
      }
    }
  }
  // The same lattice, a row at a time through P::values_k2(k2, v, n) (v[i] =
  // F(k2[i]), a loop the compiler vectorises), then written as (v, 0).
  template <class P>
  static void lattice_rows(const P& p, const KLattice& L, cdouble* out) {
    thread_local std::vector<double> k2, v;
    k2.resize(std::size_t(L.nx));
    v.resize(std::size_t(L.nx));
    for (long iy = 0; iy < L.ny; ++iy) {
      row_k2(k2.data(), L.k0x + iy * L.bx, L.k0y + iy * L.by, L.ax, L.ay, L.nx);
      p.values_k2(k2.data(), v.data(), L.nx);
      row_real_to_complex(reinterpret_cast<double*>(out + iy * L.nx), v.data(), L.nx);
    }
  }
};

// ---------------------------------------------------------------- Gaussian
class Gaussian final : public Radial {
 public:
  Gaussian(double sigma, double flux) : s_(sigma), f_(flux) {
    DS_REQUIRE(sigma > 0 && std::isfinite(sigma), "gaussian: sigma " + fmt(sigma) + " must be > 0");
  }
  double flux() const override { return f_; }
  double kvalue_k2(double k2) const override { return f_ * std::exp(-0.5 * k2 * s_ * s_); }
  // Along a lattice row exp(q(ix)) with q quadratic: successive ratios obey
  // r(ix+1) = r(ix) exp(-s^2 |a|^2), so one exp per 16 points (restarted exactly).
  // The recurrence runs on kVecD rows at once (one row per vector lane, the same
  // products as row by row, so the same values); the stores go back row by row.
  void klattice(const KLattice& L, cdouble* out) const override {
    const double s2 = s_ * s_, aa = L.ax * L.ax + L.ay * L.ay;
    const double c = std::exp(-s2 * aa);
    // Start of the block at ix0 of row iy: v, r; false when it needs the direct path.
    auto start = [&](long iy, long ix0, double& v, double& r) {
      const double rx = L.k0x + iy * L.bx, ry = L.k0y + iy * L.by;
      const double kx = rx + ix0 * L.ax, ky = ry + ix0 * L.ay;
      v = f_ * std::exp(-0.5 * s2 * (kx * kx + ky * ky));
      r = std::exp(-0.5 * s2 * (2 * (kx * L.ax + ky * L.ay) + aa));
      return !(v == 0 || !std::isfinite(r));
    };
    auto block = [&](long iy, long ix0, long ix1) {
      const double rx = L.k0x + iy * L.bx, ry = L.k0y + iy * L.by;
      cdouble* o = out + iy * L.nx;
      double v, r;
      if (!start(iy, ix0, v, r)) {
        for (long ix = ix0; ix < ix1; ++ix) {
          double px = rx + ix * L.ax, py = ry + ix * L.ay;
          o[ix] = f_ * std::exp(-0.5 * s2 * (px * px + py * py));
        }
        return;
      }
      for (long ix = ix0; ix < ix1; ++ix) {
        o[ix] = v;
        v *= r;
        r *= c;
      }
    };
    long iy0 = 0;
    for (; iy0 + kVecD <= L.ny; iy0 += kVecD) {
      for (long ix0 = 0; ix0 < L.nx; ix0 += 16) {
        const long ix1 = std::min(L.nx, ix0 + 16);
        vecd V, R;
        bool ok = true;
        for (long l = 0; l < kVecD; ++l) {
          double v, r;
          ok = start(iy0 + l, ix0, v, r) && ok;
          V[l] = v;
          R[l] = r;
        }
        if (!ok) {
          for (long l = 0; l < kVecD; ++l) block(iy0 + l, ix0, ix1);
          continue;
        }
        const vecd C = vecd{} + c;
        double* o = reinterpret_cast<double*>(out + iy0 * L.nx);
        for (long ix = ix0; ix < ix1; ++ix) {
          for (long l = 0; l < kVecD; ++l) {
            o[2 * (l * L.nx + ix)] = V[l];
            o[2 * (l * L.nx + ix) + 1] = 0;
          }
          V *= R;
          R *= C;
        }
      }
    }
    for (long iy = iy0; iy < L.ny; ++iy)
      for (long ix0 = 0; ix0 < L.nx; ix0 += 16) block(iy, ix0, std::min(L.nx, ix0 + 16));
  }
  double maxk() const override { return std::sqrt(-2 * std::log(GsParams::maxk_threshold)) / s_; }
  double stepk() const override {
    double R = std::max(std::sqrt(-2 * std::log(GsParams::folding_threshold)), GsParams::stepk_minimum_hlr * 1.1774100225154747);
    return kPi / (R * s_);
  }
  bool has_xvalue() const override { return true; }
  double xvalue(double x, double y) const override {
    return f_ / (2 * kPi * s_ * s_) * std::exp(-0.5 * (x * x + y * y) / (s_ * s_));
  }
  std::string describe() const override { return "Gaussian(sigma=" + fmt(s_) + ", flux=" + fmt(f_) + ")"; }

 private:
  double s_, f_;
};

// ---------------------------------------------------------------- Exponential
class Exponential final : public Radial {
 public:
  void klattice(const KLattice& L, cdouble* out) const override { lattice_rows(*this, L, out); }
  void values_k2(const double* k2, double* v, long n) const { row_exponential(k2, v, r0_, f_, n); }
  Exponential(double r0, double flux) : r0_(r0), f_(flux) {
    DS_REQUIRE(r0 > 0 && std::isfinite(r0), "exponential: scale radius " + fmt(r0) + " must be > 0");
  }
  double flux() const override { return f_; }
  double kvalue_k2(double k2) const override {
    double t = 1 + k2 * r0_ * r0_;
    return f_ / (t * std::sqrt(t));
  }
  double maxk() const override {
    return std::sqrt(std::pow(GsParams::maxk_threshold, -2.0 / 3.0) - 1) / r0_;
  }
  double stepk() const override {
    // (1 + R) exp(-R) = folding_threshold, by Newton from R = 5 (once: R does not depend on r0).
    static const double R = [] {
      double x = 5;
      for (int i = 0; i < 50; ++i) {
        double f = (1 + x) * std::exp(-x) - GsParams::folding_threshold;
        double df = -x * std::exp(-x);
        x -= f / df;
      }
      return std::max(x, GsParams::stepk_minimum_hlr * 1.6783469900166605);
    }();
    return kPi / (R * r0_);
  }
  bool has_xvalue() const override { return true; }
  double xvalue(double x, double y) const override {
    return f_ / (2 * kPi * r0_ * r0_) * std::exp(-std::sqrt(x * x + y * y) / r0_);
  }
  std::string describe() const override { return "Exponential(r0=" + fmt(r0_) + ", flux=" + fmt(f_) + ")"; }

 private:
  double r0_, f_;
};

// ---------------------------------------------------------------- Sersic
// lk = ln(k) = 0.5 ln(k2 scale) and the table coordinate u = (lk - l0) inv
// (garbage where k2 = 0; the caller does not use it there).
void row_lnk(const double* __restrict k2, double scale, double l0, double inv, double* __restrict lk,
             double* __restrict u, long n) {
  for (long i = 0; i < n; ++i) {
    const double l = 0.5 * fast_ln(k2[i] * scale);
    lk[i] = l;
    u[i] = (l - l0) * inv;
  }
}

// The Hankel transform of a unit-flux, unit-hlr Sersic profile, tabulated on a
// uniform grid in ln k and interpolated by Catmull-Rom cubics (4 points).
// Below the table, F = 1 - k^2 <r^2>/4; above it, F is taken as 0 (the table
// runs until |F| < 3e-4, then a power-law tail).
struct SersicTable {
  double n = 1, trunc = 0;       // trunc in hlr units, 0 = none
  double b = 1;                  // exp(-b r^(1/n)), r in hlr units
  double norm = 1;               // 2 pi int exp(-b r^(1/n)) r dr over [0, rmax]
  double rmax = 1;               // integration limit (trunc, or where the tail < 1e-7)
  double r2mean = 0;             // <r^2> in hlr^2
  double lnk0 = 0, dlnk = 0.04, inv_dlnk = 25;  // table grid
  std::vector<double> F;
  double tail_lnk = 0, tail_F = 0, tail_slope = 0;  // power-law tail beyond the table
  double maxk = 1, stepk = 1;    // hlr units

  double intensity(double r) const { return std::exp(-b * std::pow(r, 1.0 / n)) / norm; }

  // 2 pi int_0^rmax I(r) J0(k r) r dr, integrated in ln r near the centre
  // (the cusp) and in half-periods of J0 further out, each piece by 16-point
  // Gauss-Legendre; stops once the remaining tail is below 1e-9.
  double hankel(double k) const {
    static const double xg[8] = {0.0950125098376374, 0.2816035507792589, 0.4580167776572274, 0.6178762444026438,
                                 0.7554044083550030, 0.8656312023878318, 0.9445750230732326, 0.9894009349916499};
    static const double wg[8] = {0.1894506104550685, 0.1826034150449236, 0.1691565193950025, 0.1495959888165767,
                                 0.1246289712555339, 0.0951585116824928, 0.0622535239386479, 0.0271524594117541};
    auto f = [&](double r) { return intensity(r) * bessel_j0(k * r) * r; };
    double total = 0;
    // Inner part in t = ln r from r = 1e-10 to r1.
    double r1 = std::min(rmax, std::max(0.5 / std::max(k, 1e-30), 1e-5));
    r1 = std::min(r1, rmax);
    double t0 = std::log(1e-7), t1 = std::log(r1);
    int nseg = std::max(4, int(std::ceil((t1 - t0) / 1.0)));
    double h = (t1 - t0) / nseg;
    for (int s = 0; s < nseg; ++s) {
      double c = t0 + (s + 0.5) * h, hw = 0.5 * h;
      for (int i = 0; i < 8; ++i)
        for (int sg = -1; sg <= 1; sg += 2) {
          double t = c + sg * hw * xg[i], r = std::exp(t);
          total += wg[i] * hw * f(r) * r;
        }
    }
    // Outer part in pieces of at most a half period and at most 0.3 r.
    double r = r1;
    while (r < rmax) {
      double step = std::min(kPi / std::max(k, 1e-30), 0.3 * r);
      double r2 = std::min(rmax, r + step);
      // 8-point Gauss-Legendre per (at most) half period.
      static const double x8[4] = {0.1834346424956498, 0.5255324099163290, 0.7966664774136267, 0.9602898564975363};
      static const double w8[4] = {0.3626837833783620, 0.3137066458778873, 0.2223810344533745, 0.1012285362903763};
      double c = 0.5 * (r + r2), hw = 0.5 * (r2 - r), piece = 0;
      for (int i = 0; i < 4; ++i) piece += w8[i] * hw * (f(c + hw * x8[i]) + f(c - hw * x8[i]));
      total += piece;
      r = r2;
      // Tail bound: amplitude of the oscillating remainder ~ I(r) r sqrt(2/(pi k r)) / k.
      if (k * r > 10) {
        double bound = 2 * kPi * intensity(r) * r * std::sqrt(2 / (kPi * k * r)) * 2 / k;
        if (bound < 1e-9) break;
      }
    }
    return 2 * kPi * total;
  }

  // F at k^2 (hlr units).
  double value_k2(double k2) const {
    if (!(k2 > 0)) return 1;
    const double lk = 0.5 * fast_ln(k2);
    double u = (lk - lnk0) * inv_dlnk;
    if (u < 1) return 1 - 0.25 * k2 * r2mean;
    long i = long(u);
    if (i + 2 >= long(F.size())) return tail_slope < 0 ? tail_F * std::exp(tail_slope * (lk - tail_lnk)) : 0.0;
    const double t = u - double(i);
    const double* c = coef.data() + 4 * i;
    return c[0] + t * (c[1] + t * (c[2] + t * c[3]));
  }
  // v[i] = f * value_k2(k2[i] * scale) for a row: the logarithms in one
  // vectorised pass, then the table look-ups.
  void values_k2(const double* __restrict k2, double scale, double f, double* __restrict v, long n) const {
    thread_local std::vector<double> lkb, ub;
    lkb.resize(std::size_t(n));
    ub.resize(std::size_t(n));
    const double* lkv = lkb.data();
    const double* uv = ub.data();
    row_lnk(k2, scale, lnk0, inv_dlnk, lkb.data(), ub.data(), n);
    sersic_lookup(k2, scale, f, lkv, uv, v, n);
  }
  // The look-ups: below the table (u < 1) 1 - k^2 <r^2>/4 (exactly 1 at k = 0),
  // inside the cubic of interval floor(u) (u < nF - 2), beyond it the tail. The
  // first two as selects in vector code, the rare tail points after.
  void sersic_lookup(const double* __restrict k2, double scale, double f, const double* __restrict lkv,
                     const double* __restrict uv, double* __restrict v, long n) const {
    const double hi = double(F.size()) - 2, r2m = r2mean;
    const double* __restrict cf = coef.data();
    long ntail = 0, i = 0;
    // The same arithmetic as the scalar loop below, eight (AVX-512) or four
    // (AVX2, coefficients gathered) points at a time: GCC does not vectorise
    // that loop's selects itself.
#if defined(__AVX512F__)
    {
      const __m512d one = _mm512_set1_pd(1.0), hv = _mm512_set1_pd(hi), sc = _mm512_set1_pd(scale);
      const __m512d quarter = _mm512_set1_pd(0.25), rv = _mm512_set1_pd(r2m), fv = _mm512_set1_pd(f);
      for (; i + 8 <= n; i += 8) {
        const __m512d u = _mm512_loadu_pd(uv + i);
        const __mmask8 lo = _mm512_cmp_pd_mask(u, one, _CMP_LT_OQ), tl = _mm512_cmp_pd_mask(u, hv, _CMP_GE_OQ);
        const __m512d uc = _mm512_mask_blend_pd(__mmask8(lo | tl), u, one);
        const __m256i j = _mm512_cvttpd_epi32(uc);
        const __m512d t = _mm512_sub_pd(uc, _mm512_cvtepi32_pd(j));
        // The four coefficients of each point are contiguous: eight 4-wide loads
        // and a transpose (cheaper than four gathers).
        alignas(32) int ji[8];
        _mm256_store_si256(reinterpret_cast<__m256i*>(ji), j);
        const __m512d z0 = _mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_loadu_pd(cf + 4 * ji[0])),
                                              _mm256_loadu_pd(cf + 4 * ji[1]), 1);
        const __m512d z1 = _mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_loadu_pd(cf + 4 * ji[2])),
                                              _mm256_loadu_pd(cf + 4 * ji[3]), 1);
        const __m512d z2 = _mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_loadu_pd(cf + 4 * ji[4])),
                                              _mm256_loadu_pd(cf + 4 * ji[5]), 1);
        const __m512d z3 = _mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_loadu_pd(cf + 4 * ji[6])),
                                              _mm256_loadu_pd(cf + 4 * ji[7]), 1);
        const __m512d t0 = _mm512_unpacklo_pd(z0, z1), t1 = _mm512_unpackhi_pd(z0, z1);  // a0 a2 c0 c2 a1 a3 c1 c3
        const __m512d t2 = _mm512_unpacklo_pd(z2, z3), t3 = _mm512_unpackhi_pd(z2, z3);
        const __m512i ia = _mm512_set_epi64(13, 9, 12, 8, 5, 1, 4, 0), ic = _mm512_set_epi64(15, 11, 14, 10, 7, 3, 6, 2);
        const __m512d c0 = _mm512_permutex2var_pd(t0, ia, t2), c2 = _mm512_permutex2var_pd(t0, ic, t2);
        const __m512d c1 = _mm512_permutex2var_pd(t1, ia, t3), c3 = _mm512_permutex2var_pd(t1, ic, t3);
        const __m512d p = _mm512_fmadd_pd(t, _mm512_fmadd_pd(t, _mm512_fmadd_pd(t, c3, c2), c1), c0);
        const __m512d q = _mm512_fnmadd_pd(_mm512_mul_pd(quarter, _mm512_mul_pd(_mm512_loadu_pd(k2 + i), sc)), rv, one);
        _mm512_storeu_pd(v + i, _mm512_mul_pd(fv, _mm512_mask_blend_pd(lo, p, q)));
        ntail += __builtin_popcount(unsigned(tl));
      }
    }
#elif defined(__AVX2__) && defined(__FMA__)
    {
      const __m256d one = _mm256_set1_pd(1.0), hv = _mm256_set1_pd(hi), sc = _mm256_set1_pd(scale);
      const __m256d quarter = _mm256_set1_pd(0.25), rv = _mm256_set1_pd(r2m), fv = _mm256_set1_pd(f);
      for (; i + 4 <= n; i += 4) {
        const __m256d u = _mm256_loadu_pd(uv + i);
        const __m256d lo = _mm256_cmp_pd(u, one, _CMP_LT_OQ), tl = _mm256_cmp_pd(u, hv, _CMP_GE_OQ);
        const __m256d uc = _mm256_blendv_pd(u, one, _mm256_or_pd(lo, tl));
        const __m128i j = _mm256_cvttpd_epi32(uc);
        const __m256d t = _mm256_sub_pd(uc, _mm256_cvtepi32_pd(j));
        const __m128i j4 = _mm_slli_epi32(j, 2);
        const __m256d c0 = _mm256_i32gather_pd(cf, j4, 8), c1 = _mm256_i32gather_pd(cf + 1, j4, 8);
        const __m256d c2 = _mm256_i32gather_pd(cf + 2, j4, 8), c3 = _mm256_i32gather_pd(cf + 3, j4, 8);
        const __m256d p = _mm256_fmadd_pd(t, _mm256_fmadd_pd(t, _mm256_fmadd_pd(t, c3, c2), c1), c0);
        const __m256d q = _mm256_fnmadd_pd(_mm256_mul_pd(quarter, _mm256_mul_pd(_mm256_loadu_pd(k2 + i), sc)), rv, one);
        _mm256_storeu_pd(v + i, _mm256_mul_pd(fv, _mm256_blendv_pd(p, q, lo)));
        ntail += __builtin_popcount(unsigned(_mm256_movemask_pd(tl)));
      }
    }
#endif
    for (; i < n; ++i) {
      const double u = uv[i];
      const double uc = (u >= 1 && u < hi) ? u : 1.0;
      const int j = int(uc);
      const double t = uc - double(j);
      const double* c = cf + 4 * j;
      const double p = c[0] + t * (c[1] + t * (c[2] + t * c[3]));
      const double q = 1 - 0.25 * (k2[i] * scale) * r2m;
      v[i] = f * (u < 1 ? q : p);
      ntail += u >= hi ? 1 : 0;
    }
    if (ntail == 0) return;
    for (long i = 0; i < n; ++i)
      if (uv[i] >= hi) v[i] = f * (tail_slope < 0 ? tail_F * std::exp(tail_slope * (lkv[i] - tail_lnk)) : 0.0);
  }
  // Per-interval coefficients of the Catmull-Rom cubic through points
  // i-1, i, i+1, i+2, filled once.
  std::vector<double> coef;
  void make_coefficients() {
    coef.assign(4 * F.size(), 0.0);
    for (std::size_t i = 1; i + 2 < F.size(); ++i) {
      const double fm = F[i - 1], f0 = F[i], f1 = F[i + 1], f2 = F[i + 2];
      coef[4 * i] = f0;
      coef[4 * i + 1] = 0.5 * (f1 - fm);
      coef[4 * i + 2] = fm - 2.5 * f0 + 2 * f1 - 0.5 * f2;
      coef[4 * i + 3] = 1.5 * (f0 - f1) + 0.5 * (f2 - fm);
    }
  }
};

double solve_bn(double n, double trunc) {
  // P(2n, b) = 0.5 P(2n, b t^(1/n)) (t = inf: P = 1), by bisection on b.
  double lo = 1e-6, hi = 4 * n + 5;
  for (int it = 0; it < 200; ++it) {
    double b = 0.5 * (lo + hi);
    double full = trunc > 0 ? gamma_p(2 * n, b * std::pow(trunc, 1 / n)) : 1.0;
    double half = gamma_p(2 * n, b);
    if (half < 0.5 * full) lo = b; else hi = b;
  }
  return 0.5 * (lo + hi);
}

std::shared_ptr<const SersicTable> build_sersic_table(double n, double trunc) {
  auto T = std::make_shared<SersicTable>();
  T->n = n;
  T->trunc = trunc;
  T->b = solve_bn(n, trunc);
  double b = T->b;
  double a = 2 * n;
  double enclosed_max = trunc > 0 ? gamma_p(a, b * std::pow(trunc, 1 / n)) : 1.0;
  // norm = 2 pi n Gamma(2n) P(2n, b rmax^(1/n)) / b^(2n)
  double gnorm = 2 * kPi * n * std::exp(std::lgamma(a) - a * std::log(b));
  if (trunc > 0) {
    T->rmax = trunc;
  } else {
    // Where the remaining flux fraction falls below 1e-7.
    double x = a;
    while (1 - gamma_p(a, x) > 1e-7) x *= 1.2;
    T->rmax = std::pow(x / b, n);
    enclosed_max = gamma_p(a, x);
  }
  T->norm = gnorm * enclosed_max;
  // <r^2> = Gamma(4n) P(4n, b rmax^(1/n)) / (Gamma(2n) P(2n, ..) b^(2n))
  {
    double xm = b * std::pow(T->rmax, 1 / n);
    T->r2mean = std::exp(std::lgamma(2 * a) - std::lgamma(a) - a * std::log(b)) * gamma_p(2 * a, xm) /
                gamma_p(a, xm);
  }
  // stepk: R enclosing 1 - folding_threshold of the flux, at least 5 hlr.
  {
    double target = (1 - GsParams::folding_threshold) * enclosed_max;
    double lo = 0, hi = T->rmax;
    for (int it = 0; it < 100; ++it) {
      double m = 0.5 * (lo + hi);
      if (gamma_p(a, b * std::pow(m, 1 / n)) < target) lo = m; else hi = m;
    }
    double R = std::max(0.5 * (lo + hi), GsParams::stepk_minimum_hlr);
    T->stepk = kPi / R;
  }
  // Table from k where the quadratic series holds (k^2 <r^2>/4 < 2e-6) until |F| < 1e-4 (checked over a stretch).
  double kmin = std::sqrt(8e-6 / T->r2mean);
  T->lnk0 = std::log(kmin) - T->dlnk;  // one point below kmin for the cubic stencil
  T->F.clear();
  double maxk = 0;
  int below = 0;
  for (long i = 0; i < 5000; ++i) {
    double k = std::exp(T->lnk0 + i * T->dlnk);
    double v = T->hankel(k);
    T->F.push_back(v);
    if (std::abs(v) >= GsParams::maxk_threshold) maxk = k;
    if (std::abs(v) < 3e-4 && k > 1) {
      if (++below >= 8) break;
    } else {
      below = 0;
    }
  }
  // Beyond the table: the power law through its last two points when F is
  // positive and falling there (the cusp's asymptotic k^-p), else 0.
  const std::size_t m = T->F.size();
  T->tail_lnk = T->lnk0 + double(m - 1) * T->dlnk;
  T->tail_F = T->F[m - 1];
  T->make_coefficients();
  T->tail_slope = 0;
  if (m > 2 && T->F[m - 1] > 0 && T->F[m - 2] > T->F[m - 1])
    T->tail_slope = std::log(T->F[m - 1] / T->F[m - 2]) / T->dlnk;
  T->maxk = std::max(maxk, 1.0);
  return T;
}

std::shared_ptr<const SersicTable> sersic_table(double n, double trunc) {
  static std::mutex m;
  static std::map<std::pair<long long, long long>, std::shared_ptr<const SersicTable>> cache;
  // n to 1e-4 and trunc/hlr to 1e-4 identify a table.
  auto key = std::make_pair((long long)std::llround(n * 1e4), (long long)std::llround(trunc * 1e4));
  std::lock_guard<std::mutex> lock(m);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  auto t = build_sersic_table(key.first * 1e-4, key.second * 1e-4);
  cache[key] = t;
  return t;
}

class Sersic final : public Radial {
 public:
  void klattice(const KLattice& L, cdouble* out) const override { lattice_rows(*this, L, out); }
  void values_k2(const double* k2, double* v, long n) const { t_->values_k2(k2, hlr2_, f_, v, n); }
  Sersic(double n, double hlr, double flux, double trunc) : n_(n), hlr_(hlr), f_(flux), trunc_(trunc) {
    DS_REQUIRE(n >= 0.3 - 1e-12 && n <= 6.2 + 1e-12, "sersic: index n = " + fmt(n) + " outside [0.3, 6.2]");
    DS_REQUIRE(hlr > 0 && std::isfinite(hlr), "sersic: half-light radius " + fmt(hlr) + " must be > 0");
    DS_REQUIRE(trunc == 0 || trunc > 1.5 * hlr, "sersic: truncation radius " + fmt(trunc) +
                                                 " must be 0 (none) or > 1.5 hlr (" + fmt(1.5 * hlr) + ")");
    t_ = sersic_table(n, trunc > 0 ? trunc / hlr : 0.0);
    hlr2_ = hlr * hlr;
  }
  double flux() const override { return f_; }
  double kvalue_k2(double k2) const override { return f_ * t_->value_k2(k2 * hlr2_); }
  double maxk() const override { return t_->maxk / hlr_; }
  double stepk() const override { return t_->stepk / hlr_; }
  bool has_xvalue() const override { return true; }
  double xvalue(double x, double y) const override {
    double r = std::sqrt(x * x + y * y) / hlr_;
    if (trunc_ > 0 && r * hlr_ > trunc_) return 0;
    return f_ * t_->intensity(r) / (hlr_ * hlr_);
  }
  std::string describe() const override {
    return "Sersic(n=" + fmt(n_) + ", hlr=" + fmt(hlr_) + ", flux=" + fmt(f_) +
           (trunc_ > 0 ? ", trunc=" + fmt(trunc_) : std::string()) + ")";
  }

 private:
  double n_, hlr_, f_, trunc_, hlr2_ = 1;
  std::shared_ptr<const SersicTable> t_;
};

// ---------------------------------------------------------------- Moffat
class Moffat final : public Radial {
 public:
  void klattice(const KLattice& L, cdouble* out) const override { lattice_of(*this, L, out); }
  Moffat(double beta, double fwhm, double flux) : beta_(beta), f_(flux) {
    DS_REQUIRE(beta > 1.1 && beta < 100, "moffat: beta " + fmt(beta) + " must be in (1.1, 100)");
    DS_REQUIRE(fwhm > 0, "moffat: fwhm " + fmt(fwhm) + " must be > 0");
    rd_ = fwhm / (2 * std::sqrt(std::pow(2.0, 1 / beta) - 1));
    nu_ = beta - 1;
    knorm_ = std::pow(2.0, 2 - beta) / std::tgamma(beta - 1);
    // maxk: |F(q)| = maxk_threshold, F decreasing in q.
    double lo = 0, hi = 1;
    while (kq(hi) > GsParams::maxk_threshold) hi *= 2;
    for (int i = 0; i < 100; ++i) {
      double m = 0.5 * (lo + hi);
      (kq(m) > GsParams::maxk_threshold ? lo : hi) = m;
    }
    maxk_ = hi / rd_;
    double R = rd_ * std::sqrt(std::pow(GsParams::folding_threshold, 1 / (1 - beta)) - 1);
    double hlr = rd_ * std::sqrt(std::pow(0.5, 1 / (1 - beta)) - 1);
    stepk_ = kPi / std::max(R, GsParams::stepk_minimum_hlr * hlr);
  }
  double kq(double q) const { return q < 1e-8 ? 1.0 : knorm_ * std::pow(q, nu_) * std::cyl_bessel_k(nu_, q); }
  double flux() const override { return f_; }
  double kvalue_k2(double k2) const override {
    double q = std::sqrt(k2) * rd_;
    return q > 700 ? 0.0 : f_ * kq(q);
  }
  double maxk() const override { return maxk_; }
  double stepk() const override { return stepk_; }
  bool has_xvalue() const override { return true; }
  double xvalue(double x, double y) const override {
    return f_ * nu_ / (kPi * rd_ * rd_) * std::pow(1 + (x * x + y * y) / (rd_ * rd_), -beta_);
  }
  std::string describe() const override { return "Moffat(beta=" + fmt(beta_) + ", rd=" + fmt(rd_) + ", flux=" + fmt(f_) + ")"; }

 private:
  double beta_, f_, rd_, nu_, knorm_, maxk_, stepk_;
};

// ---------------------------------------------------------------- Airy
class Airy final : public Radial {
 public:
  void klattice(const KLattice& L, cdouble* out) const override { lattice_of(*this, L, out); }
  Airy(double lod, double flux, double obscuration) : lod_(lod), f_(flux), eps_(obscuration) {
    DS_REQUIRE(lod > 0, "airy: lam_over_d must be > 0");
    DS_REQUIRE(obscuration >= 0 && obscuration < 1, "airy: obscuration " + fmt(obscuration) + " must be in [0, 1)");
  }
  double flux() const override { return f_; }
  // The normalised autocorrelation of the pupil (GalSim's SBAiry): rho = k lam/D / (2 pi),
  // the pupil shifted by s = 2 rho outer radii. Circle: (2/pi)(acos rho - rho sqrt(1 - rho^2)).
  // Annulus (inner radius eps): [O(1,1) - 2 O(1,eps) + O(eps,eps)] / (pi (1 - eps^2)), O(a,b) the
  // overlap area of circles of radii a, b at distance s.
  double kvalue_k2(double k2) const override {
    double rho = std::sqrt(k2) * lod_ / (2 * kPi);
    if (rho >= 1) return 0;
    if (eps_ == 0) return f_ * (2 / kPi) * (std::acos(rho) - rho * std::sqrt(1 - rho * rho));
    const double e = eps_, sep = 2 * rho;
    auto o11 = [](double t) {  // unit circles at distance t
      return t >= 2 ? 0.0 : 2 * std::acos(0.5 * t) - 0.5 * t * std::sqrt(4 - t * t);
    };
    double o1e;  // radii 1 and e at distance sep
    if (sep <= 1 - e) {
      o1e = kPi * e * e;
    } else if (sep >= 1 + e) {
      o1e = 0;
    } else {
      const double c1 = std::clamp((sep * sep + e * e - 1) / (2 * sep * e), -1.0, 1.0);
      const double c2 = std::clamp((sep * sep + 1 - e * e) / (2 * sep), -1.0, 1.0);
      const double q = (-sep + e + 1) * (sep + e - 1) * (sep - e + 1) * (sep + e + 1);
      o1e = e * e * std::acos(c1) + std::acos(c2) - 0.5 * std::sqrt(std::max(q, 0.0));
    }
    const double oee = e * e * o11(sep / e);
    return f_ * (o11(sep) - 2 * o1e + oee) / (kPi * (1 - e * e));
  }
  double maxk() const override { return 2 * kPi / lod_; }
  double stepk() const override {
    // 1 - EE(x) ~ 2 / (pi x (1 - eps)) at large x = pi theta / (lam/D) (GalSim's SBAiry).
    double x = 2 / (kPi * GsParams::folding_threshold * (1 - eps_));
    return kPi / (x * lod_ / kPi);
  }
  bool has_xvalue() const override { return true; }
  // f pi / (4 (lam/D)^2 (1 - eps^2)) [2 J1(u)/u - eps^2 2 J1(eps u)/(eps u)]^2, u = pi r / (lam/D).
  double xvalue(double x, double y) const override {
    double u = kPi * std::sqrt(x * x + y * y) / lod_;
    auto jinc = [](double t) { return t < 1e-6 ? 1.0 : 2 * std::cyl_bessel_j(1.0, t) / t; };
    if (eps_ == 0) {
      double a = jinc(u);
      return f_ * kPi / (4 * lod_ * lod_) * a * a;
    }
    double a = jinc(u) - eps_ * eps_ * jinc(eps_ * u);
    return f_ * kPi / (4 * lod_ * lod_ * (1 - eps_ * eps_)) * a * a;
  }
  std::string describe() const override {
    return "Airy(lam_over_d=" + fmt(lod_) + (eps_ > 0 ? ", obscuration=" + fmt(eps_) : std::string()) +
           ", flux=" + fmt(f_) + ")";
  }

 private:
  double lod_, f_, eps_;
};

// ---------------------------------------------------------------- Box
class Box final : public Profile {
 public:
  Box(double w, double h, double flux) : w_(w), h_(h), f_(flux) {
    DS_REQUIRE(w > 0 && h > 0, "box: width and height must be > 0");
  }
  double flux() const override { return f_; }
  cdouble kvalue(double kx, double ky) const override { return f_ * sinc_half(0.5 * kx * w_) * sinc_half(0.5 * ky * h_); }
  // Separable on axis-aligned lattices (the pixel at the top of a drawing).
  void klattice(const KLattice& L, cdouble* out) const override {
    if (L.ay != 0 || L.bx != 0) {
      Profile::klattice(L, out);
      return;
    }
    thread_local std::vector<double> cx, ry;
    cx.resize(std::size_t(L.nx));
    ry.resize(std::size_t(L.ny));
    for (long ix = 0; ix < L.nx; ++ix) cx[std::size_t(ix)] = sinc_half(0.5 * (L.k0x + ix * L.ax) * w_);
    for (long iy = 0; iy < L.ny; ++iy) ry[std::size_t(iy)] = f_ * sinc_half(0.5 * (L.k0y + iy * L.by) * h_);
    for (long iy = 0; iy < L.ny; ++iy) {
      const double r = ry[std::size_t(iy)];
      cdouble* o = out + iy * L.nx;
      for (long ix = 0; ix < L.nx; ++ix) o[ix] = r * cx[std::size_t(ix)];
    }
  }
  double maxk() const override { return 2 / (GsParams::maxk_threshold * std::min(w_, h_)); }
  double stepk() const override { return kPi / std::max(w_, h_); }
  bool has_xvalue() const override { return true; }
  double xvalue(double x, double y) const override {
    return (std::abs(x) < 0.5 * w_ && std::abs(y) < 0.5 * h_) ? f_ / (w_ * h_) : 0.0;
  }
  std::string describe() const override { return "Box(" + fmt(w_) + "x" + fmt(h_) + ", flux=" + fmt(f_) + ")"; }

 private:
  double w_, h_, f_;
};

// ---------------------------------------------------------------- Delta
class Delta final : public Profile {
 public:
  explicit Delta(double f) : f_(f) {}
  double flux() const override { return f_; }
  cdouble kvalue(double, double) const override { return f_; }
  double maxk() const override { return kHuge; }
  double stepk() const override { return kHuge; }
  std::string describe() const override { return "Delta(flux=" + fmt(f_) + ")"; }

 private:
  double f_;
};

// exp(-i (k0 + ix a + iy b).s): column factors cx[ix], row factors ry[iy].
void lattice_phases(const KLattice& L, double sx, double sy, std::vector<cdouble>& cx, std::vector<cdouble>& ry) {
  cx.resize(std::size_t(L.nx));
  ry.resize(std::size_t(L.ny));
  double pa = L.ax * sx + L.ay * sy, pb = L.bx * sx + L.by * sy, p0 = L.k0x * sx + L.k0y * sy;
  // Powers of one rotation, re-anchored exactly every 16 steps (rounding stays ~1e-15).
  auto fill = [](cdouble* v, long n, double start, double step) {
    const cdouble r = std::polar(1.0, -step);
    for (long i0 = 0; i0 < n; i0 += 16) {
      cdouble z = std::polar(1.0, -(start + double(i0) * step));
      const long i1 = std::min(n, i0 + 16);
      for (long i = i0; i < i1; ++i) {
        v[i] = z;
        z = cmul(z, r);
      }
    }
  };
  fill(cx.data(), L.nx, 0.0, pa);
  fill(ry.data(), L.ny, p0, pb);
}

// ---------------------------------------------------------------- Clumps
class Clumps final : public Profile {
 public:
  Clumps(ProfilePtr base, std::vector<double> x, std::vector<double> y, std::vector<double> f)
      : base_(std::move(base)), x_(std::move(x)), y_(std::move(y)), f_(std::move(f)) {
    DS_REQUIRE(base_ != nullptr, "clumps: no base profile");
    DS_REQUIRE(x_.size() == y_.size() && x_.size() == f_.size(), "clumps: x, y, flux lengths differ");
    DS_REQUIRE(base_->flux() != 0, "clumps: base profile has zero flux");
    total_ = 0;
    rmax_ = 0;
    for (std::size_t j = 0; j < f_.size(); ++j) {
      total_ += f_[j];
      rmax_ = std::max(rmax_, std::hypot(x_[j], y_[j]));
    }
  }
  double flux() const override { return total_; }
  cdouble kvalue(double kx, double ky) const override {
    cdouble s = 0;
    for (std::size_t j = 0; j < f_.size(); ++j) s += f_[j] * std::polar(1.0, -(kx * x_[j] + ky * y_[j]));
    return base_->kvalue(kx, ky) / base_->flux() * s;
  }
  void klattice(const KLattice& L, cdouble* out) const override { lattice(L, out, false); }
  void klattice_add(const KLattice& L, cdouble* inout) const override { lattice(L, inout, true); }
  // out = (or +=, add) base(k) / base_flux * sum_j f_j exp(-i k.x_j).
  void lattice(const KLattice& L, cdouble* out, bool add) const {
    std::unique_ptr<LatticeScratch> tmp;
    cdouble* base = out;
    if (add) {
      tmp = std::make_unique<LatticeScratch>(std::size_t(L.nx * L.ny));
      base = tmp->data();
    }
    base_->klattice(L, base);
    // Column phases of every knot (knots x nx, small enough for L1) and row
    // factors f_j exp(-i k_row.x_j), real and imaginary parts in separate
    // arrays; per row the knot sum is vector code (row_knots: a small complex
    // matrix product, rows x knots x columns).
    // A lattice symmetric about its middle row (k0 = -half b, as drawing makes)
    // has conjugate row factors in rows half + d and half - d: one pass over
    // the knots gives both rows.
    const std::size_t nkn = f_.size(), nx = std::size_t(L.nx);
    const std::size_t nxp = (nx + 7) / 8 * 8;  // padded row stride
    const long half = (L.ny - 1) / 2;
    const double bscale = double(half) * (std::abs(L.bx) + std::abs(L.by));
    const bool sym = L.ny % 2 == 1 && std::abs(L.k0x + double(half) * L.bx) <= 1e-13 * bscale &&
                     std::abs(L.k0y + double(half) * L.by) <= 1e-13 * bscale;
    KLattice Lr = L;  // rows half..ny-1 as d = 0..half when symmetric
    if (sym) {
      Lr.k0x = Lr.k0y = 0;
      Lr.ny = half + 1;
    }
    const std::size_t nr = std::size_t(Lr.ny);
    thread_local std::vector<cdouble> cx, ry;
    thread_local std::vector<double> cre, cim, rre, rim, acc;
    cre.assign(nkn * nxp, 0.0);
    cim.assign(nkn * nxp, 0.0);
    rre.resize(nkn * nr);
    rim.resize(nkn * nr);
    acc.resize(4 * nxp);
    for (std::size_t j = 0; j < nkn; ++j) {
      lattice_phases(Lr, x_[j], y_[j], cx, ry);
      for (std::size_t ix = 0; ix < nx; ++ix) {
        cre[j * nxp + ix] = cx[ix].real();
        cim[j * nxp + ix] = cx[ix].imag();
      }
      for (std::size_t iy = 0; iy < nr; ++iy) {
        rre[iy * nkn + j] = f_[j] * ry[iy].real();
        rim[iy * nkn + j] = f_[j] * ry[iy].imag();
      }
    }
    const double inv = 1 / base_->flux();
    double* are = acc.data();
    double* aim = acc.data() + nxp;
    double* bre = acc.data() + 2 * nxp;
    double* bim = acc.data() + 3 * nxp;
    auto finish = [&](std::size_t iy, const double* sr, const double* si) {
      if (add)
        row_cmul_scaled_add(reinterpret_cast<double*>(out + iy * nx), reinterpret_cast<const double*>(base + iy * nx),
                            sr, si, inv, long(nx));
      else
        row_cmul_scaled(reinterpret_cast<double*>(out + iy * nx), sr, si, inv, long(nx));
    };
    for (std::size_t r = 0; r < nr; ++r) {
      const bool pair = sym && r > 0;
      row_knots(are, aim, pair ? bre : nullptr, pair ? bim : nullptr, cre.data(), cim.data(), rre.data() + r * nkn,
                rim.data() + r * nkn, long(nkn), long(nxp));
      if (!sym) {
        finish(r, are, aim);
        continue;
      }
      finish(std::size_t(half) + r, are, aim);
      if (pair) finish(std::size_t(half) - r, bre, bim);
    }
  }
  double maxk() const override { return base_->maxk(); }
  double stepk() const override { return kPi / (kPi / base_->stepk() + rmax_); }
  bool has_xvalue() const override { return base_->has_xvalue(); }
  double xvalue(double x, double y) const override {
    double s = 0;
    for (std::size_t j = 0; j < f_.size(); ++j) s += f_[j] * base_->xvalue(x - x_[j], y - y_[j]);
    return s / base_->flux();
  }
  std::string describe() const override {
    return "Clumps(" + std::to_string(f_.size()) + " x " + base_->describe() + ", flux=" + fmt(total_) + ")";
  }

 private:
  ProfilePtr base_;
  std::vector<double> x_, y_, f_;
  double total_, rmax_;
};

// "Name(a, b, ...)" from the profiles' own descriptions.
static std::string describe_list(const char* name, const std::vector<ProfilePtr>& p) {
  std::string s = std::string(name) + "(";
  for (std::size_t j = 0; j < p.size(); ++j) s += (j ? ", " : "") + p[j]->describe();
  return s + ")";
}

// ---------------------------------------------------------------- Sum
class Sum final : public Profile {
 public:
  explicit Sum(std::vector<ProfilePtr> p) : p_(std::move(p)) {
    DS_REQUIRE(!p_.empty(), "sum: no profiles");
    for (auto& q : p_) DS_REQUIRE(q != nullptr, "sum: a null profile");
  }
  double flux() const override {
    double s = 0;
    for (auto& q : p_) s += q->flux();
    return s;
  }
  cdouble kvalue(double kx, double ky) const override {
    cdouble s = 0;
    for (auto& q : p_) s += q->kvalue(kx, ky);
    return s;
  }
  void klattice(const KLattice& L, cdouble* out) const override {
    p_[0]->klattice(L, out);
    for (std::size_t j = 1; j < p_.size(); ++j) p_[j]->klattice_add(L, out);
  }
  double maxk() const override {
    double m = 0;
    for (auto& q : p_) m = std::max(m, q->maxk());
    return m;
  }
  double stepk() const override {
    double m = kHuge;
    for (auto& q : p_) m = std::min(m, q->stepk());
    return m;
  }
  bool has_xvalue() const override {
    for (auto& q : p_)
      if (!q->has_xvalue()) return false;
    return true;
  }
  double xvalue(double x, double y) const override {
    double s = 0;
    for (auto& q : p_) s += q->xvalue(x, y);
    return s;
  }
  std::string describe() const override { return describe_list("Sum", p_); }

 private:
  std::vector<ProfilePtr> p_;
};

// ---------------------------------------------------------------- Convolution
class Convolution final : public Profile {
 public:
  explicit Convolution(std::vector<ProfilePtr> p) : p_(std::move(p)) {
    DS_REQUIRE(!p_.empty(), "convolve: no profiles");
    for (auto& q : p_) DS_REQUIRE(q != nullptr, "convolve: a null profile");
  }
  double flux() const override {
    double s = 1;
    for (auto& q : p_) s *= q->flux();
    return s;
  }
  cdouble kvalue(double kx, double ky) const override {
    cdouble s = 1;
    for (auto& q : p_) s *= q->kvalue(kx, ky);
    return s;
  }
  void klattice(const KLattice& L, cdouble* out) const override {
    p_[0]->klattice(L, out);
    for (std::size_t j = 1; j < p_.size(); ++j) p_[j]->klattice_multiply(L, out);
  }
  double maxk() const override {
    double m = kHuge;
    for (auto& q : p_) m = std::min(m, q->maxk());
    return m;
  }
  double stepk() const override {
    double s = 0;
    for (auto& q : p_) s += 1 / (q->stepk() * q->stepk());
    return 1 / std::sqrt(s);
  }
  std::string describe() const override { return describe_list("Convolve", p_); }

 private:
  std::vector<ProfilePtr> p_;
};

// ---------------------------------------------------------------- Deconvolution
class Deconvolution final : public Profile {
 public:
  explicit Deconvolution(ProfilePtr p) : p_(std::move(p)) {
    DS_REQUIRE(p_ != nullptr, "deconvolve: null profile");
    DS_REQUIRE(p_->flux() != 0, "deconvolve: the profile has zero flux");
    fp_ = p_->flux();
    floor_ = std::abs(fp_) * GsParams::kvalue_accuracy;
    maxk2_ = p_->maxk() * p_->maxk();
  }
  double flux() const override { return 1 / fp_; }
  cdouble invert(cdouble v) const { return std::abs(v) >= floor_ ? 1.0 / v : cdouble(1 / floor_); }
  cdouble kvalue(double kx, double ky) const override {
    if (kx * kx + ky * ky > maxk2_) return 0;
    return invert(p_->kvalue(kx, ky));
  }
  void klattice(const KLattice& L, cdouble* out) const override {
    p_->klattice(L, out);
    for (long iy = 0; iy < L.ny; ++iy)
      for (long ix = 0; ix < L.nx; ++ix) {
        double kx = L.kx(ix, iy), ky = L.ky(ix, iy);
        cdouble& v = out[iy * L.nx + ix];
        v = (kx * kx + ky * ky > maxk2_) ? cdouble(0) : invert(v);
      }
  }
  double maxk() const override { return p_->maxk(); }
  double stepk() const override { return p_->stepk(); }
  std::string describe() const override { return "Deconvolve(" + p_->describe() + ")"; }

 private:
  ProfilePtr p_;
  double fp_, floor_, maxk2_;
};

// ---------------------------------------------------------------- Transformation
class Transformation final : public Profile {
 public:
  Transformation(ProfilePtr p, Jacobian J, double ox, double oy, double fr)
      : p_(std::move(p)), J_(J), ox_(ox), oy_(oy), fr_(fr) {
    DS_REQUIRE(p_ != nullptr, "transform: null profile");
    det_ = J_.det();
    DS_REQUIRE(std::abs(det_) > 1e-300 && std::isfinite(det_), "transform: singular Jacobian");
    double h1 = std::hypot(J_.a + J_.d, J_.b - J_.c), h2 = std::hypot(J_.a - J_.d, J_.b + J_.c);
    major_ = 0.5 * (h1 + h2);
    minor_ = 0.5 * std::abs(h1 - h2);
  }
  const ProfilePtr& inner() const { return p_; }
  const Jacobian& jac() const { return J_; }
  double ox() const { return ox_; }
  double oy() const { return oy_; }
  double fr() const { return fr_; }
  double flux() const override { return std::abs(det_) * fr_ * p_->flux(); }
  cdouble kvalue(double kx, double ky) const override {
    // J^T k
    double qx = J_.a * kx + J_.c * ky, qy = J_.b * kx + J_.d * ky;
    cdouble v = p_->kvalue(qx, qy) * (std::abs(det_) * fr_);
    if (ox_ != 0 || oy_ != 0) v *= std::polar(1.0, -(kx * ox_ + ky * oy_));
    return v;
  }
  void klattice(const KLattice& L, cdouble* out) const override { lattice(L, out, false); }
  void klattice_add(const KLattice& L, cdouble* inout) const override { lattice(L, inout, true); }
  double maxk() const override { return p_->maxk() / minor_; }
  double stepk() const override {
    double s = p_->stepk() / major_;
    double off = std::hypot(ox_, oy_);
    return off > 0 ? kPi / (kPi / s + off) : s;
  }
  bool has_xvalue() const override { return p_->has_xvalue(); }
  double xvalue(double x, double y) const override {
    double u = x - ox_, v = y - oy_;
    double px = (J_.d * u - J_.b * v) / det_, py = (-J_.c * u + J_.a * v) / det_;
    return fr_ * p_->xvalue(px, py);
  }
  std::string describe() const override {
    return "Transform(" + p_->describe() + ", J=[[" + fmt(J_.a) + ", " + fmt(J_.b) + "], [" + fmt(J_.c) + ", " +
           fmt(J_.d) + "]], offset=(" + fmt(ox_) + ", " + fmt(oy_) + "), flux_ratio=" + fmt(fr_) + ")";
  }

 private:
  // out = (or +=, add) |det J| fr F(J^T k) exp(-i k.offset); when adding, the inner
  // values go to scratch and the phase factors are applied in the add.
  void lattice(const KLattice& L, cdouble* out, bool add) const {
    KLattice M = L;
    M.k0x = J_.a * L.k0x + J_.c * L.k0y;
    M.k0y = J_.b * L.k0x + J_.d * L.k0y;
    M.ax = J_.a * L.ax + J_.c * L.ay;
    M.ay = J_.b * L.ax + J_.d * L.ay;
    M.bx = J_.a * L.bx + J_.c * L.by;
    M.by = J_.b * L.bx + J_.d * L.by;
    const long n = L.nx * L.ny;
    std::unique_ptr<LatticeScratch> tmp;
    cdouble* v = out;
    if (add) {
      tmp = std::make_unique<LatticeScratch>(std::size_t(n));
      v = tmp->data();
    }
    p_->klattice(M, v);
    double s = std::abs(det_) * fr_;
    if (ox_ == 0 && oy_ == 0) {
      if (add)
        for (long i = 0; i < n; ++i) out[i] += v[i] * s;
      else
        for (long i = 0; i < n; ++i) out[i] *= s;
      return;
    }
    thread_local std::vector<cdouble> cx, ry;
    thread_local std::vector<double> cs;
    lattice_phases(L, ox_, oy_, cx, ry);
    cs.resize(2 * std::size_t(L.nx));
    double* cr = cs.data();
    double* ci = cs.data() + L.nx;
    for (long ix = 0; ix < L.nx; ++ix) {
      cr[ix] = cx[std::size_t(ix)].real();
      ci[ix] = cx[std::size_t(ix)].imag();
    }
    for (long iy = 0; iy < L.ny; ++iy) {
      const cdouble r = s * ry[std::size_t(iy)];
      double* o = reinterpret_cast<double*>(out + iy * L.nx);
      if (add)
        row_phase_add(o, reinterpret_cast<const double*>(v + iy * L.nx), cr, ci, r.real(), r.imag(), L.nx);
      else
        row_phase(o, cr, ci, r.real(), r.imag(), L.nx);
    }
  }

  ProfilePtr p_;
  Jacobian J_;
  double ox_, oy_, fr_, det_, major_, minor_;
};

}  // namespace

// ---------------------------------------------------------------- public API
double Profile::xvalue(double, double) const {
  throw Error("xvalue: no analytic real-space value for " + describe());
}

void Profile::klattice(const KLattice& L, cdouble* out) const {
  for (long iy = 0; iy < L.ny; ++iy)
    for (long ix = 0; ix < L.nx; ++ix) out[iy * L.nx + ix] = kvalue(L.kx(ix, iy), L.ky(ix, iy));
}

void Profile::klattice_add(const KLattice& L, cdouble* inout) const {
  LatticeScratch tmp(std::size_t(L.nx * L.ny));
  klattice(L, tmp.data());
  for (long i = 0; i < L.nx * L.ny; ++i) inout[i] += tmp.data()[i];
}

void Profile::klattice_multiply(const KLattice& L, cdouble* inout) const {
  LatticeScratch tmp(std::size_t(L.nx * L.ny));
  klattice(L, tmp.data());
  multiply_lattice(inout, tmp.data(), L.nx * L.ny);
}

void multiply_lattice(cdouble* inout, const cdouble* f, long n) {
  for (long i = 0; i < n; ++i) inout[i] = cmul(inout[i], f[i]);
}

double gamma_p(double a, double x) {
  DS_REQUIRE(a > 0, "gamma_p: a must be > 0");
  if (x <= 0) return 0;
  double gln = std::lgamma(a);
  if (x < a + 1) {
    double ap = a, sum = 1 / a, del = sum;
    for (int n = 0; n < 10000; ++n) {
      ap += 1;
      del *= x / ap;
      sum += del;
      if (std::abs(del) < std::abs(sum) * 1e-16) break;
    }
    return sum * std::exp(-x + a * std::log(x) - gln);
  }
  // Continued fraction for Q (modified Lentz).
  double b = x + 1 - a, c = 1 / 1e-300, d = 1 / b, h = d;
  for (int i = 1; i < 10000; ++i) {
    double an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (std::abs(d) < 1e-300) d = 1e-300;
    c = b + an / c;
    if (std::abs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    double del = d * c;
    h *= del;
    if (std::abs(del - 1) < 1e-16) break;
  }
  return 1 - std::exp(-x + a * std::log(x) - gln) * h;
}

double sersic_bn(double n) { return solve_bn(n, 0); }

ProfilePtr gaussian(double sigma, double flux) { return std::make_shared<Gaussian>(sigma, flux); }
ProfilePtr gaussian_fwhm(double fwhm, double flux) { return gaussian(fwhm / 2.3548200450309493, flux); }
ProfilePtr exponential(double r0, double flux) { return std::make_shared<Exponential>(r0, flux); }
ProfilePtr exponential_hlr(double hlr, double flux) { return exponential(hlr / 1.6783469900166605, flux); }
ProfilePtr sersic(double n, double hlr, double flux, double trunc) {
  if (trunc == 0 && std::abs(n - 1) < 1e-12) return exponential_hlr(hlr, flux);
  return std::make_shared<Sersic>(n, hlr, flux, trunc);
}
ProfilePtr moffat(double beta, double fwhm, double flux) { return std::make_shared<Moffat>(beta, fwhm, flux); }
ProfilePtr airy(double lod, double flux, double obscuration) {
  return std::make_shared<Airy>(lod, flux, obscuration);
}
ProfilePtr box(double w, double h, double flux) { return std::make_shared<Box>(w, h, flux); }
ProfilePtr pixel(double scale) { return box(scale, scale, 1); }
ProfilePtr delta(double flux) { return std::make_shared<Delta>(flux); }
ProfilePtr clumps(ProfilePtr base, std::vector<double> x, std::vector<double> y, std::vector<double> f) {
  return std::make_shared<Clumps>(std::move(base), std::move(x), std::move(y), std::move(f));
}
ProfilePtr sum(std::vector<ProfilePtr> parts) {
  if (parts.size() == 1) return parts[0];
  return std::make_shared<Sum>(std::move(parts));
}
ProfilePtr convolve(std::vector<ProfilePtr> parts) {
  if (parts.size() == 1) return parts[0];
  return std::make_shared<Convolution>(std::move(parts));
}
ProfilePtr deconvolve(ProfilePtr psf) { return std::make_shared<Deconvolution>(std::move(psf)); }

Jacobian Jacobian::rotation(double t) {
  double c = std::cos(t), s = std::sin(t);
  return {c, -s, s, c};
}
Jacobian Jacobian::shear(double g1, double g2) {
  double g2sum = g1 * g1 + g2 * g2;
  DS_REQUIRE(g2sum < 1, "shear: |g| = " + fmt(std::sqrt(g2sum)) + " must be < 1");
  double f = 1 / std::sqrt(1 - g2sum);
  return {f * (1 + g1), f * g2, f * g2, f * (1 - g1)};
}
Jacobian Jacobian::lens(double g1, double g2, double mu) {
  DS_REQUIRE(mu > 0, "lens: magnification mu = " + fmt(mu) + " must be > 0");
  Jacobian S = shear(g1, g2);
  double m = std::sqrt(mu);
  return {m * S.a, m * S.b, m * S.c, m * S.d};
}

ProfilePtr transformed(ProfilePtr p, const Jacobian& J, double ox, double oy, double fr) {
  // Fold nested transforms: outer(J2, o2, f2) of inner(J1, o1, f1) = (J2 J1, J2 o1 + o2, f1 f2).
  if (auto t = std::dynamic_pointer_cast<const Transformation>(p)) {
    Jacobian Jt = J * t->jac();
    double nx = J.a * t->ox() + J.b * t->oy() + ox, ny = J.c * t->ox() + J.d * t->oy() + oy;
    return std::make_shared<Transformation>(t->inner(), Jt, nx, ny, fr * t->fr());
  }
  return std::make_shared<Transformation>(std::move(p), J, ox, oy, fr);
}
ProfilePtr shifted(ProfilePtr p, double dx, double dy) { return transformed(std::move(p), Jacobian{}, dx, dy, 1); }
ProfilePtr dilated(ProfilePtr p, double s) { return transformed(std::move(p), Jacobian::scale(s), 0, 0, 1 / (s * s)); }
ProfilePtr rotated(ProfilePtr p, double t) { return transformed(std::move(p), Jacobian::rotation(t)); }
ProfilePtr sheared(ProfilePtr p, double g1, double g2) { return transformed(std::move(p), Jacobian::shear(g1, g2)); }
ProfilePtr lensed(ProfilePtr p, double g1, double g2, double mu) {
  return transformed(std::move(p), Jacobian::lens(g1, g2, mu));
}
ProfilePtr flux_scaled(ProfilePtr p, double f) { return transformed(std::move(p), Jacobian{}, 0, 0, f); }
ProfilePtr with_flux(ProfilePtr p, double flux) {
  double f0 = p->flux();
  DS_REQUIRE(f0 != 0, "with_flux: profile has zero flux");
  return flux_scaled(std::move(p), flux / f0);
}

Jacobian TransformChain::jacobian() const {
  Jacobian J = Jacobian::scale(dilation);
  J = Jacobian::rotation(rotation) * J;
  if (mirror) J = Jacobian::mirror_x() * J;
  return Jacobian::lens(g1, g2, mu) * J;
}

ProfilePtr apply_chain(ProfilePtr p, const TransformChain& t) {
  DS_REQUIRE(t.dilation > 0, "transform chain: dilation must be > 0");
  // Dilation keeps flux (flux_ratio 1/s^2); lensing multiplies it by mu via |det J|.
  return transformed(std::move(p), t.jacobian(), t.shift_x, t.shift_y, t.flux_scale / (t.dilation * t.dilation));
}

}  // namespace ds::img
