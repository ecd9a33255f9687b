// Kaiser-Squires inversion against the analytic shear of a Gaussian convergence blob.
#include <doctest/doctest.h>

#include <cmath>

#include "deepshear/engine/error.hpp"
#include "deepshear/lensing/cluster/kaiser_squires.hpp"
#include "deepshear/lensing/cluster/mock_field.hpp"

using namespace ds::lens;

TEST_CASE("cluster Kaiser-Squires: a Gaussian convergence blob is recovered from its analytic shear") {
  // kappa = k0 exp(-r^2 / 2 s^2); its mean inside r is k0 (2 s^2 / r^2)(1 - exp(-r^2 / 2 s^2)),
  // gamma_t = mean - kappa, and gamma = -gamma_t exp(2 i phi).
  const long n = 256;
  const double k0 = 0.2, s = 8, c0 = 127.5;
  ds::Image<double> g1(n, n), g2(n, n), kappa(n, n);
  for (long y = 0; y < n; ++y)
    for (long x = 0; x < n; ++x) {
      const double dx = double(x) - c0, dy = double(y) - c0, r2 = dx * dx + dy * dy;
      const double k = k0 * std::exp(-r2 / (2 * s * s));
      const double mean = k0 * 2 * s * s / r2 * (1 - std::exp(-r2 / (2 * s * s)));
      const double gt = mean - k;
      kappa(y, x) = k;
      g1(y, x) = -gt * (dx * dx - dy * dy) / r2;
      g2(y, x) = -gt * 2 * dx * dy / r2;
    }
  ConvergenceMap m = kaiser_squires(g1.view(), g2.view(), 2.0);
  double worst = 0, worst_b = 0;
  for (long y = 64; y < 192; ++y)
    for (long x = 64; x < 192; ++x) {
      worst = std::max(worst, std::abs(m.kappa_e(y, x) - kappa(y, x)));
      worst_b = std::max(worst_b, std::abs(m.kappa_b(y, x)));
    }
  // Away from the edges (the central half of the grid) the convergence is recovered to
  // 1% of its peak (measured: 0.7%); the lost shear beyond the grid (|gamma| ~ 0.2 * 128 / 128^2 there)
  // shifts it by about a mass sheet of that size.
  CHECK(worst < 0.01 * k0);
  CHECK(worst_b < 0.01 * k0);
  CHECK(m.kappa_e(128, 128) > 0.9 * k0);
  CHECK_THROWS_AS(kaiser_squires(g1.view(), ds::Image<double>(4, 4).view()), ds::Error);
}

TEST_CASE("cluster Kaiser-Squires: the convergence of a smoothed NFW-like mock map peaks at the cluster") {
  auto m = mock_field(2000, 240, 240, tangential_shear_field(150, 90, [](double r) { return 0.2 * 30 / (r + 15); }),
                      {{"cnn", 0.22}}, 3);
  ShearMaps maps = shear_maps(m.sources, 4, 0, {}, 5, 1);
  ConvergenceMap k = convergence_map(maps, 0, 2.0);
  long by = 0, bx = 0;
  for (long y = 0; y < k.kappa_e.ny(); ++y)
    for (long x = 0; x < k.kappa_e.nx(); ++x)
      if (k.kappa_e(y, x) > k.kappa_e(by, bx)) by = y, bx = x;
  // The peak lies within ~lambda of the centre (150, 90).
  CHECK(std::hypot(maps.grid.x0 + double(bx) * 4 - 150, maps.grid.y0 + double(by) * 4 - 90) < 20);
  CHECK_THROWS_AS(convergence_map(maps, 1), ds::Error);
}
