#include "deepshear/lensing/estimators/rrg.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "deepshear/engine/error.hpp"
#include "deepshear/engine/parallel.hpp"
#include "deepshear/engine/stats.hpp"

namespace ds::lens {

PsfMoments gaussian_psf_moments(double s) {
  PsfMoments p;
  double s2 = s * s, s4 = s2 * s2;
  p.xx = p.yy = s2;
  p.xxxx = p.yyyy = 3 * s4;  // <x^4> of a Gaussian
  p.xxyy = s4;
  return p;
}

// Iterates the weighted centroid (RRG.md section 2) from (x, y); returns the
// number of iterations, or -1 on failure (no weighted flux).
template <class T>
static int iterate_centroid(ImageView<const T> img, double omega, double cutoff, bool absolute, double& x,
                            double& y, int max_iter = 500, double tol = 0.01) {
  for (int it = 1; it <= max_iter; ++it) {
    auto m = img::gaussian_weighted_moments(img, img::GaussianWeight::round(x, y, omega), cutoff * cutoff, absolute);
    if (!(m.sum_wi > 0) || !std::isfinite(m.x) || !std::isfinite(m.y)) return -1;
    x += m.x;
    y += m.y;
    if (std::abs(m.x) < tol && std::abs(m.y) < tol) return it;
  }
  return max_iter + 1;
}

PsfMoments psf_moments_from_image(ImageView<const double> psf, double w) {
  require(w > 0, "PSF moments: weight width must be positive");
  double x = (double(psf.nx()) - 1) / 2, y = (double(psf.ny()) - 1) / 2;
  if (iterate_centroid(psf, w, 1e9, false, x, y) < 0)
    throw Error("PSF image has no positive weighted flux; cannot measure its moments");
  auto m = img::gaussian_weighted_moments(psf, img::GaussianWeight::round(x, y, w), 1e18, false);
  double tr = m.xx + m.yy, k = 1.0 / (2 * w * w);
  PsfMoments p;
  p.xx = m.xx + (m.xxxx + m.xxyy - m.xx * tr) * k;
  p.yy = m.yy + (m.yyyy + m.xxyy - m.yy * tr) * k;
  p.xy = m.xy + (m.xyyy + m.xxxy - m.xy * tr) * k;
  p.xxxx = m.xxxx, p.xxxy = m.xxxy, p.xxyy = m.xxyy, p.xyyy = m.xyyy, p.yyyy = m.yyyy;
  return p;
}

// The PSF-corrected second moments r.ixx, r.iyy, r.ixy (px^2) from the
// weighted moments I (weight width omega, px) and the PSF's P: anisotropic
// correction (RRG.md section 5), first order in the PSF's traceless moments,
// then the isotropic one (section 6), exact for Gaussians.
static void correct_second_moments(const img::WeightedMoments& I, const PsfMoments& P, double omega,
                                   RrgMeasurement& r) {
  const double T = P.xx + P.yy;
  const double a = P.xx - T / 2, d = P.yy - T / 2, b = P.xy, c = P.xy;
  const double s2 = omega * omega, w2 = 1 / s2, w4 = 1 / (2 * s2 * s2);
  double dxx = a * (1 - 2 * w2 * I.xx + w4 * (I.xxxx - I.xx * I.xx)) + b * (w4 * (I.xxxy - I.xx * I.xy)) +
               c * (-2 * w2 * I.xy + w4 * (I.xxxy - I.xx * I.xy)) + d * (w4 * (I.xxyy - I.xx * I.yy));
  double dyy = a * (w4 * (I.xxyy - I.xx * I.yy)) + b * (w4 * (I.xyyy - I.yy * I.xy)) +
               c * (-2 * w2 * I.xy + w4 * (I.xyyy - I.yy * I.xy)) +
               d * (1 - 2 * w2 * I.yy + w4 * (I.yyyy - I.yy * I.yy));
  double dxy = a * (-w2 * I.xy + w4 * (I.xxxy - I.xy * I.xx)) + b * (1 - w2 * I.xx + w4 * (I.xxyy - I.xy * I.xy)) +
               c * (-w2 * I.yy + w4 * (I.xxyy - I.xy * I.xy)) + d * (-w2 * I.xy + w4 * (I.xyyy - I.xy * I.yy));
  double cxx = I.xx - dxx, cyy = I.yy - dyy, cxy = I.xy - dxy;

  const double sp2 = T / 2;
  double gw2 = 0, f = 1;
  if (sp2 > 0) {
    gw2 = sp2 * s2 / (sp2 + s2);
    f = std::pow((sp2 + s2) / s2, 2);  // (sigma_p / g_w)^4
  }
  r.ixx = f * (cxx - gw2);
  r.iyy = f * (cyy - gw2);
  r.ixy = f * cxy;
}

// The susceptibility terms r.lambda, r.mu1, r.mu2 (RRG.md section 9) from the
// fourth moments deconvolved (section 7); needs r.d2 and the weight width omega (px).
static void susceptibility_terms(const img::WeightedMoments& I, const PsfMoments& P, double omega,
                                 RrgMeasurement& r) {
  const double T = P.xx + P.yy, sp2 = T / 2, s2 = omega * omega;
  double t4xxxx = I.xxxx - P.xxxx - 6 * P.xx * I.xx + 6 * P.xx * P.xx;
  double t4xxxy = I.xxxy - P.xxxy - 3 * (P.xy * I.xx + P.xx * I.xy) + 6 * P.xy * P.xx;
  double t4xxyy = I.xxyy - P.xxyy - P.xx * I.yy - P.yy * I.xx - 4 * P.xy * I.xy + 2 * P.xx * P.yy + 4 * P.xy * P.xy;
  double t4xyyy = I.xyyy - P.xyyy - 3 * (P.xy * I.yy + P.yy * I.xy) + 6 * P.xy * P.yy;
  double t4yyyy = I.yyyy - P.yyyy - 6 * P.yy * I.yy + 6 * P.yy * P.yy;
  double W2 = sp2 + s2;
  double beta = 1 / (2 * r.d2 * W2);
  r.lambda = beta * (t4xxxx + 2 * t4xxyy + t4yyyy);
  r.mu1 = beta * (-t4xxxx + t4yyyy);
  r.mu2 = -2 * beta * (t4xxxy + t4xyyy);
}

RrgMeasurement rrg_measure(ImageView<const float> stamp, const PsfMoments& P, const RrgOptions& opt) {
  RrgMeasurement r;
  const double cx = (double(stamp.nx()) - 1) / 2, cy = (double(stamp.ny()) - 1) / 2;
  r.x = cx, r.y = cy;
  if ((r.flags = pixel_flags(stamp))) return r;

  // Weight width.
  double omega = opt.fixed_width;
  bool by_hlr = opt.width == RrgOptions::Width::HalfLightRadius;
  if (opt.width == RrgOptions::Width::ObjectSize) {
    auto am = img::adaptive_moments(stamp);
    if (am.ok())
      omega = opt.size_mult * am.sigma;
    else
      by_hlr = true;
  }
  if (by_hlr) {
    omega = img::half_light_radius(stamp, cx, cy);
    if (!std::isfinite(omega)) return r.flags |= kFlagBlank, r;
  }
  r.omega = omega = std::max(omega, opt.min_width);

  // Centroid.
  if (opt.iterate_centroid) {
    int it = iterate_centroid(stamp, omega, opt.cutoff, opt.absolute_intensity, r.x, r.y);
    if (it < 0) return r.flags |= kFlagBlank, r;
    double shift = std::hypot(r.x - cx, r.y - cy);
    double limit = std::min(omega, opt.max_shift * double(std::min(stamp.nx(), stamp.ny())));
    if (it > 100 || shift > limit) r.flags |= kFlagCentroid;
    if (r.x < 0 || r.y < 0 || r.x > double(stamp.nx() - 1) || r.y > double(stamp.ny() - 1)) {
      r.flags |= kFlagEdge;
      r.x = cx, r.y = cy;
      return r;
    }
  }

  // Weighted moments (RRG.md section 3).
  const auto& I = r.raw = img::gaussian_weighted_moments(stamp, img::GaussianWeight::round(r.x, r.y, omega),
                                                         opt.cutoff * opt.cutoff, opt.absolute_intensity);
  if (!(I.sum_wi > 0)) return r.flags |= kFlagBlank, r;

  correct_second_moments(I, P, omega, r);
  double tr = r.ixx + r.iyy;
  if (!(tr > 0)) return r.flags |= kFlagNegativeSize, r;
  r.e1 = (r.ixx - r.iyy) / tr;
  r.e2 = 2 * r.ixy / tr;
  if (r.e1 * r.e1 + r.e2 * r.e2 > opt.max_e2) r.flags |= kFlagBigEllipticity;
  r.d2 = tr / 2;

  susceptibility_terms(I, P, omega, r);
  return r;
}

static double statistic(std::vector<double> v, bool median) {
  if (v.empty()) return 0;
  if (!median) {
    double s = 0;
    for (double x : v) s += x;
    return s / double(v.size());
  }
  return ds::median(std::move(v));
}

double rrg_susceptibility(const std::vector<RrgMeasurement>& m, bool median) {
  std::vector<double> e2, lam, emu;
  for (const auto& r : m) {
    if (r.flags) continue;
    e2.push_back(r.e1 * r.e1 + r.e2 * r.e2);
    lam.push_back(r.lambda);
    emu.push_back(r.e1 * r.mu1 + r.e2 * r.mu2);
  }
  if (e2.empty()) return 2.0;
  return 2 - statistic(e2, median) - 0.5 * statistic(lam, median) - 0.5 * statistic(emu, median);
}

std::vector<ShearEstimate> rrg_estimate(const Tensor& stamps, const PsfMoments& psf, const RrgOptions& opt,
                                        double* G_used, std::vector<RrgMeasurement>* details) {
  require(stamps.rank() == 3, "RRG: stamps must be (n, ny, nx), got " + Tensor::shape_string(stamps.shape()));
  const long n = stamps.dim(0), ny = stamps.dim(1), nx = stamps.dim(2);
  std::vector<RrgMeasurement> m(static_cast<std::size_t>(n));
  parallel_for(
      n,
      [&](long i, int) {
        ImageView<const float> s(stamps.data() + i * ny * nx, ny, nx);
        m[std::size_t(i)] = rrg_measure(s, psf, opt);
      },
      64);
  double G = opt.fixed_G > 0 ? opt.fixed_G : rrg_susceptibility(m, opt.median);
  if (G_used) *G_used = G;
  std::vector<ShearEstimate> out(static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) {
    const auto& r = m[std::size_t(i)];
    auto& o = out[std::size_t(i)];
    o.flags = r.flags;
    if (!r.flags) {
      o.g1 = r.e1 / (opt.rhodes_factor * G);
      o.g2 = r.e2 / (opt.rhodes_factor * G);
    }
  }
  if (details) *details = std::move(m);
  return out;
}

}  // namespace ds::lens

