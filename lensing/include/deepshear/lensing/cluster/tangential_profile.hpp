// Tangential and cross shear around a centre in radial bins. With phi the position angle
// of a source about the centre (from the x axis towards y),
//   g_t = -Re[g exp(-2 i phi)],  g_x = -Im[g exp(-2 i phi)],
// so a tangentially stretched image (around a mass) has g_t > 0.
#pragma once
#include <vector>

namespace ds::lens {

struct TangentialProfile {
  std::vector<double> r_lo, r_hi;   // bin edges, arcsec
  std::vector<double> r_mean;       // mean source radius per bin (NaN if empty)
  std::vector<double> gt, gt_err;   // mean g_t and its standard error
  std::vector<double> gx, gx_err;   // mean g_x and its standard error
  std::vector<long> n;              // sources per bin
  double sigma_t = 0, sigma_x = 0;  // the per-source errors used (NaN when per bin)
};

// x, y (arcsec), g1, g2: n sources; (xc, yc) the centre; edges: nbins + 1 increasing radii.
// Errors of a bin with n sources:
//   sigma > 0: sigma / sqrt(n), sigma the per-source shear error;
//   sigma = 0 (default): sigma_t / sqrt(n), sigma_t the pooled standard deviation of g_t
//     about the bin means over all bins (likewise g_x). A bin's own scatter is too noisy
//     to weight a fit by when it holds a handful of sources (inner bins): a bin whose few
//     sources happen to agree would get a tiny error and pull the fit;
//   sigma < 0: each bin's own sample standard deviation (fewer than 2 sources: NaN).
TangentialProfile tangential_profile(const std::vector<double>& x, const std::vector<double>& y,
                                     const std::vector<double>& g1, const std::vector<double>& g2, double xc,
                                     double yc, const std::vector<double>& edges, double sigma = 0);

// nbins + 1 logarithmically spaced radii from r_min to the largest distance of a source
// (x, y, arcsec) from (xc, yc): r_min (r_max / r_min)^(b / nbins), b = 0..nbins.
std::vector<double> log_radius_edges(const std::vector<double>& x, const std::vector<double>& y, double xc,
                                     double yc, int nbins = 8, double r_min = 10.0);

}  // namespace ds::lens
