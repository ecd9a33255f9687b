// Errors-in-variables relative calibration against injected lines.
#include <doctest/doctest.h>

#include <cmath>

#include "deepshear/engine/error.hpp"
#include "deepshear/engine/random.hpp"
#include "deepshear/lensing/calibration.hpp"
#include "deepshear/lensing/cluster/mock_field.hpp"
#include "deepshear/lensing/cluster/relative_calibration.hpp"

using namespace ds::lens;

namespace {
// n points on y = c + (1 + m) x_true, x_true ~ U(-0.1, 0.1), observed with correlated
// Gaussian noise of a different known covariance at each point.
PairedSamples synthetic(long n, double c, double m, std::uint64_t item) {
  ds::RandomStream r(42, "test.eiv", item);
  PairedSamples d;
  for (long i = 0; i < n; ++i) {
    const double xt = r.uniform(-0.1, 0.1), sx = r.uniform(0.01, 0.04), sy = r.uniform(0.01, 0.04),
                 rho = r.uniform(-0.5, 0.8);
    const double z1 = r.normal(), z2 = r.normal();
    const double ex = sx * z1, ey = sy * (rho * z1 + std::sqrt(1 - rho * rho) * z2);
    d.x.push_back(xt + ex);
    d.y.push_back(c + (1 + m) * xt + ey);
    d.vxx.push_back(sx * sx);
    d.vyy.push_back(sy * sy);
    d.vxy.push_back(rho * sx * sy);
  }
  return d;
}
}  // namespace

TEST_CASE("cluster calibration: the errors-in-variables fit recovers an injected line; least squares does not") {
  const double c = 0.004, m = 0.06;
  PairedSamples d = synthetic(600, c, m, 0);
  LineFit f = fit_line_eiv(d);
  CHECK(std::abs(f.c - c) < 3 * f.c_err);
  CHECK(std::abs(f.m - m) < 3 * f.m_err);
  CHECK(f.m_err < 0.05);
  CHECK(f.chi2 / double(f.n - 2) == doctest::Approx(1.0).epsilon(0.15));
  // Ordinary least squares of y on x is attenuated by the noise in x:
  // slope ~ (1 + m) var(x_true) / (var(x_true) + <vxx>) = 1.06 * 0.00333 / 0.00405 ~ 0.87.
  BiasFit ols = fit_bias(d.x, d.y);
  CHECK(ols.m < m - 5 * f.m_err);
  CHECK(ols.m < m - 5 * ols.m_err);
}

TEST_CASE("cluster calibration: errors from the likelihood curvature match the scatter over trials") {
  const double c = -0.003, m = 0.1;
  const int trials = 40;
  double sum_pm = 0, sum_pm2 = 0, sum_pc = 0, sum_pc2 = 0;
  for (int t = 0; t < trials; ++t) {
    LineFit f = fit_line_eiv(synthetic(200, c, m, 100 + std::uint64_t(t)));
    const double pm = (f.m - m) / f.m_err, pc = (f.c - c) / f.c_err;
    sum_pm += pm, sum_pm2 += pm * pm, sum_pc += pc, sum_pc2 += pc * pc;
  }
  // Mean pull ~ 0 +- 0.16, pull RMS ~ 1 +- 0.11 for 40 trials.
  CHECK(std::abs(sum_pm / trials) < 0.5);
  CHECK(std::abs(sum_pc / trials) < 0.5);
  CHECK(std::sqrt(sum_pm2 / trials) == doctest::Approx(1.0).epsilon(0.35));
  CHECK(std::sqrt(sum_pc2 / trials) == doctest::Approx(1.0).epsilon(0.35));
}

