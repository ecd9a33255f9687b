// FFT drawing (see draw.hpp).
//
// Deliberate difference from GalSim: the smallest FFT side defaults to 64
// rather than 128. The FFT side still grows to 2 pi / (scale * stepk), so the
// real-space folding stays below folding_threshold as in GalSim; the Gaussian
// closed-form tests (tests/imaging/render_draw_test.cpp) pin the accuracy.
#include "deepshear/imaging/draw.hpp"

#include <cmath>
#include <vector>

#include "deepshear/engine/aligned.hpp"
#include "deepshear/engine/constants.hpp"
#include "deepshear/engine/fft.hpp"

#include "deepshear/engine/error.hpp"

namespace ds::img {

namespace {

long pos_mod(long a, long n) {
  long r = a % n;
  return r < 0 ? r + n : r;
}

struct Scratch {
  std::vector<cdouble> big;      // (nk+1) x (nk/2+1) half-plane values
  AlignedBuffer<std::complex<double>> half;  // n x (n/2+1)
  AlignedBuffer<double> real;    // n x n
};

template <class T>
void draw_impl(const Profile& p0, ImageView<T> out, const DrawOptions& o) {
  DS_REQUIRE(o.scale > 0, "draw: pixel scale must be > 0");
  DS_REQUIRE(out.nx() > 0 && out.ny() > 0, "draw: empty output image");
  ProfilePtr pix;
  const Profile* pp = &p0;
  std::shared_ptr<const Profile> conv;
  // A non-owning shared_ptr to p0, to build the convolution and shift around it.
  ProfilePtr self(ProfilePtr(), &p0);
  if (o.add_pixel) {
    conv = convolve({self, pixel(o.scale)});
    pp = conv.get();
  }
  const Profile& P = *pp;
  FftPlanInfo plan = fft_plan_for(P, out.ny(), out.nx(), o);
  const long n = plan.n, nk = plan.nk;
  const double dk = plan.dk;
  // Output pixel j (0..n-1) of the FFT holds position (j - d) * scale, where the
  // stamp occupies FFT pixels c0 .. c0 + nstamp - 1.
  const long c0x = (n - out.nx()) / 2, c0y = (n - out.ny()) / 2;
  const double dx = c0x + 0.5 * (out.nx() - 1) + o.offset_x;
  const double dy = c0y + 0.5 * (out.ny() - 1) + o.offset_y;
  ProfilePtr Pref(ProfilePtr(), &P);
  ProfilePtr S = shifted(Pref, dx * o.scale, dy * o.scale);

  thread_local Scratch sc;
  // Half-plane k lattice: mx in [0, nk/2], my in [-nk/2, nk/2].
  KLattice L;
  L.nx = nk / 2 + 1;
  L.ny = nk + 1;
  L.k0x = 0;
  L.k0y = -(nk / 2) * dk;
  L.ax = dk;
  L.ay = 0;
  L.bx = 0;
  L.by = dk;
  sc.big.resize(std::size_t(L.nx * L.ny));
  S->klattice(L, sc.big.data());

  const long nxc = n / 2 + 1;
  if (sc.half.size() != std::size_t(n * nxc)) sc.half.resize(std::size_t(n * nxc));  // (resize zero-fills)
  std::complex<double>* H = sc.half.data();
  const cdouble* B = sc.big.data();
  const long half = nk / 2;
  // Fold every (mx, my) with |mx|, |my| <= nk/2 onto (mx mod n, my mod n); the
  // two ends of each axis get half weight, so the fold is exactly symmetric
  // (the stamp symmetries then hold to rounding) and the result is Hermitian.
  for (long i = 0; i < n * nxc; ++i) H[i] = 0;
  // The columns mx = -half..half that land on the stored half (tx = mx mod n
  // <= n/2), as runs contiguous in both the source column |mx| and tx with one
  // weight, in increasing mx (so the sums accumulate in the same order as a
  // plain loop over mx); per row the fold is then a few branch-free loops.
  struct Run {
    long tx0, m0, len;
    bool neg;  // mx < 0: source column -mx of row -my, conjugated; m runs downwards
    double wx;
  };
  thread_local std::vector<Run> runs;
  thread_local long runs_n = -1, runs_nk = -1;
  if (runs_n != n || runs_nk != nk) {
    runs.clear();
    for (long mx = -half; mx <= half; ++mx) {
      const long tx = pos_mod(mx, n);
      if (tx > n / 2) continue;
      const bool neg = mx < 0;
      const long m = neg ? -mx : mx;
      const double wx = (mx == -half || mx == half) ? 0.5 : 1.0;
      if (!runs.empty()) {
        Run& r = runs.back();
        if (r.neg == neg && r.wx == wx && r.tx0 + r.len == tx && (neg ? r.m0 - r.len : r.m0 + r.len) == m) {
          ++r.len;
          continue;
        }
      }
      runs.push_back({tx, m, 1, neg, wx});
    }
    runs_n = n;
    runs_nk = nk;
  }
  double* Hd = reinterpret_cast<double*>(H);
  for (long my = -half; my <= half; ++my) {
    const long ty = pos_mod(my, n);
    const double wy = (my == -half || my == half) ? 0.5 : 1.0;
    double* hrow = Hd + 2 * ty * nxc;
    const double* pos = reinterpret_cast<const double*>(B + (my + half) * L.nx);   // mx >= 0
    const double* neg = reinterpret_cast<const double*>(B + (-my + half) * L.nx);  // conj for mx < 0
    for (const Run& r : runs) {
      const double w = r.wx == 1.0 ? wy : r.wx * wy;
      double* h = hrow + 2 * r.tx0;
      if (r.neg) {
        const double* src = neg + 2 * r.m0;
        for (long t = 0; t < r.len; ++t) {
          h[2 * t] += w * src[-2 * t];
          h[2 * t + 1] -= w * src[-2 * t + 1];
        }
      } else {
        const double* src = pos + 2 * r.m0;
        for (long t = 0; t < r.len; ++t) {
          h[2 * t] += w * src[2 * t];
          h[2 * t + 1] += w * src[2 * t + 1];
        }
      }
    }
  }
  if (sc.real.size() != std::size_t(n * n)) sc.real.resize(std::size_t(n * n));
  Fft2dD::get(n, n).inverse(H, sc.real.data());
  const double norm = 1.0 / double(n * n);
  for (long y = 0; y < out.ny(); ++y) {
    const double* r = sc.real.data() + (y + c0y) * n + c0x;
    T* w = out.row(y);
    for (long x = 0; x < out.nx(); ++x) w[x] = T(r[x] * norm);
  }
}

}  // namespace

long good_fft_size(long n) {
  if (n <= 2) return 2;
  long p = 2;
  while (p < n) p *= 2;
  long p3 = 3 * (p / 4);  // 3 * 2^(k-2), between p/2 and p
  return (p3 >= n) ? p3 : p;
}

FftPlanInfo fft_plan_for(const Profile& P, long ny, long nx, const DrawOptions& o) {
  double stepk = P.stepk(), maxk = P.maxk();
  DS_REQUIRE(stepk > 0 && maxk > 0, "draw: profile has stepk " + std::to_string(stepk) + ", maxk " +
                                     std::to_string(maxk) + " (" + P.describe() + ")");
  double nd = std::ceil(2 * kPi / (o.scale * stepk));
  long n = nd > double(o.max_fft) ? o.max_fft : long(nd);
  if (n % 2) ++n;
  if (o.max_n > 0) n = std::min(n, o.max_n);
  n = std::max({n, nx + (nx % 2), ny + (ny % 2), o.max_n > 0 ? std::min(o.min_fft, o.max_n) : o.min_fft});
  // Offsets larger than a pixel need room as well.
  n = std::max(n, long(std::ceil(std::max(nx, ny) + 2 * std::max(std::abs(o.offset_x), std::abs(o.offset_y)))));
  n = good_fft_size(n);
  DS_REQUIRE(n <= o.max_fft, "draw: FFT side " + std::to_string(n) + " exceeds max_fft " + std::to_string(o.max_fft));
  FftPlanInfo f;
  f.n = n;
  f.dk = 2 * kPi / (n * o.scale);
  f.nk = n;
  if (n * f.dk / 2 <= maxk) {
    double need = 2 * std::ceil(maxk / f.dk);
    f.nk = need > double(o.max_fft) ? o.max_fft : long(need);
    if (f.nk % 2) ++f.nk;
    f.nk = std::max(f.nk, n);
  }
  return f;
}

void draw(const Profile& p, ImageView<double> out, const DrawOptions& o) { draw_impl<double>(p, out, o); }
void draw(const Profile& p, ImageView<float> out, const DrawOptions& o) { draw_impl<float>(p, out, o); }

ImageD draw_image(const Profile& p, long ny, long nx, const DrawOptions& o) {
  ImageD img(ny, nx);
  draw(p, img.view(), o);
  return img;
}

ImageD rotate90(const ImageD& in) {
  DS_REQUIRE(in.nx() == in.ny(), "rotate90: stamp must be square");
  long N = in.nx();
  ImageD out(N, N);
  for (long y = 0; y < N; ++y)
    for (long x = 0; x < N; ++x) out(y, x) = in(N - 1 - x, y);
  return out;
}
ImageD transpose(const ImageD& in) {
  ImageD out(in.nx(), in.ny());
  for (long y = 0; y < out.ny(); ++y)
    for (long x = 0; x < out.nx(); ++x) out(y, x) = in(x, y);
  return out;
}
ImageD flip_x(const ImageD& in) {
  ImageD out(in.ny(), in.nx());
  for (long y = 0; y < in.ny(); ++y)
    for (long x = 0; x < in.nx(); ++x) out(y, x) = in(y, in.nx() - 1 - x);
  return out;
}

}  // namespace ds::img
