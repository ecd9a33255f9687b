// Multiplicative and additive shear bias (eq. 17 of Springer et al. 2018):
// per component, g_obs = c + (1 + m) g_true, fitted by least squares with
// standard errors; calibrated estimate (g_obs - c) / (1 + m).
#pragma once
#include <complex>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ds::lens {

struct BiasFit {
  double c = 0, m = 0;          // g_obs = c + (1 + m) g_true
  double c_err = 0, m_err = 0;  // standard errors (from the residual scatter)
  double rms = 0;               // RMS of the calibrated estimate minus truth
  long n = 0;
};

// Least-squares fit of g_obs = c + (1 + m) g_true; needs >= 3 points with
// distinct g_true. Non-finite pairs are skipped.
BiasFit fit_bias(const std::vector<double>& g_true, const std::vector<double>& g_obs);

// A calibration of both components.
struct Calibration {
  double c1 = 0, m1 = 0, c2 = 0, m2 = 0;
  // (g - c) / (1 + m) per component.
  std::complex<double> apply(std::complex<double> g) const;
  // The calibration equal to applying this one, then `then`.
  Calibration then(const Calibration& next) const;
  // A calibration file (key = value lines: estimator, c1, m1, c2, m2), for
  // estimators whose calibration does not live in a model file (RRG, KSB).
  void save(const std::string& path, const std::string& estimator) const;
  static Calibration load(const std::string& path, std::string* estimator = nullptr);
};

// A calibration that depends on a per-galaxy quantity q (S/N, magnitude,
// size): (c, m) per component fitted in bins of q holding equal numbers of
// galaxies, applied galaxy by galaxy with linear interpolation in q between
// bin centres (the median q of each bin; constant beyond the end bins).
struct BinnedCalibration {
  std::string quantity;
  std::vector<double> edges;        // nbins + 1
  std::vector<double> centres;      // median q per bin
  std::vector<BiasFit> fit1, fit2;  // per bin, per component

  static BinnedCalibration fit(const std::string& quantity, const std::vector<double>& q,
                               const std::vector<double>& g1_true, const std::vector<double>& g2_true,
                               const std::vector<double>& g1_obs, const std::vector<double>& g2_obs, int nbins);
  Calibration at(double q) const;
  std::complex<double> apply(std::complex<double> g, double q) const { return at(q).apply(g); }
  // A file of key = value lines (estimator, quantity, edges, centres, and per
  // bin c1, m1, c2, m2 as comma-separated lists); errors name the file and key.
  void save(const std::string& path, const std::string& estimator) const;
  static BinnedCalibration load(const std::string& path, std::string* estimator = nullptr);
  // Whether a calibration file holds a binned calibration (a `quantity` key).
  static bool is_binned_file(const std::string& path);
};

// Standard deviations of statistics over bootstrap resamplings: stat(indices)
// returns k numbers for a resampled index set of the n items; nboot draws
// from RandomStream(seed, "bootstrap", b).
std::vector<double> bootstrap_std(long n, int nboot, std::uint64_t seed,
                                  const std::function<std::vector<double>(const std::vector<long>&)>& stat);

}  // namespace ds::lens
