#include "deepshear/lensing/estimators/ksb.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "deepshear/engine/constants.hpp"
#include "deepshear/engine/error.hpp"
#include "deepshear/engine/parallel.hpp"

namespace ds::lens {

namespace {

constexpr int kOrder = 4;
constexpr double kStepBound = 0.25;
constexpr int kMaxIter = 400;

// psi[n][j] for n <= order at u = u0 + j, j < count (see hermite_moments).
void hermite_functions(long count, double u0, double sigma, int order, std::vector<double>* psi) {
  const double beta = 1 / sigma;
  const double norm0 = std::pow(kPi, -0.25) * std::sqrt(beta);
  for (int n = 0; n <= order; ++n) psi[n].assign(std::size_t(count), 0.0);
  for (long j = 0; j < count; ++j) {
    double u = u0 + double(j);
    psi[0][std::size_t(j)] = norm0 * std::exp(-0.5 * beta * beta * u * u);
    if (order >= 1) psi[1][std::size_t(j)] = std::sqrt(2.0) * beta * u * psi[0][std::size_t(j)];
  }
  for (int n = 1; n < order; ++n) {
    double a = beta * std::sqrt(2.0 / (n + 1.0)), b = -std::sqrt(double(n) / (n + 1.0));
    for (long j = 0; j < count; ++j) {
      double u = u0 + double(j);
      psi[n + 1][std::size_t(j)] = a * u * psi[n][std::size_t(j)] + b * psi[n - 1][std::size_t(j)];
    }
  }
}

void moments_to_order(ImageView<const double> img, double x0, double y0, double sigma, int order,
                      HermiteMoments& out) {
  std::vector<double> px[kOrder + 1], py[kOrder + 1];
  hermite_functions(img.nx(), -x0, sigma, order, px);
  hermite_functions(img.ny(), -y0, sigma, order, py);
  for (int m = 0; m <= kOrder; ++m)
    for (int n = 0; n <= kOrder; ++n) out[m][n] = 0;
  for (long y = 0; y < img.ny(); ++y) {
    const double* row = img.row(y);
    for (int m = 0; m <= order; ++m) {
      double s = 0;
      for (long x = 0; x < img.nx(); ++x) s += row[x] * px[m][std::size_t(x)];
      for (int n = 0; n <= order - m; ++n) out[m][n] += s * py[n][std::size_t(y)];
    }
  }
}

}  // namespace

void hermite_moments(ImageView<const double> img, double x0, double y0, double sigma, HermiteMoments& out) {
  moments_to_order(img, x0, y0, sigma, kOrder, out);
}

CircularWeight circular_adaptive_weight(ImageView<const double> img, double x, double y, double sigma, double tol) {
  CircularWeight w{x, y, sigma, 0, false};
  const double sigma0 = sigma;
  HermiteMoments m;
  for (int it = 1; it <= kMaxIter; ++it) {
    moments_to_order(img, w.x, w.y, w.sigma, 2, m);
    if (!(m[0][0] > 0) || !std::isfinite(m[0][0])) {
      w.iterations = it;
      return w;
    }
    auto bound = [](double v) { return std::clamp(v, -kStepBound, kStepBound); };
    double dx = bound(std::sqrt(2.0) * m[1][0] / m[0][0]);
    double dy = bound(std::sqrt(2.0) * m[0][1] / m[0][0]);
    double ds = bound(std::sqrt(0.5) * (m[2][0] + m[0][2]) / m[0][0]);
    double conv = std::max({std::abs(dx), std::abs(dy), std::abs(ds)});
    if (w.sigma < sigma0) conv *= sigma0 / w.sigma;
    w.x += dx * w.sigma;
    w.y += dy * w.sigma;
    w.sigma += ds * w.sigma;
    w.iterations = it;
    if (conv <= tol) {
      w.converged = true;
      break;
    }
  }
  return w;
}

namespace {

// The KSB ellipticity, shear and smear polarisabilities of one object from its
// Hermite moments, in the polar (nl, nr) basis (Q = + component, U = x component).
struct Polarisability {
  double eQ, eU;                  // ellipticity
  double pgQQ, pgQU, pgUQ, pgUU;  // shear polarisability
  double psQQ, psQU, psUQ, psUU;  // smear polarisability
};

Polarisability polarisability(const HermiteMoments& m) {
  const double r2 = std::sqrt(2.0), r6 = std::sqrt(6.0), r38 = std::sqrt(3.0 / 8.0);
  double M00 = m[0][0];
  double M20r = 0.5 * (m[2][0] - m[0][2]), M20i = m[1][1] / r2;
  double M11 = (m[2][0] + m[0][2]) / r2;
  double M40r = 0.25 * (m[4][0] + m[0][4]) - r38 * m[2][2], M40i = 0.5 * (m[3][1] - m[1][3]);
  double M31r = 0.5 * (m[4][0] - m[0][4]), M31i = 0.5 * (m[3][1] + m[1][3]);
  double M22 = r38 * (m[4][0] + m[0][4]) + 0.5 * m[2][2];
  double T = M00 + M11;
  Polarisability p;
  p.eQ = r2 * M20r / T;
  p.eU = r2 * M20i / T;
  double egQ = (-r2 * M20r - r6 * M31r) / T, egU = (-r2 * M20i - r6 * M31i) / T;
  double iso_g = 2 - (M00 + 2 * M11 + M22) / T;
  p.pgQQ = -p.eQ * egQ - r6 * M40r / T + iso_g;
  p.pgQU = -p.eQ * egU - r6 * M40i / T;
  p.pgUQ = -p.eU * egQ - r6 * M40i / T;
  p.pgUU = -p.eU * egU + r6 * M40r / T + iso_g;
  double esQ = (-r2 * M20r + r6 * M31r) / (4 * T), esU = (-r2 * M20i + r6 * M31i) / (4 * T);
  double iso_s = (M00 - 2 * M11 + M22) / (2 * T);
  p.psQQ = -p.eQ * esQ + r6 * M40r / (4 * T) + iso_s;
  p.psQU = -p.eQ * esU + r6 * M40i / (4 * T);
  p.psUQ = -p.eU * esQ + r6 * M40i / (4 * T);
  p.psUU = -p.eU * esU - r6 * M40r / (4 * T) + iso_s;
  return p;
}

bool invert(double& a, double& b, double& c, double& d) {
  double det = a * d - b * c;
  if (!(std::abs(det) > 0) || !std::isfinite(det)) return false;
  double na = d / det, nb = -b / det, nc = -c / det, nd = a / det;
  a = na, b = nb, c = nc, d = nd;
  return true;
}

}  // namespace

KsbResult ksb_measure(ImageView<const double> gal, ImageView<const double> psf, double xg, double yg, double sg,
                      double sp) {
  KsbResult r;
  if ((r.flags = pixel_flags(gal))) return r;
  if (std::isnan(xg)) xg = (double(gal.nx()) - 1) / 2;
  if (std::isnan(yg)) yg = (double(gal.ny()) - 1) / 2;
  r.galaxy = circular_adaptive_weight(gal, xg, yg, sg);
  if (!r.galaxy.converged) {
    // As HSM: fall back to the guesses and flag.
    r.flags |= kFlagCentroid;
    r.galaxy = CircularWeight{xg, yg, sg, r.galaxy.iterations, false};
  }
  r.psf = circular_adaptive_weight(psf, (double(psf.nx()) - 1) / 2, (double(psf.ny()) - 1) / 2, sp);
  if (!r.psf.converged) return r.flags |= kFlagNoPsf, r;

  HermiteMoments mg, mp;
  hermite_moments(gal, r.galaxy.x, r.galaxy.y, r.galaxy.sigma, mg);
  if (!(mg[0][0] > 0)) return r.flags |= kFlagBlank, r;
  hermite_moments(psf, r.psf.x, r.psf.y, r.galaxy.sigma, mp);  // PSF with the galaxy's weight
  r.resolution = 1 - (r.psf.sigma * r.psf.sigma) / (r.galaxy.sigma * r.galaxy.sigma);

  Polarisability o = polarisability(mg), p = polarisability(mp);
  // Anisotropy: q = Psm_psf^-1 e_psf; e_corr = e_obs - Psm_obs q.
  if (!invert(p.psQQ, p.psQU, p.psUQ, p.psUU)) return r.flags |= kFlagNoPsf, r;
  double qQ = p.psQQ * p.eQ + p.psQU * p.eU, qU = p.psUQ * p.eQ + p.psUU * p.eU;
  double eQ = o.eQ - o.psQQ * qQ - o.psQU * qU, eU = o.eU - o.psUQ * qQ - o.psUU * qU;
  // Pre-seeing shear polarisability: P = Psh_obs - Psm_obs Psm_psf^-1 Psh_psf.
  auto mul = [](double a, double b, double c, double d, double e, double f, double g, double h, double* out) {
    out[0] = a * e + b * g, out[1] = a * f + b * h, out[2] = c * e + d * g, out[3] = c * f + d * h;
  };
  double t[4], u[4];
  mul(p.pgQQ, p.pgQU, p.pgUQ, p.pgUU, p.psQQ, p.psQU, p.psUQ, p.psUU, t);  // Psh_psf Psm_psf^-1
  mul(o.psQQ, o.psQU, o.psUQ, o.psUU, t[0], t[1], t[2], t[3], u);
  double PQQ = o.pgQQ - u[0], PQU = o.pgQU - u[1], PUQ = o.pgUQ - u[2], PUU = o.pgUU - u[3];
  if (!invert(PQQ, PQU, PUQ, PUU)) return r.flags |= kFlagNegativeSize, r;
  r.g1 = PQQ * eQ + PQU * eU;
  r.g2 = PUQ * eQ + PUU * eU;
  if (!std::isfinite(r.g1) || !std::isfinite(r.g2)) {
    r.g1 = r.g2 = 0;
    r.flags |= kFlagNegativeSize;
  }
  return r;
}

std::vector<ShearEstimate> ksb_estimate(const Tensor& stamps, ImageView<const double> psf) {
  require(stamps.rank() == 3, "KSB: stamps must be (n, ny, nx), got " + Tensor::shape_string(stamps.shape()));
  const long n = stamps.dim(0), ny = stamps.dim(1), nx = stamps.dim(2);
  std::vector<ShearEstimate> out(static_cast<std::size_t>(n));
  parallel_for_scratch<ImageD>(
      n, [&] { return ImageD(ny, nx); },
      [&](long i, ImageD& s) {
        const float* src = stamps.data() + i * ny * nx;
        for (long k = 0; k < ny * nx; ++k) s.data()[k] = src[k];
        KsbResult r = ksb_measure(s.view(), psf);
        auto& o = out[std::size_t(i)];
        o.flags = r.flags;
        // A reduced shear of modulus >= 1 is unphysical: KSB's P_gamma was near singular.
        if (!o.flags && std::hypot(r.g1, r.g2) >= 1) o.flags |= kFlagBigEllipticity;
        if (!o.flags) o.g1 = r.g1, o.g2 = r.g2;
      },
      16);
  return out;
}

}  // namespace ds::lens

// ---------------------------------------------------------------- registry entry
#include "deepshear/lensing/estimators/estimator.hpp"
#include "deepshear/lensing/estimators/stamp_psf.hpp"

namespace ds::lens {
namespace {

class KsbShear : public ShearEstimator {
 public:
  explicit KsbShear(const EstimatorSetup& s) { set_psf(s.psf_fwhm, s.pixel_scale); }
  std::string name() const override { return "ksb"; }
  EstimateBatch estimate(const Tensor& stamps) override { return {ksb_estimate(stamps, psf_.view()), {}}; }
  void set_psf(double fwhm, double pixel_scale) override { psf_ = StampPsf::gaussian(fwhm, pixel_scale).image; }

 private:
  ImageD psf_;
};

}  // namespace

EstimatorKind ksb_estimator_kind() {
  EstimatorKind k;
  k.name = "ksb";
  k.description = "KSB (Kaiser, Squires & Broadhurst 1995) as GalSim's HSM, with a round Gaussian PSF";
  k.needs.psf = true;
  k.make = [](const EstimatorSetup& s) { return std::make_unique<KsbShear>(s); };
  return k;
}

}  // namespace ds::lens
