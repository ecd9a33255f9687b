// Mock source catalogues with a known shear field, for tests and benchmarks of the
// cluster statistics: n sources uniform in [0, width] x [0, height] arcsec, each
// estimator reporting c + (1 + m) g_true + N(0, sigma^2) per component.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "deepshear/lensing/cluster/field.hpp"
#include "deepshear/lensing/shear.hpp"

namespace ds::lens {

struct MockEstimator {
  std::string name;
  double sigma = 0.25;                   // per-component noise
  double c1 = 0, m1 = 0, c2 = 0, m2 = 0;  // injected bias
};

struct MockField {
  SourceCatalogue sources;
  std::vector<double> g1_true, g2_true;  // n, the true shear at each source
};

// shear(x, y): the true reduced shear at (x, y) arcsec. Draws from
// RandomStream(seed, "mock.field", field) (positions) and
// RandomStream(seed, "mock.noise." + name, field) (each estimator's noise).
MockField mock_field(long n, double width, double height, const std::function<Complex(double, double)>& shear,
                     const std::vector<MockEstimator>& estimators, std::uint64_t seed, std::uint64_t field = 0);

// A tangential shear pattern around (xc, yc): g = -g_t(r) exp(2 i phi).
std::function<Complex(double, double)> tangential_shear_field(double xc, double yc,
                                                              std::function<double(double)> gt_of_r);

}  // namespace ds::lens