TEST_CASE("cluster calibration: a bias injected into one estimator of mock fields is recovered from the maps") {
  // 12 fields of 500 sources with a smooth shear; "cnn" = 0.02 + 1.4 g + noise on g1,
  // -0.01 + 0.7 g on g2; "rrg" unbiased. The fields are linear in the source shears,
  // so the sampled CNN field lies on the same line against the RRG field.
  auto shear = [](double x, double y) {
    return Complex(0.12 * std::cos(x / 50.0) * std::cos(y / 70.0), 0.12 * std::sin(y / 45.0 + x / 90.0));
  };
  std::vector<SourceCatalogue> fields;
  for (int f = 0; f < 12; ++f)
    fields.push_back(mock_field(500, 240, 240, shear, {{"rrg", 0.28}, {"cnn", 0.22, 0.02, 0.4, -0.01, -0.3}}, 8,
                                std::uint64_t(f))
                         .sources);
  auto samples = sample_field_pairs(fields[0], "rrg", "cnn", {}, 50, 0.1, 3, 0);
  CHECK(samples[0].size() == 50);  // 1/10 of the source density
  auto fit = relative_calibration(fields, "rrg", "cnn", {}, 50, 0.1, 3);
  CHECK(fit[0].n == 600);
  CHECK(fit[0].blocks == 108);
  // Block-bootstrap errors (on 12 mock seeds their pulls had RMS 1.0-1.2); the curvature
  // errors ignore the correlation of nearby samples and come out smaller.
  CHECK(fit[0].m_err_blocks > fit[0].m_err);
  CHECK(std::abs(fit[0].m - 0.4) < 3 * fit[0].m_err_blocks);
  CHECK(std::abs(fit[0].c - 0.02) < 3 * fit[0].c_err_blocks);
  CHECK(std::abs(fit[1].m + 0.3) < 3 * fit[1].m_err_blocks);
  CHECK(std::abs(fit[1].c + 0.01) < 3 * fit[1].c_err_blocks);
  CHECK(fit[0].m_err_blocks < 0.15);  // so the injected 0.4 is detected
  CHECK(fit[1].m_err_blocks < 0.1);
  CHECK_THROWS_AS(fit_line_eiv(PairedSamples{}), ds::Error);
  CHECK_THROWS_AS(sample_field_pairs(fields[0], "rrg", "ksb"), ds::Error);
  // Undoing the fitted calibration: (g - c) / (1 + m), source by source.
  SourceCatalogue cal = fields[0];
  apply_relative_calibration(cal, "cnn", fit);
  CHECK(cal.g1[1][7] == doctest::Approx((fields[0].g1[1][7] - fit[0].c) / (1 + fit[0].m)));
  CHECK(cal.g2[1][7] == doctest::Approx((fields[0].g2[1][7] - fit[1].c) / (1 + fit[1].m)));
  CHECK(cal.g1[0][7] == fields[0].g1[0][7]);  // the reference is untouched
}

TEST_SUITE("slow") {
  TEST_CASE("cluster calibration: block-bootstrap errors of the map-based fit are calibrated over mock ensembles") {
    auto shear = [](double x, double y) {
      return Complex(0.12 * std::cos(x / 50.0) * std::cos(y / 70.0), 0.12 * std::sin(y / 45.0 + x / 90.0));
    };
    const int trials = 10;
    double s1 = 0, s1sq = 0, s2 = 0, s2sq = 0;
    for (int t = 0; t < trials; ++t) {
      std::vector<SourceCatalogue> fields;
      for (int f = 0; f < 12; ++f)
        fields.push_back(mock_field(500, 240, 240, shear, {{"rrg", 0.28}, {"cnn", 0.22, 0.01, 0.15, -0.005, -0.1}},
                                    100 + std::uint64_t(t), std::uint64_t(f))
                             .sources);
      auto fit = relative_calibration(fields, "rrg", "cnn", {}, 50, 0.1, 200 + std::uint64_t(t));
      const double p1 = (fit[0].m - 0.15) / fit[0].m_err_blocks, p2 = (fit[1].m + 0.1) / fit[1].m_err_blocks;
      s1 += p1, s1sq += p1 * p1, s2 += p2, s2sq += p2 * p2;
    }
    // 10 trials: mean pull 0 +- 0.32, RMS 1 +- 0.22 if the errors are right.
    CHECK(std::abs(s1 / trials) < 1.0);
    CHECK(std::abs(s2 / trials) < 1.0);
    CHECK(std::sqrt(s1sq / trials) == doctest::Approx(1.0).epsilon(0.6));
    CHECK(std::sqrt(s2sq / trials) == doctest::Approx(1.0).epsilon(0.6));
  }
}
