// Metacalibration around a base estimator (cnn, rrg, ksb): "metacal-rrg" and
// so on. The five images of each stamp come from img::MetacalOperator
// (imaging/metacal.hpp), built once per PSF and stamp size; the base
// estimator, set up for the round target PSF P', measures each image.
//
// Per stamp: (g1, g2) = the base's e on the noshear image (not yet divided
// by any response), flags = the base's flags on any of the five images, and
// the extra columns R11, R12, R21, R22 (R_ij = de_i/dg_j = (e_i(jp) - e_i(jm)) / (2 step)),
// then the base's own extra columns from the noshear image. With a noise
// kernel in the set-up, fixnoise adds to each image the same operations on
// a 90-degree-rotated noise field drawn with that kernel, keyed on the
// stamp's pixels (img::stamp_key), so a stamp gets the same field in any
// batch or rank split.
//
// The shear of an ensemble is <R>^-1 <e>, never a per-galaxy division:
// divide_by_mean_response does that for a set of results.
#pragma once
#include <string>

#include "deepshear/lensing/estimators/estimator.hpp"

namespace ds::lens {

constexpr double kMetacalStep = 0.01;

// The kind "metacal-<base>" for a base estimator's kind.
EstimatorKind metacal_estimator_kind(const EstimatorKind& base);

// The mean 2x2 response over the stamps without flags and with finite R.
struct MeanResponse {
  double r11 = 0, r12 = 0, r21 = 0, r22 = 0;
  long n = 0;
};
// Whether a batch has the R11..R22 columns.
bool has_response(const EstimateBatch& b);
MeanResponse mean_response(const EstimateBatch& b);
// Replaces each unflagged e by <R>^-1 e, <R> this batch's mean response;
// returns it. Throws when the batch has no response columns or no usable stamp.
MeanResponse divide_by_mean_response(EstimateBatch& b);
// The estimates with each unflagged stamp's e divided by the mean response
// of its own bin (bin[i] in [0, bins), or -1: left as it is): the shear of
// each bin as an ensemble. A bin without a usable stamp is left as it is.
std::vector<ShearEstimate> divided_by_bin_response(const EstimateBatch& b, const std::vector<int>& bin, int bins);

}  // namespace ds::lens
