// Smoothed shear fields and their bootstrap covariances against direct sums and
// closed forms.
#include <doctest/doctest.h>

#include <cmath>

#include "deepshear/engine/error.hpp"
#include "deepshear/engine/parallel.hpp"
#include "deepshear/lensing/cluster/field.hpp"
#include "deepshear/lensing/cluster/mock_field.hpp"

using namespace ds::lens;

namespace {
// The weighted mean with an uncut Gaussian, all pairs: the definition, written out.
Complex direct_field(const SourceCatalogue& s, int e, double px, double py, double lambda) {
  double sw = 0, a1 = 0, a2 = 0;
  for (long j = 0; j < s.size(); ++j) {
    const double dx = s.x[std::size_t(j)] - px, dy = s.y[std::size_t(j)] - py;
    const double w = std::exp(-(dx * dx + dy * dy) / (2 * lambda * lambda));
    sw += w;
    a1 += w * s.g1[std::size_t(e)][std::size_t(j)];
    a2 += w * s.g2[std::size_t(e)][std::size_t(j)];
  }
  return {a1 / sw, a2 / sw};
}
auto wave = [](double x, double y) { return Complex(0.08 * std::cos(x / 60.0), 0.05 * std::sin(y / 45.0)); };
}  // namespace

TEST_CASE("cluster field: the smoothed field equals the all-pairs Gaussian weighted mean") {
  auto m = mock_field(400, 240, 200, wave, {{"rrg", 0.25}, {"cnn", 0.2}}, 11);
  SmoothingOptions o;
  o.lambda = 15;
  o.truncation = 12;  // effectively uncut: exact agreement expected
  std::vector<double> px{0, 120, 240, 37.5, -30}, py{0, 100, 200, 180.25, 50};
  SmoothedField f = smooth_field(m.sources, px, py, o);
  for (std::size_t p = 0; p < px.size(); ++p)
    for (int e = 0; e < 2; ++e) {
      Complex d = direct_field(m.sources, e, px[p], py[p], o.lambda);
      CHECK(f.g1[std::size_t(e)][p] == doctest::Approx(d.real()).epsilon(1e-10));
      CHECK(f.g2[std::size_t(e)][p] == doctest::Approx(d.imag()).epsilon(1e-10));
    }
  // The default cut at 4 lambda changes the field by far less than its noise (~0.04).
  o.truncation = 4;
  SmoothedField t = smooth_field(m.sources, px, py, o);
  for (std::size_t p = 0; p < 4; ++p) CHECK(std::abs(t.g1[0][p] - f.g1[0][p]) < 2e-3);
}

TEST_CASE("cluster field: a constant shear field is reproduced exactly with zero bootstrap variance") {
  auto m = mock_field(300, 200, 200, [](double, double) { return Complex(0.03, -0.02); }, {{"a", 0.0}}, 3);
  Grid g = Grid::covering(m.sources.x, m.sources.y, 10, 20);
  SmoothedField f = smooth_field(m.sources, g.xs(), g.ys());
  BootstrapField b = bootstrap_field(m.sources, g.xs(), g.ys(), {}, 20, 5);
  long valid = 0;
  for (long p = 0; p < g.size(); ++p) {
    if (!f.valid[std::size_t(p)]) continue;
    ++valid;
    CHECK(f.g1[0][std::size_t(p)] == doctest::Approx(0.03).epsilon(1e-12));
    CHECK(f.g2[0][std::size_t(p)] == doctest::Approx(-0.02).epsilon(1e-12));
    CHECK(b.variance(p, 0, 0) < 1e-24);
  }
  CHECK(valid > g.size() / 2);
}

TEST_CASE("cluster field: grid covering, effective source counts and the low-count mask") {
  Grid g = Grid::covering({0, 100}, {0, 50}, 10, 5);
  CHECK(g.x0 == -5);
  CHECK(g.nx == 12);  // -5 .. 105
  CHECK(g.ny == 7);   // -5 .. 55
  CHECK(g.image(g.xs())(6, 11) == doctest::Approx(105));
  CHECK(g.image(g.ys())(6, 11) == doctest::Approx(55));
  // 7 sources at one place: neff = 7 anywhere; one far away source alone: neff = 1.
  SourceCatalogue s;
  s.x = {0, 0, 0, 0, 0, 0, 0, 1000};
  s.y = {0, 0, 0, 0, 0, 0, 0, 1000};
  s.add_estimator("a", std::vector<double>(8, 0.1), std::vector<double>(8, 0.0));
  SmoothedField f = smooth_field(s, {5, 1000, 500}, {5, 1000, 500});
  CHECK(f.neff[0] == doctest::Approx(7));
  CHECK(f.valid[0] == 1);
  CHECK(f.neff[1] == doctest::Approx(1));
  CHECK(f.valid[1] == 0);
  CHECK(std::isnan(f.g1[0][2]));  // nothing within the cut
  CHECK(f.weight_sum[2] == 0);
  CHECK_THROWS_AS(smooth_field(s, {0}, {0}, SmoothingOptions{-1}), ds::Error);
  CHECK_THROWS_AS(smooth_field(s, {0, 1}, {0}), ds::Error);
  s.y.pop_back();
  CHECK_THROWS_AS(smooth_field(s, {0}, {0}), ds::Error);
}

