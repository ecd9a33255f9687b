// NFW lens model for cluster shear profiles.
//
// Cosmology: flat LambdaCDM (default H0 = 70 km/s/Mpc, Omega_m = 0.3), E(z) =
// sqrt(Om (1+z)^3 + 1 - Om); comoving distance chi = (c/H0) int_0^z dz'/E(z'); angular
// diameter distances D_A = chi / (1+z) and D_ls = (chi_s - chi_l) / (1+z_s) (flat space);
// rho_crit(z) = 3 H(z)^2 / (8 pi G); Sigma_crit = c^2 D_s / (4 pi G D_l D_ls).
// Units: Msun, Mpc.
//
// Halo: rho(r) = delta_c rho_crit(z) / ((r/r_s)(1 + r/r_s)^2), M200 the mass within r200,
// where the mean density is 200 rho_crit(z); c = r200 / r_s; delta_c = (200/3) c^3 /
// (ln(1+c) - c/(1+c)) (Navarro, Frenk & White 1997). Concentration either fixed or from
// Duffy et al. (2008, full sample, NFW, M200c): c = 5.71 (M200 / (2e12 Msun/h))^-0.084 (1+z)^-0.47.
//
// Lensing (Wright & Brainerd 2000, eqs. 11-16), x = R / r_s, F(x) = arccosh(1/x)/sqrt(1-x^2)
// for x < 1, arccos(1/x)/sqrt(x^2-1) for x > 1, F(1) = 1:
//   Sigma(x)      = 2 r_s delta_c rho_crit (1 - F(x)) / (x^2 - 1)   (1/3 of the prefactor at x = 1)
//   mean Sigma(<x) = 4 r_s delta_c rho_crit (ln(x/2) + F(x)) / x^2
//   gamma_t = (mean Sigma - Sigma) / Sigma_crit, kappa = Sigma / Sigma_crit, g_t = gamma_t / (1 - kappa),
//   mu = 1 / ((1 - kappa)^2 - gamma_t^2) (negative between the critical curves).
#pragma once
#include <optional>
#include <vector>

#include "deepshear/lensing/cluster/tangential_profile.hpp"

namespace ds::lens {

struct Cosmology {
  // The paper's cosmology (sec. 6): flat LambdaCDM, Omega_m 0.27, h 0.7.
  double h0 = 70.0;       // km/s/Mpc
  double omega_m = 0.27;  // flat: Omega_Lambda = 1 - Omega_m
  double efunc(double z) const;
  double comoving_distance(double z) const;                 // Mpc
  double angular_diameter_distance(double z) const;         // Mpc
  double angular_diameter_distance(double z1, double z2) const;  // Mpc, z2 > z1
  double rho_crit(double z) const;                          // Msun / Mpc^3
  double sigma_crit(double z_lens, double z_source) const;  // Msun / Mpc^2
};

// Duffy et al. (2008) c200 for M200 in Msun at redshift z (h = H0 / 100).
double duffy08_concentration(double m200, double z, double h = 0.7);

struct NfwHalo {
  double m200 = 0, c = 0, z = 0;  // Msun, concentration, redshift
  double r200 = 0, rs = 0;        // Mpc
  double rho_s = 0;               // delta_c rho_crit(z), Msun / Mpc^3
  // concentration <= 0: Duffy et al. 2008.
  static NfwHalo make(double m200, double z, double concentration, const Cosmology& cosmo = {});
  double density(double r) const;      // Msun / Mpc^3
  double sigma(double R) const;        // Msun / Mpc^2
  double mean_sigma(double R) const;   // mean within R, Msun / Mpc^2
};

// The lensing of a source at one radius (dimensionless).
struct NfwLensing {
  double kappa = 0;    // convergence Sigma / Sigma_crit
  double gamma_t = 0;  // tangential shear
  double g_t = 0;      // reduced tangential shear gamma_t / (1 - kappa)
  double mu = 1;       // magnification 1 / ((1 - kappa)^2 - gamma_t^2)
};

// A lens at z_lens with sources at one redshift (or a given Sigma_crit).
struct NfwLens {
  double z_lens = 0.3;
  double sigma_crit = 0;      // Msun / Mpc^2
  double concentration = 0;   // <= 0: Duffy et al. 2008
  double d_lens = 0;          // angular diameter distance to the lens, Mpc (<= 0: from cosmo)
  Cosmology cosmo;
  static NfwLens with_source_redshift(double z_lens, double z_source, double concentration = 0,
                                      const Cosmology& cosmo = {});
  // Reduced tangential shear at angle theta (arcsec) from the centre for halo mass m200 (Msun).
  double reduced_shear(double m200, double theta_arcsec) const;
  // kappa, gamma_t, g_t and mu at angle theta (arcsec, > 0) from the centre for halo mass m200 (Msun).
  NfwLensing lensing(double m200, double theta_arcsec) const;
};

struct NfwFit {
  double m200 = 0;              // best-fitting M200, Msun
  double m200_lo = 0, m200_hi = 0;  // where chi^2 = min + 1 (68% interval)
  double m200_err = 0;          // (hi - lo) / 2
  double chi2 = 0;
  int dof = 0;
  bool bounded = true;          // false if an interval end hit the scanned range [1e11, 1e17]
};

// Fits M200 to a tangential-shear profile: g_t[i] +- err[i] at radii theta[i] (arcsec),
// chi^2 on a scan in log M200 over [1e11, 1e17] Msun, refined by golden section; the
// interval from chi^2 = min + 1 by bisection. The model is evaluated at each bin's radius.
NfwFit fit_nfw_m200(const NfwLens& lens, const std::vector<double>& theta, const std::vector<double>& gt,
                    const std::vector<double>& err);

// fit_nfw_m200 on the bins of a tangential profile that hold more than 2 sources and
// a finite, positive g_t error (at each bin's mean radius); nothing when fewer than 2
// bins qualify.
std::optional<NfwFit> fit_nfw_profile(const NfwLens& lens, const TangentialProfile& profile);

}  // namespace ds::lens
