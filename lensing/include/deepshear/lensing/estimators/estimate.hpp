// What every shear estimator returns per stamp: a reduced-shear estimate and
// flags. A flagged stamp still gets a defined result in memory (g = 0, never a NaN);
// catalogues write it as NaN (shear_catalogue.hpp).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "deepshear/engine/image.hpp"
#include "deepshear/lensing/calibration.hpp"

namespace ds::lens {

enum EstimateFlag : std::uint32_t {
  kFlagEdge = 1u << 0,             // centroid at or beyond the stamp edge
  kFlagCentroid = 1u << 1,         // centroid did not converge or moved too far
  kFlagNonFinite = 1u << 2,        // NaN or infinite pixels
  kFlagBlank = 1u << 3,            // no signal (zero or negative total weight)
  kFlagNegativeSize = 1u << 4,     // corrected size Ixx + Iyy <= 0
  kFlagBigEllipticity = 1u << 5,   // corrected |e|^2 above the cut
  kFlagNoPsf = 1u << 6,            // the PSF could not be measured
  kFlagCut = 1u << 7,              // not measured: the source failed a catalogue cut
};

struct ShearEstimate {
  double g1 = 0, g2 = 0;
  std::uint32_t flags = 0;
  bool ok() const { return flags == 0; }
};

constexpr int kFlagBits = 8;
// Bit b's name and meaning: ("edge", "centroid at or beyond the stamp edge").
std::pair<std::string, std::string> flag_bit(int bit);
// What a stamp's pixels alone say: kFlagNonFinite when any is NaN or
// infinite, kFlagBlank when all are equal (no source: a constant stamp, of
// any level), else 0.
template <class T>
std::uint32_t pixel_flags(ImageView<const T> stamp) {
  if (stamp.nx() == 0 || stamp.ny() == 0) return kFlagBlank;
  bool finite = true;
  T lo = stamp(0, 0), hi = stamp(0, 0);
  stamp.for_each([&](T v) {
    finite = finite && std::isfinite(v);
    lo = std::min(lo, v), hi = std::max(hi, v);
  });
  if (!finite) return kFlagNonFinite;
  return hi > lo ? 0u : std::uint32_t(kFlagBlank);
}

// "edge|blank" for people.
std::string describe_flags(std::uint32_t flags);

// Calibrates the unflagged estimates in place, (g - c) / (1 + m): one
// calibration for all, or a per-galaxy one evaluated at q[i] for estimate i.
void calibrate(std::vector<ShearEstimate>& g, const Calibration& cal);
void calibrate(std::vector<ShearEstimate>& g, const BinnedCalibration& cal, const std::vector<double>& q);

}  // namespace ds::lens
