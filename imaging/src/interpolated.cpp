// InterpolatedImage and interpolants (see interpolated.hpp).
#include "deepshear/imaging/interpolated.hpp"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <numeric>

#include "deepshear/engine/aligned.hpp"
#include "deepshear/engine/constants.hpp"
#include "deepshear/engine/error.hpp"
#include "deepshear/engine/fft.hpp"
#include "deepshear/imaging/draw.hpp"

namespace ds::img {

namespace {

double sinc(double x) {  // sin(pi x) / (pi x)
  double px = kPi * x;
  return std::abs(px) < 1e-6 ? 1 - px * px / 6 : std::sin(px) / px;
}

long pos_mod(long a, long n) {
  long r = a % n;
  return r < 0 ? r + n : r;
}

// Quintic kernel of Bernstein & Gruen (2014) as in GalSim (piecewise polynomial, |x| < 3).
inline double quintic_x(double x) {
  x = std::abs(x);
  if (x <= 1) return 1 + x * x * x * (-95.0 / 12 + x * (23.0 / 2 + x * (-55.0 / 12)));
  if (x <= 2) return (x - 1) * (x - 2) * (-23.0 / 4 + x * (29.0 / 2 + x * (-83.0 / 8 + x * (55.0 / 24))));
  if (x <= 3) return (x - 2) * (x - 3) * (x - 3) * (-9.0 / 4 + x * (25.0 / 12 + x * (-11.0 / 24)));
  return 0;
}
// Its transform: s^5 [s (55 - 19 pi^2 u^2) + 2 c (pi^2 u^2 - 27)], s = sinc(u), c = cos(pi u).
inline double quintic_u(double u) {
  double s = sinc(u), c = std::cos(kPi * u), p = kPi * kPi * u * u;
  double s2 = s * s;
  return s2 * s2 * s * (s * (55 - 19 * p) + 2 * c * (p - 27));
}

// quintic_u tabulated at du = 1/8192 on [0, 4], linearly interpolated (error ~1e-7).
const std::vector<double>& quintic_table() {
  static const std::vector<double> t = [] {
    std::vector<double> v(4 * 8192 + 2);
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = quintic_u(double(i) / 8192);
    return v;
  }();
  return t;
}
inline double utab_value(double u) {
  static const std::vector<double>& t = quintic_table();
  const double a = std::abs(u) * 8192;
  const std::size_t i = std::size_t(a);
  if (i + 1 >= t.size()) return 0;
  const double f = a - double(i);
  return t[i] + f * (t[i + 1] - t[i]);
}

double lanczos_x(double x, int n) {
  x = std::abs(x);
  return x >= n ? 0.0 : sinc(x) * sinc(x / n);
}

const std::vector<double>& lanczos_table(int n) {
  static std::mutex m;
  static std::vector<double> tab[6];
  std::lock_guard<std::mutex> lock(m);
  auto& t = tab[n];
  if (t.empty()) {
    // uval(u) = 2 int_0^n xval(x) cos(2 pi u x) dx, Simpson with 4000 n intervals, u in [0, 4] step 1/256.
    const int N = 4000 * n;
    const double h = double(n) / N;
    for (int iu = 0; iu <= 4 * 256 + 1; ++iu) {
      double u = iu / 256.0, s = 0;
      for (int i = 0; i <= N; ++i) {
        double x = i * h, w = (i == 0 || i == N) ? 1 : (i % 2 ? 4 : 2);
        s += w * lanczos_x(x, n) * std::cos(2 * kPi * u * x);
      }
      t.push_back(2 * s * h / 3);
    }
  }
  return t;
}
}  // namespace

Interpolant::Interpolant(InterpolantKind k) : kind_(k) {
  switch (k) {
    case InterpolantKind::Quintic: xrange_ = 3; break;
    case InterpolantKind::Lanczos3: xrange_ = 3; utab_ = lanczos_table(3); break;
    case InterpolantKind::Lanczos5: xrange_ = 5; utab_ = lanczos_table(5); break;
  }
  // urange: beyond it |uval| stays below kvalue_accuracy (scanned once on a fine grid up to u = 4).
  urange_ = 0;
  for (double u = 0; u <= 4; u += 1.0 / 1024)
    if (std::abs(uval(u)) >= GsParams::kvalue_accuracy) urange_ = u + 1.0 / 1024;
}

double Interpolant::xval(double x) const {
  switch (kind_) {
    case InterpolantKind::Quintic: return quintic_x(x);
    case InterpolantKind::Lanczos3: return lanczos_x(x, 3);
    case InterpolantKind::Lanczos5: return lanczos_x(x, 5);
  }
  return 0;
}

double Interpolant::uval(double u) const {
  if (kind_ == InterpolantKind::Quintic) return quintic_u(u);
  // Catmull-Rom cubic on the du = 1/256 table (uval is even: mirror below 0).
  double a = std::abs(u) * 256;
  long i = long(a);
  if (i + 2 >= long(utab_.size())) return 0;
  const double t = a - double(i);
  const double fm = utab_[std::size_t(i == 0 ? 1 : i - 1)], f0 = utab_[std::size_t(i)],
               f1 = utab_[std::size_t(i + 1)], f2 = utab_[std::size_t(i + 2)];
  return f0 + t * (0.5 * (f1 - fm) + t * (fm - 2.5 * f0 + 2 * f1 - 0.5 * f2 + t * (1.5 * (f0 - f1) + 0.5 * (f2 - fm))));
}

InterpolatedImage::InterpolatedImage(ImageView<const double> image, double scale, const InterpolatedOptions& opt)
    : xi_(opt.x_interpolant), ki_(InterpolantKind::Quintic), nx_(image.nx()), ny_(image.ny()), scale_(scale) {
  DS_REQUIRE(nx_ > 0 && ny_ > 0, "interpolated image: empty image");
  DS_REQUIRE(scale > 0, "interpolated image: pixel scale must be > 0");
  DS_REQUIRE(opt.pad_factor >= 1, "interpolated image: pad_factor must be >= 1");
  double sum = 0;
  for (long y = 0; y < ny_; ++y)
    for (long x = 0; x < nx_; ++x) {
      double v = image(y, x);
      DS_REQUIRE(std::isfinite(v), "interpolated image: pixel (" + std::to_string(x) + ", " + std::to_string(y) +
                                    ") is not finite");
      sum += v;
    }
  double f = 1;
  if (opt.flux > 0) {
    DS_REQUIRE(sum != 0, "interpolated image: pixel sum is 0, cannot normalise the flux");
    f = opt.flux / sum;
  }
  flux_ = sum * f;
  pix_.resize(std::size_t(nx_ * ny_));
  for (long y = 0; y < ny_; ++y)
    for (long x = 0; x < nx_; ++x) pix_[std::size_t(y * nx_ + x)] = image(y, x) * f;

  np_ = good_fft_size(long(std::ceil(opt.pad_factor * std::max(nx_, ny_))));
  np_ = std::max(np_, good_fft_size(std::max(nx_, ny_)));
  nph_ = np_ / 2 + 1;
  // Integer origin (nx/2, ny/2); true centre ((nx-1)/2, (ny-1)/2).
  const long ox = nx_ / 2, oy = ny_ / 2;
  delta_x_ = (ox - 0.5 * (nx_ - 1)) * scale_;
  delta_y_ = (oy - 0.5 * (ny_ - 1)) * scale_;
  AlignedBuffer<double> pad(std::size_t(np_ * np_), 0.0);
  for (long y = 0; y < ny_; ++y)
    for (long x = 0; x < nx_; ++x)
      pad[std::size_t(pos_mod(y - oy, np_) * np_ + pos_mod(x - ox, np_))] = pix_[std::size_t(y * nx_ + x)];
  AlignedBuffer<std::complex<double>> spec(std::size_t(np_ * nph_));
  Fft2dD::get(np_, np_).forward(pad.data(), spec.data());
  half_.assign(spec.begin(), spec.end());

  // stepk: radius R [px] enclosing (1 - folding_threshold) of the flux about the true centre.
  double R = 0.5 * std::max(nx_, ny_) - 0.5;
  if (flux_ > 0) {
    std::vector<std::pair<double, double>> rv;
    rv.reserve(pix_.size());
    for (long y = 0; y < ny_; ++y)
      for (long x = 0; x < nx_; ++x)
        rv.emplace_back(std::hypot(x - 0.5 * (nx_ - 1), y - 0.5 * (ny_ - 1)), pix_[std::size_t(y * nx_ + x)]);
    std::sort(rv.begin(), rv.end(), [](auto& a, auto& b) { return a.first < b.first; });
    double cum = 0, target = (1 - GsParams::folding_threshold) * flux_;
    for (auto& p : rv) {
      cum += p.second;
      if (cum >= target) {
        R = std::min(R, p.first);
        break;
      }
    }
  }
  stepk_ = kPi / (std::hypot(R, xi_.xrange()) * scale_);
  if (opt.stepk_cap > 0) stepk_ = std::min(stepk_, opt.stepk_cap);

  // maxk: square shells of the DFT; a shell is above when any |G| > maxk_threshold |flux|;
  // stop after 5 shells in a row below; maxk = (last above + 1) dk.
  const double thresh = GsParams::maxk_threshold * std::abs(flux_);
  long last_above = 0, below = 0;
  for (long s = 1; s <= np_ / 2; ++s) {
    bool above = false;
    for (long my = -s; my <= s && !above; ++my)
      if (std::abs(half_[std::size_t(pos_mod(my, np_) * nph_ + s)]) > thresh) above = true;
    for (long mx = 0; mx <= s && !above; ++mx)
      if (std::abs(half_[std::size_t(pos_mod(s, np_) * nph_ + mx)]) > thresh ||
          std::abs(half_[std::size_t(pos_mod(-s, np_) * nph_ + mx)]) > thresh)
        above = true;
    if (above) {
      last_above = s;
      below = 0;
    } else if (++below >= 5) {
      break;
    }
  }
  const double dk_pix = 2 * kPi / np_;
  maxk_ = (last_above + 1) * dk_pix / scale_;
  maxk_ = std::min(maxk_, 2 * kPi * xi_.urange() / scale_);
  if (opt.maxk_cap > 0) maxk_ = std::min(maxk_, opt.maxk_cap);
}

// The 6 quintic weights for taps at offsets -2..3 from floor(p), t = p - floor(p) in [0, 1):
// distances t+2, t+1, t, 1-t, 2-t, 3-t fall on the kernel's three pieces.
inline void quintic_weights(double t, double* w) {
  auto p1 = [](double x) { return 1 + x * x * x * (-95.0 / 12 + x * (23.0 / 2 + x * (-55.0 / 12))); };
  auto p2 = [](double x) { return (x - 1) * (x - 2) * (-23.0 / 4 + x * (29.0 / 2 + x * (-83.0 / 8 + x * (55.0 / 24)))); };
  auto p3 = [](double x) { return (x - 2) * (x - 3) * (x - 3) * (-9.0 / 4 + x * (25.0 / 12 + x * (-11.0 / 24))); };
  w[0] = p3(t + 2);
  w[1] = p2(t + 1);
  w[2] = p1(t);
  w[3] = p1(1 - t);
  w[4] = p2(2 - t);
  w[5] = p3(3 - t);
}

cdouble InterpolatedImage::grid_value(double px, double py) const {
  const double flx = std::floor(px), fly = std::floor(py);
  const long fx = long(flx), fy = long(fly);
  double wx[6], wy[6];
  quintic_weights(px - flx, wx);
  quintic_weights(py - fly, wy);
  // Columns: index into the half plane and whether the tap is the conjugate mirror.
  long col[6];
  bool mir[6];
  long c = pos_mod(fx - 2, np_);
  for (int i = 0; i < 6; ++i) {
    mir[i] = c >= nph_;
    col[i] = mir[i] ? np_ - c : c;
    if (++c == np_) c = 0;
  }
  long r = pos_mod(fy - 2, np_);
  double ar = 0, ai = 0;
  for (int j = 0; j < 6; ++j) {
    const long rm = r == 0 ? 0 : np_ - r;  // row of -my
    const double* rowp = reinterpret_cast<const double*>(half_.data() + r * nph_);
    const double* rowm = reinterpret_cast<const double*>(half_.data() + rm * nph_);
    double sr = 0, si = 0;
    for (int i = 0; i < 6; ++i) {
      if (mir[i]) {
        sr += wx[i] * rowm[2 * col[i]];
        si -= wx[i] * rowm[2 * col[i] + 1];
      } else {
        sr += wx[i] * rowp[2 * col[i]];
        si += wx[i] * rowp[2 * col[i] + 1];
      }
    }
    ar += wy[j] * sr;
    ai += wy[j] * si;
    if (++r == np_) r = 0;
  }
  return {ar, ai};
}

cdouble InterpolatedImage::kvalue(double kx, double ky) const {
  const double ux = kx * scale_ / (2 * kPi), uy = ky * scale_ / (2 * kPi);
  const double ur = xi_.urange();
  if (std::abs(ux) > ur || std::abs(uy) > ur) return 0;
  cdouble v = grid_value(ux * np_, uy * np_) * (xi_.uval(ux) * xi_.uval(uy));
  if (delta_x_ != 0 || delta_y_ != 0) v *= std::polar(1.0, -(kx * delta_x_ + ky * delta_y_));
  return v;
}

void InterpolatedImage::klattice(const KLattice& L, cdouble* out) const {
  // Separable phase of the true-centre shift: exp(-i (k0 + ix a + iy b).delta).
  thread_local std::vector<cdouble> cx, ry;
  cx.resize(std::size_t(L.nx));
  ry.resize(std::size_t(L.ny));
  const double pa = L.ax * delta_x_ + L.ay * delta_y_, pb = L.bx * delta_x_ + L.by * delta_y_,
               p0 = L.k0x * delta_x_ + L.k0y * delta_y_;
  for (long ix = 0; ix < L.nx; ++ix) cx[std::size_t(ix)] = std::polar(1.0, -ix * pa);
  for (long iy = 0; iy < L.ny; ++iy) ry[std::size_t(iy)] = std::polar(1.0, -(p0 + iy * pb));
  const double ur = xi_.urange(), c = scale_ / (2 * kPi);
  const bool quintic = xi_.kind() == InterpolantKind::Quintic;
  for (long iy = 0; iy < L.ny; ++iy) {
    const cdouble rp = ry[std::size_t(iy)];
    for (long ix = 0; ix < L.nx; ++ix) {
      const double ux = L.kx(ix, iy) * c, uy = L.ky(ix, iy) * c;
      cdouble& o = out[iy * L.nx + ix];
      if (std::abs(ux) > ur || std::abs(uy) > ur) {
        o = 0;
        continue;
      }
      const double U = quintic ? utab_value(ux) * utab_value(uy) : xi_.uval(ux) * xi_.uval(uy);
      const cdouble g = grid_value(ux * np_, uy * np_);
      const cdouble ph = cx[std::size_t(ix)];
      const double pr = rp.real() * ph.real() - rp.imag() * ph.imag(), pi = rp.real() * ph.imag() + rp.imag() * ph.real();
      o = cdouble(U * (g.real() * pr - g.imag() * pi), U * (g.real() * pi + g.imag() * pr));
    }
  }
}

double InterpolatedImage::xvalue(double x, double y) const {
  // Pixel coordinates relative to pixel (0, 0).
  const double px = x / scale_ + 0.5 * (nx_ - 1), py = y / scale_ + 0.5 * (ny_ - 1);
  const double r = xi_.xrange();
  long x0 = std::max(0L, long(std::ceil(px - r))), x1 = std::min(nx_ - 1, long(std::floor(px + r)));
  long y0 = std::max(0L, long(std::ceil(py - r))), y1 = std::min(ny_ - 1, long(std::floor(py + r)));
  double s = 0;
  for (long j = y0; j <= y1; ++j) {
    double wy = xi_.xval(py - j);
    if (wy == 0) continue;
    for (long i = x0; i <= x1; ++i) s += wy * xi_.xval(px - i) * pix_[std::size_t(j * nx_ + i)];
  }
  return s / (scale_ * scale_);
}

std::string InterpolatedImage::describe() const {
  return "InterpolatedImage(" + std::to_string(ny_) + "x" + std::to_string(nx_) + ", scale=" +
         std::to_string(scale_) + ", flux=" + std::to_string(flux_) + ")";
}

class ReconvolvedImage final : public Profile {
 public:
  ReconvolvedImage(std::shared_ptr<const InterpolatedImage> g, std::shared_ptr<const InterpolatedImage> p)
      : g_(std::move(g)), p_(std::move(p)) {
    DS_REQUIRE(g_ && p_, "reconvolution: null image");
    DS_REQUIRE(std::abs(g_->scale_ - p_->scale_) <= 1e-12 * g_->scale_,
             "reconvolution: galaxy and PSF pixel scales differ (" + std::to_string(g_->scale_) + " vs " +
                 std::to_string(p_->scale_) + ")");
    DS_REQUIRE(g_->xi_.kind() == p_->xi_.kind(), "reconvolution: galaxy and PSF interpolants differ");
    DS_REQUIRE(p_->flux() != 0, "reconvolution: PSF flux is 0");
    const long np = g_->np_;
    const double s = g_->scale_, dk = 2 * kPi / (np * s);
    const double maxk_p = p_->maxk(), floor = std::abs(p_->flux()) * GsParams::kvalue_accuracy;
    ur_ = g_->xi_.urange();
    M_ = long(std::ceil(std::min(ur_ * np, maxk_p / dk))) + 3;
    q_.assign(std::size_t((2 * M_ + 1) * (M_ + 1)), cdouble(0));
    for (long my = -M_; my <= M_; ++my)
      for (long mx = 0; mx <= M_; ++mx) {
        const double kx = mx * dk, ky = my * dk;
        if (kx * kx + ky * ky > maxk_p * maxk_p) continue;
        const long cx = pos_mod(mx, np), cy = pos_mod(my, np);
        cdouble G = cx < g_->nph_ ? g_->half_[std::size_t(cy * g_->nph_ + cx)]
                                  : std::conj(g_->half_[std::size_t(pos_mod(-my, np) * g_->nph_ + (np - cx))]);
        G *= std::polar(1.0, -(kx * g_->delta_x_ + ky * g_->delta_y_));
        const cdouble P = p_->kvalue(kx, ky);
        const cdouble D = std::abs(P) >= floor ? 1.0 / P : cdouble(1 / floor);
        q_[std::size_t((my + M_) * (M_ + 1) + mx)] = G * D;
      }
    flux_ = g_->flux() / p_->flux();
    maxk_ = std::min(g_->maxk(), maxk_p);
    stepk_ = 1 / std::sqrt(1 / (g_->stepk() * g_->stepk()) + 1 / (p_->stepk() * p_->stepk()));
    quintic_ = g_->xi_.kind() == InterpolantKind::Quintic;
  }
  double flux() const override { return flux_; }
  double maxk() const override { return maxk_; }
  double stepk() const override { return stepk_; }
  cdouble kvalue(double kx, double ky) const override {
    const double c = g_->scale_ / (2 * kPi);
    const double ux = kx * c, uy = ky * c;
    if (std::abs(ux) > ur_ || std::abs(uy) > ur_) return 0;
    const double U = quintic_ ? utab_value(ux) * utab_value(uy) : g_->xi_.uval(ux) * g_->xi_.uval(uy);
    const double px = ux * g_->np_, py = uy * g_->np_;
    const double flx = std::floor(px), fly = std::floor(py);
    const long fx = long(flx), fy = long(fly);
    if (fx + 3 < -M_ || fx - 2 > M_ || fy + 3 < -M_ || fy - 2 > M_) return 0;
    double wx[6], wy[6];
    quintic_weights(px - flx, wx);
    quintic_weights(py - fly, wy);
    const long W = M_ + 1;
    double ar = 0, ai = 0;
    for (int j = 0; j < 6; ++j) {
      const long my = fy - 2 + j;
      if (my < -M_ || my > M_) continue;
      const double* rowp = reinterpret_cast<const double*>(q_.data() + (my + M_) * W);
      const double* rowm = reinterpret_cast<const double*>(q_.data() + (-my + M_) * W);
      double sr = 0, si = 0;
      for (int i = 0; i < 6; ++i) {
        const long mx = fx - 2 + i;
        if (mx > M_ || mx < -M_) continue;
        if (mx >= 0) {
          sr += wx[i] * rowp[2 * mx];
          si += wx[i] * rowp[2 * mx + 1];
        } else {
          sr += wx[i] * rowm[-2 * mx];
          si -= wx[i] * rowm[-2 * mx + 1];
        }
      }
      ar += wy[j] * sr;
      ai += wy[j] * si;
    }
    return {U * ar, U * ai};
  }
  std::string describe() const override {
    return "Reconvolved(" + g_->describe() + " / " + p_->describe() + ")";
  }
  // In 8 x 8 tiles of the lattice: neighbouring points then share the grid
  // cache lines of their 6 x 6 interpolation footprints (a rotated lattice
  // walks diagonally through the grid, so plain row order misses the cache).
  void klattice(const KLattice& L, cdouble* out) const override {
    constexpr long T = 8;
    for (long ty = 0; ty < L.ny; ty += T)
      for (long tx = 0; tx < L.nx; tx += T)
        for (long iy = ty; iy < std::min(L.ny, ty + T); ++iy)
          for (long ix = tx; ix < std::min(L.nx, tx + T); ++ix)
            out[iy * L.nx + ix] = ReconvolvedImage::kvalue(L.kx(ix, iy), L.ky(ix, iy));
  }

 private:
  std::shared_ptr<const InterpolatedImage> g_, p_;
  std::vector<cdouble> q_;  // (2M+1) x (M+1): mx in [0, M], my in [-M, M]
  long M_ = 0;
  double ur_ = 0, flux_ = 0, maxk_ = 0, stepk_ = 0;
  bool quintic_ = true;
};

ProfilePtr reconvolution_profile(std::shared_ptr<const InterpolatedImage> gal,
                                 std::shared_ptr<const InterpolatedImage> psf) {
  return std::make_shared<ReconvolvedImage>(std::move(gal), std::move(psf));
}

std::shared_ptr<const InterpolatedImage> interpolated_image(ImageView<const double> image, double scale,
                                                             const InterpolatedOptions& opt) {
  return std::make_shared<InterpolatedImage>(image, scale, opt);
}

}  // namespace ds::img
