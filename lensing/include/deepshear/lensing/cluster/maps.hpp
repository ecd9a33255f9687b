// Gridded shear maps of a cluster field: the smoothed field of each estimator, its
// bootstrap standard deviation, the effective source count and the low-count mask, on
// one grid (what Figures 13 and 17 of Springer et al. 2018 show).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "deepshear/engine/image.hpp"
#include "deepshear/lensing/cluster/field.hpp"

namespace ds::lens {

struct ShearMaps {
  Grid grid;
  SmoothingOptions options;
  int nboot = 0;                                  // bootstrap resamplings behind the sigma maps
  std::vector<std::string> names;                 // k estimators
  std::vector<Image<double>> g1, g2;              // k maps, ny x nx; NaN where masked
  std::vector<Image<double>> sigma1, sigma2;      // k maps: bootstrap standard deviation; NaN where masked
  std::vector<Image<double>> corr1, corr2;        // k x k maps flattened [e1 * k + e2]: bootstrap correlation
  Image<double> neff;                             // effective sources per grid point
  Image<double> mask;                             // 1 where valid (neff >= min_neff), else 0
};

// Maps on the grid covering the sources grown by `padding` arcsec, with points `step`
// arcsec apart; nboot bootstrap resamplings (seed as in bootstrap_field).
ShearMaps shear_maps(const SourceCatalogue& sources, double step, double padding,
                     const SmoothingOptions& options = {}, int nboot = 100, std::uint64_t seed = 1);

}  // namespace ds::lens