TEST_CASE("cluster field: bootstrap variances match the delta-method variance, joint covariances the construction") {
  // Estimator b is a copy of a (correlation 1); c is independent noise (correlation ~0).
  auto m = mock_field(500, 240, 240, [](double, double) { return Complex(0, 0); },
                      {{"a", 0.25}, {"c", 0.25}}, 21);
  m.sources.add_estimator("b", m.sources.g1[0], m.sources.g2[0]);
  SmoothingOptions o;
  std::vector<double> px{60, 120, 180}, py{60, 120, 150};
  BootstrapField b = bootstrap_field(m.sources, px, py, o, 400, 9);
  for (long p = 0; p < 3; ++p) {
    // Linearised variance of a weighted mean: sum_j w_j^2 (g_j - gbar)^2 / (sum w)^2.
    double sw = 0, a = 0, a2 = 0, c2 = 0;
    std::vector<double> w;
    for (long j = 0; j < m.sources.size(); ++j) {
      const double dx = m.sources.x[std::size_t(j)] - px[std::size_t(p)], dy = m.sources.y[std::size_t(j)] - py[std::size_t(p)];
      w.push_back(std::exp(-(dx * dx + dy * dy) / (2 * o.lambda * o.lambda)));
      sw += w.back();
      a += w.back() * m.sources.g1[0][std::size_t(j)];
      a2 += w.back() * m.sources.g2[0][std::size_t(j)];
      c2 += w.back() * m.sources.g2[1][std::size_t(j)];
    }
    const double gbar = a / sw;
    // Also the linearised covariance of the g2 fields of a and c.
    double v = 0, v_ac = 0, v_a2 = 0, v_c2 = 0;
    for (long j = 0; j < m.sources.size(); ++j) {
      const double d = m.sources.g1[0][std::size_t(j)] - gbar, ww = w[std::size_t(j)] * w[std::size_t(j)];
      const double da = m.sources.g2[0][std::size_t(j)] - a2 / sw, dc = m.sources.g2[1][std::size_t(j)] - c2 / sw;
      v += ww * d * d;
      v_ac += ww * da * dc;
      v_a2 += ww * da * da;
      v_c2 += ww * dc * dc;
    }
    v /= sw * sw;
    v_ac /= sw * sw;
    v_a2 /= sw * sw;
    v_c2 /= sw * sw;
    // 400 resamplings: the variance is known to ~7%; the truncation and the
    // resampled normalisation add a few per cent.
    CHECK(b.variance(p, 0, 0) == doctest::Approx(v).epsilon(0.25));
    const double r_ab = b.covariance(p, 0, 0, 2) / std::sqrt(b.variance(p, 0, 0) * b.variance(p, 0, 2));
    // a and c are independent noise, but resampling the same sources correlates their
    // fields by the sample correlation of the local residuals: the linearised value.
    const double r_ac = b.covariance(p, 1, 0, 1) / std::sqrt(b.variance(p, 1, 0) * b.variance(p, 1, 1));
    const double r_lin = v_ac / std::sqrt(v_a2 * v_c2);
    CHECK(r_ab == doctest::Approx(1.0).epsilon(1e-9));
    CHECK(std::abs(r_ac - r_lin) < 0.15);  // 400 resamplings: r known to ~0.05
    CHECK(b.covariance(p, 0, 1, 0) == doctest::Approx(b.covariance(p, 0, 0, 1)));
    CHECK(b.used[std::size_t(p)] == 400);
    // The bootstrap mean sits on the field (to a few sigma / sqrt(400)).
    const SmoothedField f = smooth_field(m.sources, {px[std::size_t(p)]}, {py[std::size_t(p)]}, o);
    CHECK(std::abs(b.mean[std::size_t((p * 2 + 0) * 3 + 0)] - f.g1[0][0]) < 4 * std::sqrt(v / 400) + 1e-3);
  }
}

TEST_CASE("cluster field: bootstrap results are identical on 1 and 2 threads") {
  auto m = mock_field(300, 200, 200, wave, {{"rrg", 0.25}, {"cnn", 0.2}}, 5);
  Grid g = Grid::covering(m.sources.x, m.sources.y, 20, 0);
  const int old = ds::threads();
  ds::set_threads(1);
  BootstrapField one = bootstrap_field(m.sources, g.xs(), g.ys(), {}, 30, 17);
  ds::set_threads(2);
  BootstrapField two = bootstrap_field(m.sources, g.xs(), g.ys(), {}, 30, 17);
  ds::set_threads(old);
  REQUIRE(one.cov.size() == two.cov.size());
  bool same = true;
  for (std::size_t i = 0; i < one.cov.size(); ++i)
    same = same && (one.cov[i] == two.cov[i] || (std::isnan(one.cov[i]) && std::isnan(two.cov[i])));
  CHECK(same);
  // A different seed gives different resamplings.
  BootstrapField other = bootstrap_field(m.sources, g.xs(), g.ys(), {}, 30, 18);
  CHECK(other.cov[100] != one.cov[100]);
}