// ---------------------------------------------------------------- registry entry
#include "deepshear/lensing/estimators/estimator.hpp"
#include "deepshear/lensing/estimators/stamp_psf.hpp"

namespace ds::lens {
namespace {

// RRG with the default options; G is the first batch's population value,
// kept for later batches until a new PSF (a new field) starts another.
class RrgShear : public ShearEstimator {
 public:
  explicit RrgShear(const EstimatorSetup& s) { set_psf(s.psf_fwhm, s.pixel_scale); }
  std::string name() const override { return "rrg"; }
  EstimateBatch estimate(const Tensor& stamps) override {
    return {rrg_estimate(stamps, psf_, opt_, opt_.fixed_G > 0 ? nullptr : &opt_.fixed_G), {}};
  }
  void set_psf(double fwhm, double pixel_scale) override {
    psf_ = StampPsf::gaussian(fwhm, pixel_scale).moments;
    opt_.fixed_G = 0;
  }
  std::vector<std::pair<std::string, double>> parameters() const override { return {{"G", opt_.fixed_G}}; }
  bool settled() const override { return opt_.fixed_G > 0; }
  void fix_parameters(const std::vector<std::pair<std::string, double>>& values) override {
    for (const auto& [key, value] : values)
      if (key == "G") opt_.fixed_G = value;
  }

 private:
  PsfMoments psf_;
  RrgOptions opt_;
};

}  // namespace

EstimatorKind rrg_estimator_kind() {
  EstimatorKind k;
  k.name = "rrg";
  k.description = "RRG moments (Rhodes, Refregier & Groth 2000) with a round Gaussian PSF";
  k.needs.psf = true;
  k.make = [](const EstimatorSetup& s) { return std::make_unique<RrgShear>(s); };
  return k;
}

}  // namespace ds::lens
