// Mock source catalogues (see mock_field.hpp).
#include "deepshear/lensing/cluster/mock_field.hpp"

#include <cmath>

#include "deepshear/engine/error.hpp"
#include "deepshear/engine/random.hpp"

namespace ds::lens {

MockField mock_field(long n, double width, double height, const std::function<Complex(double, double)>& shear,
                     const std::vector<MockEstimator>& estimators, std::uint64_t seed, std::uint64_t field) {
  require(n > 0, "mock field: source count " + std::to_string(n) + " must be positive");
  require(width > 0 && height > 0, "mock field: size " + std::to_string(width) + " x " + std::to_string(height) +
                                       " arcsec must be positive");
  MockField m;
  RandomStream pos(seed, "mock.field", field);
  for (long i = 0; i < n; ++i) {
    m.sources.x.push_back(pos.uniform(0, width));
    m.sources.y.push_back(pos.uniform(0, height));
    const Complex g = shear(m.sources.x.back(), m.sources.y.back());
    m.g1_true.push_back(g.real());
    m.g2_true.push_back(g.imag());
  }
  for (const auto& e : estimators) {
    RandomStream r(seed, "mock.noise." + e.name, field);
    std::vector<double> g1(static_cast<std::size_t>(n)), g2(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < std::size_t(n); ++i) {
      g1[i] = e.c1 + (1 + e.m1) * m.g1_true[i] + r.normal(0, e.sigma);
      g2[i] = e.c2 + (1 + e.m2) * m.g2_true[i] + r.normal(0, e.sigma);
    }
    m.sources.add_estimator(e.name, std::move(g1), std::move(g2));
  }
  return m;
}

std::function<Complex(double, double)> tangential_shear_field(double xc, double yc,
                                                              std::function<double(double)> gt_of_r) {
  return [xc, yc, gt_of_r](double x, double y) {
    const double dx = x - xc, dy = y - yc, r = std::hypot(dx, dy);
    if (r == 0) return Complex(0, 0);
    return -gt_of_r(r) * std::polar(1.0, 2 * std::atan2(dy, dx));
  };
}

}  // namespace ds::lens
