// Relative calibration of one shear estimator to another on real fields (Springer et
// al. 2018, sec. 6.2): both smoothed fields are sampled at random points at 1/10 of the
// source density, and y = c + (1 + m) x is fitted per shear component with an
// errors-in-variables likelihood (Hogg, Bovy & Lang 2010, sec. 7) that uses the
// bootstrap 2 x 2 covariance of (x, y) at each point.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "deepshear/lensing/cluster/field.hpp"

namespace ds::lens {

// Points (x_i, y_i) with their 2 x 2 covariances [[vxx, vxy], [vxy, vyy]], and the
// resampling block each point belongs to (for block-bootstrap errors).
struct PairedSamples {
  std::vector<double> x, y, vxx, vxy, vyy;
  std::vector<long> block;
  long size() const { return long(x.size()); }
  void append(const PairedSamples& other);
};

// The fields of estimators `reference` (x) and `estimator` (y) of one catalogue, with
// their joint bootstrap covariances, at max(1, round(fraction * n)) points drawn
// uniformly in the sources' bounding box from RandomStream(seed, "calibration.points",
// field_index), keeping only points where the field is valid (neff >= min_neff) and the
// covariance is positive definite. Element c of the result is shear component c + 1.
// Each point's block is field_index * 9 + its cell in a 3 x 3 division of the bounding box.
std::array<PairedSamples, 2> sample_field_pairs(const SourceCatalogue& sources, const std::string& reference,
                                                const std::string& estimator, const SmoothingOptions& options = {},
                                                int nboot = 100, double fraction = 0.1, std::uint64_t seed = 1,
                                                std::uint64_t field_index = 0);

// y = c + (1 + m) x with errors; cov_cm the covariance of the two estimates.
struct LineFit {
  double c = 0, m = 0, c_err = 0, m_err = 0, cov_cm = 0;
  double chi2 = 0;  // at the maximum: sum_i Delta_i^2 / Sigma_i^2
  long n = 0;
  // Block-bootstrap errors (0 if not computed): the spread of the fit over resamplings,
  // with replacement, of the samples' blocks. Sampled field values closer than a few
  // lambda are correlated, which the curvature errors ignore; on mock fields sampled at
  // 1/10 of the source density the curvature errors come out ~2x too small, so prefer these.
  double c_err_blocks = 0, m_err_blocks = 0;
  int blocks = 0;
};

// Errors-in-variables fit of y = c + s x (s = 1 + m). With the line's unit normal
// v = (-sin t, cos t), t = atan(s), the perpendicular displacement of point Z_i = (x_i, y_i)
// is Delta_i = v.Z_i - c cos t and its projected variance Sigma_i^2 = v^T C_i v
// (Hogg et al. 2010, eqs. 30-31); the log-likelihood we maximise is their eq. 32,
//   ln L = K - sum_i Delta_i^2 / (2 Sigma_i^2)
//        = K - sum_i (y_i - c - s x_i)^2 / (2 (vyy_i - 2 s vxy_i + s^2 vxx_i)),
// i.e. the true x_i profiled out; we leave out a -1/2 ln Sigma_i^2 term, which a flat
// prior on the true x_i would add and which biases s towards lines of small projected
// variance. The maximum is found by a scan over t in (-pi/2, pi/2), c profiled out
// analytically, then golden-section refinement. Errors: the inverse Hessian of -ln L in
// (c, s) at the maximum (the curvature of the likelihood), by finite differences.
// Needs >= 3 points.
LineFit fit_line_eiv(const PairedSamples& samples);

// fit_line_eiv plus block-bootstrap errors from nboot resamplings of the blocks, each
// drawn from RandomStream(seed, "calibration.blocks", b). Needs >= 4 blocks.
LineFit fit_line_eiv_blocks(const PairedSamples& samples, int nboot = 200, std::uint64_t seed = 1);

// The relative calibration of `estimator` to `reference` over one or many fields: the
// samples of every field pooled, one fit per component (element c: component c + 1),
// with curvature and block-bootstrap errors (200 resamplings of the 9 blocks per field).
std::array<LineFit, 2> relative_calibration(const std::vector<SourceCatalogue>& fields, const std::string& reference,
                                            const std::string& estimator, const SmoothingOptions& options = {},
                                            int nboot = 100, double fraction = 0.1, std::uint64_t seed = 1);

// Applies a relative calibration to estimator `name` of a catalogue in place:
// g_c -> (g_c - c) / (1 + m) per component, so it becomes unbiased relative to the reference.
void apply_relative_calibration(SourceCatalogue& sources, const std::string& name, const std::array<LineFit, 2>& fit);

}  // namespace ds::lens
