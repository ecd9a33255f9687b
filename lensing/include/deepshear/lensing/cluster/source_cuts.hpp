// Which detected sources of a cluster field go into the shear catalogue
// (Springer et al. 2018, sec. 2.1.3): point sources found in the r_half -
// magnitude and mu_max - magnitude planes (Leauthaud et al. 2007; Bardeau et
// al. 2005), the exposure cut (mean inverse variance in a 32 px box), the
// bad-pixel cut, stamps off the image edge and bad SExtractor flags.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "deepshear/lensing/cluster/field_inputs.hpp"

namespace ds::lens {

// Why a source was cut (bits; 0 = kept).
enum CutReason : std::uint32_t {
  kCutEdge = 1u << 0,         // its stamp runs off the image
  kCutExposure = 1u << 1,     // mean inverse variance in the box below the threshold
  kCutBadPixel = 1u << 2,     // its stamp overlaps a masked (bad or zero-weight) pixel
  kCutPointSource = 1u << 3,  // a star
  kCutSExtractor = 1u << 4,   // SExtractor FLAGS & flags_mask
};
// "edge|exposure" for people ("" when kept).
std::string describe_cuts(std::uint32_t cuts);
// The names of the bits, in bit order: edge, exposure, badpix, star, sexflags.
std::vector<std::string> cut_names();

// Point sources. A source is a star when it lies in the r_half - magnitude box,
// or on the stripe of the mu_max - magnitude plane: |mu_max - (a + b mag)| <=
// line_width, mag <= line_mag_max and mu_max <= cap. The line (a, b) is fitted
// to the box's stars (least squares with 3-sigma clipping; with fewer than 5
// of them or less than 1 mag of range, b = 1, as for a fixed PSF, and a the
// median); cap = mu_max_cap, or the line's value at line_mag_max when 0.
struct PointSourceOptions {
  bool enabled = true;
  double rh_max = 0.085;                 // arcsec: the box's upper r_half
  double mag_min = 14, mag_max = 23.5;   // the box's magnitude range
  double line_width = 0.4;               // mag arcsec^-2
  double line_mag_max = 25.0;            // the stripe's horizontal extent
  double mu_max_cap = 0;                 // mag arcsec^-2 (0: from line_mag_max)
};

struct PointSourceSelection {
  std::vector<unsigned char> in_box, on_line, star;  // per source
  bool line_fitted = false;  // false: no box stars, the stripe is off
  double intercept = 0, slope = 1, cap = 0;
  long box_stars = 0, stars = 0;
};

// mag: MAG_AUTO; rh: half-light radius [arcsec]; mu_max: MU_MAX [mag arcsec^-2]; all n.
PointSourceSelection select_point_sources(const std::vector<double>& mag, const std::vector<double>& rh,
                                          const std::vector<double>& mu_max, const PointSourceOptions& opt);

// Both planes with the selection regions drawn (SVG or PNG by extension).
void plot_point_sources(const std::vector<double>& mag, const std::vector<double>& rh,
                        const std::vector<double>& mu_max, const PointSourceSelection& sel,
                        const PointSourceOptions& opt, const std::string& path, const std::string& title);

struct CutOptions {
  long stamp = 32;                   // stamp side, px
  long exposure_box = 32;            // side of the exposure box, px
  double exposure_min = 5e4;         // ADU^-2 (paper sec. 2.1.3)
  std::uint32_t sextractor_flags = 0xF8;  // truncated (8) and corrupted photometry or overflow (16-128)
};

// The 0-based corner of the stamp around (x, y) (0-based pixel centres): the
// stamp's centre ((N-1)/2, (N-1)/2) falls within half a pixel of the source.
inline long stamp_corner(double c, long n) { return long(std::lround(c - 0.5 * double(n - 1))); }

// Cut bits of each source (x, y 0-based px; flags from SExtractor, may be
// empty; star from the point-source selection, may be empty); exposure gets
// each source's mean inverse variance in the box.
std::vector<std::uint32_t> source_cuts(const LoadedField& field, const std::vector<double>& x,
                                       const std::vector<double>& y, const std::vector<double>& flags,
                                       const std::vector<unsigned char>& star, const CutOptions& opt,
                                       std::vector<double>* exposure = nullptr);

}  // namespace ds::lens
