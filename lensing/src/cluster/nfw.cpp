// NFW lens model and M200 fit (see nfw.hpp for the formulas and their sources).
#include "deepshear/lensing/cluster/nfw.hpp"

#include <cmath>
#include <functional>

#include "deepshear/engine/constants.hpp"
#include "deepshear/engine/error.hpp"

namespace ds::lens {

namespace {
constexpr double kC = 299792.458;         // km/s
constexpr double kG = 4.30091727e-9;      // Mpc (km/s)^2 / Msun
constexpr double kArcsec = kPi / (180.0 * 3600.0);

// F(x) of Wright & Brainerd (2000), with F(1) = 1.
double wb_f(double x) {
  if (x < 1) return std::acosh(1 / x) / std::sqrt(1 - x * x);
  if (x > 1) return std::acos(1 / x) / std::sqrt(x * x - 1);
  return 1.0;
}
// (1 - F(x)) / (x^2 - 1), continued through x = 1 (value 1/3) by linear interpolation.
double sigma_shape(double x) {
  const double eps = 1e-4;
  if (std::abs(x - 1) < eps) {
    const double a = (1 - wb_f(1 - eps)) / ((1 - eps) * (1 - eps) - 1),
                 b = (1 - wb_f(1 + eps)) / ((1 + eps) * (1 + eps) - 1);
    return a + (b - a) * (x - (1 - eps)) / (2 * eps);
  }
  return (1 - wb_f(x)) / (x * x - 1);
}
}  // namespace

double Cosmology::efunc(double z) const {
  return std::sqrt(omega_m * std::pow(1 + z, 3) + (1 - omega_m));
}

double Cosmology::comoving_distance(double z) const {
  require(z >= 0 && std::isfinite(z), "redshift " + std::to_string(z) + " must be >= 0");
  // Simpson's rule on 2000 intervals.
  const int n = 2000;
  const double h = z / n;
  double s = 1 / efunc(0) + 1 / efunc(z);
  for (int i = 1; i < n; ++i) s += (i % 2 ? 4.0 : 2.0) / efunc(i * h);
  return kC / h0 * s * h / 3;
}

double Cosmology::angular_diameter_distance(double z) const { return comoving_distance(z) / (1 + z); }

double Cosmology::angular_diameter_distance(double z1, double z2) const {
  require(z2 > z1, "source redshift " + std::to_string(z2) + " must exceed lens redshift " + std::to_string(z1));
  return (comoving_distance(z2) - comoving_distance(z1)) / (1 + z2);
}

double Cosmology::rho_crit(double z) const {
  const double hz = h0 * efunc(z);
  return 3 * hz * hz / (8 * kPi * kG);
}

double Cosmology::sigma_crit(double zl, double zs) const {
  return kC * kC / (4 * kPi * kG) * angular_diameter_distance(zs) /
         (angular_diameter_distance(zl) * angular_diameter_distance(zl, zs));
}

double duffy08_concentration(double m200, double z, double h) {
  require(m200 > 0, "M200 " + std::to_string(m200) + " must be positive");
  return 5.71 * std::pow(m200 * h / 2e12, -0.084) * std::pow(1 + z, -0.47);
}

NfwHalo NfwHalo::make(double m200, double z, double concentration, const Cosmology& cosmo) {
  require(m200 > 0 && std::isfinite(m200), "NFW M200 " + std::to_string(m200) + " must be positive");
  NfwHalo h;
  h.m200 = m200;
  h.z = z;
  h.c = concentration > 0 ? concentration : duffy08_concentration(m200, z, cosmo.h0 / 100);
  const double rc = cosmo.rho_crit(z);
  h.r200 = std::cbrt(3 * m200 / (4 * kPi * 200 * rc));
  h.rs = h.r200 / h.c;
  h.rho_s = rc * (200.0 / 3.0) * h.c * h.c * h.c / (std::log(1 + h.c) - h.c / (1 + h.c));
  return h;
}

double NfwHalo::density(double r) const {
  const double x = r / rs;
  return rho_s / (x * (1 + x) * (1 + x));
}

double NfwHalo::sigma(double R) const { return 2 * rs * rho_s * sigma_shape(R / rs); }

double NfwHalo::mean_sigma(double R) const {
  const double x = R / rs;
  return 4 * rs * rho_s * (std::log(x / 2) + wb_f(x)) / (x * x);
}

NfwLens NfwLens::with_source_redshift(double zl, double zs, double concentration, const Cosmology& cosmo) {
  NfwLens l;
  l.z_lens = zl;
  l.sigma_crit = cosmo.sigma_crit(zl, zs);
  l.concentration = concentration;
  l.d_lens = cosmo.angular_diameter_distance(zl);
  l.cosmo = cosmo;
  return l;
}

double NfwLens::reduced_shear(double m200, double theta) const { return lensing(m200, theta).g_t; }

NfwLensing NfwLens::lensing(double m200, double theta) const {
  require(sigma_crit > 0, "NFW lens: Sigma_crit " + std::to_string(sigma_crit) + " must be positive");
  require(theta > 0, "NFW lens: radius " + std::to_string(theta) + " arcsec must be positive");
  const NfwHalo h = NfwHalo::make(m200, z_lens, concentration, cosmo);
  const double R = theta * kArcsec * (d_lens > 0 ? d_lens : cosmo.angular_diameter_distance(z_lens));
  const double s = h.sigma(R);
  NfwLensing l;
  l.kappa = s / sigma_crit;
  l.gamma_t = (h.mean_sigma(R) - s) / sigma_crit;
  l.g_t = l.gamma_t / (1 - l.kappa);
  l.mu = 1 / ((1 - l.kappa) * (1 - l.kappa) - l.gamma_t * l.gamma_t);
  return l;
}

NfwFit fit_nfw_m200(const NfwLens& lens, const std::vector<double>& theta, const std::vector<double>& gt,
                    const std::vector<double>& err) {
  require(theta.size() == gt.size() && err.size() == gt.size(),
          "NFW fit: " + std::to_string(theta.size()) + " radii, " + std::to_string(gt.size()) + " shears, " +
              std::to_string(err.size()) + " errors");
  std::vector<std::size_t> use;
  for (std::size_t i = 0; i < gt.size(); ++i)
    if (std::isfinite(gt[i]) && err[i] > 0 && theta[i] > 0) use.push_back(i);
  require(use.size() >= 2, "NFW fit needs at least 2 bins with shear and positive errors");
  NfwLens cached = lens;
  if (cached.d_lens <= 0) cached.d_lens = lens.cosmo.angular_diameter_distance(lens.z_lens);
  auto chi2 = [&](double lm) {
    const double m = std::pow(10.0, lm);
    double q = 0;
    for (std::size_t i : use) {
      const double r = (gt[i] - cached.reduced_shear(m, theta[i])) / err[i];
      q += r * r;
    }
    return q;
  };
  const double lo = 11, hi = 17, step = 0.01;
  double best = lo, qbest = chi2(lo);
  for (double lm = lo + step; lm <= hi + 1e-9; lm += step) {
    const double q = chi2(lm);
    if (q < qbest) qbest = q, best = lm;
  }
  double a = std::max(lo, best - step), b = std::min(hi, best + step);
  const double gr = (std::sqrt(5.0) - 1) / 2;
  double x1 = b - gr * (b - a), x2 = a + gr * (b - a), f1 = chi2(x1), f2 = chi2(x2);
  for (int it = 0; it < 80 && b - a > 1e-9; ++it) {
    if (f1 < f2) b = x2, x2 = x1, f2 = f1, x1 = b - gr * (b - a), f1 = chi2(x1);
    else a = x1, x1 = x2, f1 = f2, x2 = a + gr * (b - a), f2 = chi2(x2);
  }
  NfwFit fit;
  const double lbest = 0.5 * (a + b);
  fit.chi2 = chi2(lbest);
  fit.m200 = std::pow(10.0, lbest);
  fit.dof = int(use.size()) - 1;
  // chi^2 = min + 1 on each side, by bisection (assumes one crossing between best and the end).
  auto crossing = [&](double end) {
    if (chi2(end) < fit.chi2 + 1) {
      fit.bounded = false;
      return end;
    }
    double in = lbest, out = end;
    for (int it = 0; it < 60; ++it) {
      const double mid = 0.5 * (in + out);
      (chi2(mid) < fit.chi2 + 1 ? in : out) = mid;
    }
    return 0.5 * (in + out);
  };
  fit.m200_lo = std::pow(10.0, crossing(lo));
  fit.m200_hi = std::pow(10.0, crossing(hi));
  fit.m200_err = 0.5 * (fit.m200_hi - fit.m200_lo);
  return fit;
}

std::optional<NfwFit> fit_nfw_profile(const NfwLens& lens, const TangentialProfile& p) {
  std::vector<double> theta, gt, err;
  for (std::size_t b = 0; b < p.gt.size(); ++b)
    if (p.n[b] > 2 && std::isfinite(p.gt_err[b]) && p.gt_err[b] > 0)
      theta.push_back(p.r_mean[b]), gt.push_back(p.gt[b]), err.push_back(p.gt_err[b]);
  if (theta.size() < 2) return std::nullopt;
  return fit_nfw_m200(lens, theta, gt, err);
}

}  // namespace ds::lens
