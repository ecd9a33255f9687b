// Smoothed shear fields of a cluster (Springer et al. 2018, sec. 6.1, eqs. 18-19)
// and their bootstrap covariances.
//
// The paper writes the field as g_lambda(theta) = sum_j g_j S_lambda(theta - theta_j)
// (eq. 18) with S_lambda(theta) = exp(-|theta|^2 / (2 lambda^2)) / (sqrt(2 pi) lambda)
// (eq. 19, a one-dimensional Gaussian normalisation). Printed that way the sum grows with
// the source density and is not a shear; we follow the weighted-mean form
//   g_lambda(theta) = sum_j g_j S(theta - theta_j) / sum_j S(theta - theta_j),
// in which the normalisation constant of S cancels, so the code uses S of unit peak.
// The kernel is cut at `truncation` * lambda (default 4: weights below 3.4e-4 dropped).
//
// Positions are arcsec on the sky plane (x along RA or image x times the pixel scale,
// y along Dec); several estimators share the positions of one catalogue.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "deepshear/engine/image.hpp"

namespace ds::lens {

// n sources with positions (arcsec) and k estimators' shears (g1, g2 per source).
struct SourceCatalogue {
  std::vector<double> x, y;                 // n, arcsec
  std::vector<std::string> names;           // k estimator names
  std::vector<std::vector<double>> g1, g2;  // k x n

  long size() const { return long(x.size()); }
  int estimators() const { return int(names.size()); }
  // Appends an estimator (g1, g2 of length n).
  void add_estimator(const std::string& name, std::vector<double> g1_values, std::vector<double> g2_values);
  // The index of the estimator called `name` (throws ds::Error if absent).
  int index_of(const std::string& name) const;
  // Throws ds::Error naming the array whose length or values are wrong.
  void check() const;
  // The sources at `indices` (all estimators).
  SourceCatalogue subset(const std::vector<long>& indices) const;
};

struct SmoothingOptions {
  double lambda = 19.5;     // Gaussian width, arcsec
  double truncation = 4.0;  // kernel cut radius in units of lambda
  double min_neff = 5.0;    // points with fewer effective sources are masked
};

// A regular grid of points: point (ix, iy) at (x0 + ix * step, y0 + iy * step), arcsec;
// flattened row-major [iy][ix] like ds::Image.
struct Grid {
  double x0 = 0, y0 = 0, step = 1;
  long nx = 0, ny = 0;
  // The grid covering the sources' bounding box grown by `padding` on each side.
  static Grid covering(const std::vector<double>& x, const std::vector<double>& y, double step, double padding);
  long size() const { return nx * ny; }
  std::vector<double> xs() const;  // nx * ny point x coordinates
  std::vector<double> ys() const;  // nx * ny point y coordinates
  // values (nx * ny, flattened [iy][ix]) as an ny x nx image.
  Image<double> image(const std::vector<double>& values) const;
};

// The smoothed field of each estimator at m points.
struct SmoothedField {
  std::vector<double> x, y;                 // m points, arcsec
  std::vector<std::string> names;           // k estimators
  std::vector<std::vector<double>> g1, g2;  // k x m; NaN where no source lies within the cut
  std::vector<double> weight_sum;           // m: sum_j S(theta - theta_j), S of unit peak
  std::vector<double> neff;                 // m: effective sources (sum S)^2 / sum S^2
  std::vector<unsigned char> valid;         // m: 1 where neff >= min_neff
  long size() const { return long(x.size()); }
};

// Evaluates the field of every estimator of `sources` at the points (px, py).
SmoothedField smooth_field(const SourceCatalogue& sources, const std::vector<double>& px,
                           const std::vector<double>& py, const SmoothingOptions& options = {});

// Bootstrap covariance of the smoothed field at m points from nboot resamplings (with
// replacement) of the n sources; resampling b draws from RandomStream(seed,
// "bootstrap.field", b), so results do not depend on the thread count.
// cov holds, per point and shear component, the k x k covariance between estimators
// (its diagonal: each estimator's variance).
struct BootstrapField {
  long m = 0;
  int k = 0, nboot = 0;
  std::vector<double> cov;  // m x 2 x k x k: [((p * 2 + c) * k + e1) * k + e2]
  std::vector<double> mean; // m x 2 x k: bootstrap mean, [(p * 2 + c) * k + e]
  std::vector<int> used;    // m: resamplings with a source inside the kernel (the others skipped)
  double covariance(long p, int component, int e1, int e2) const {
    return cov[std::size_t(((p * 2 + component) * k + e1) * k + e2)];
  }
  double variance(long p, int component, int e) const { return covariance(p, component, e, e); }
};
BootstrapField bootstrap_field(const SourceCatalogue& sources, const std::vector<double>& px,
                               const std::vector<double>& py, const SmoothingOptions& options = {},
                               int nboot = 100, std::uint64_t seed = 1);

}  // namespace ds::lens
