// The evaluation statistics against injected biases and scatter.
#include <doctest/doctest.h>

#include <cmath>

#include "deepshear/engine/random.hpp"
#include "deepshear/lensing/training/evaluation.hpp"

using namespace ds::lens;

namespace {

// n stamps with uniform true shears; estimates g = c + (1 + m) g_true + N(0, s),
// with m depending on magnitude (m0 + slope * (mag - 22)); every 50th flagged.
void synthetic(long n, double c, double m0, double slope, double s, std::vector<StampTruth>& t,
               std::vector<ShearEstimate>& e) {
  ds::RandomStream r(3, "test.eval");
  for (long i = 0; i < n; ++i) {
    StampTruth x;
    x.g1 = r.uniform(-0.2, 0.2), x.g2 = r.uniform(-0.2, 0.2), x.magnitude = r.uniform(20, 24);
    double m = m0 + slope * (x.magnitude - 22);
    ShearEstimate g;
    g.g1 = c + (1 + m) * x.g1 + s * r.normal();
    g.g2 = -c + (1 + m) * x.g2 + s * r.normal();
    if (i % 50 == 0) g.flags = kFlagBlank, g.g1 = g.g2 = 0;
    t.push_back(x), e.push_back(g);
  }
}

}  // namespace

TEST_CASE("Table 4 statistics: c, m and the calibrated RMS of an injected bias") {
  std::vector<StampTruth> t;
  std::vector<ShearEstimate> e;
  synthetic(20000, 0.004, 0.12, 0.0, 0.25, t, e);
  auto r = bias_report(t, e, nullptr, 50, 1);
  CHECK(r.flagged == 400);
  CHECK(r.used == 19600);
  CHECK(std::abs(r.fit1.m - 0.12) < 4 * r.fit1.m_err);
  CHECK(std::abs(r.fit1.c - 0.004) < 4 * r.fit1.c_err);
  CHECK(std::abs(r.fit2.c + 0.004) < 4 * r.fit2.c_err);
  // Calibrated scatter: 0.25 / 1.12.
  CHECK(r.rms1 == doctest::Approx(0.25 / 1.12).epsilon(0.02));
  CHECK(r.rms1_err == doctest::Approx(0.25 / 1.12 / std::sqrt(2.0 * 19600)).epsilon(0.3));
  // With a given calibration of m = 0 the RMS grows: the bias is not removed.
  Calibration none;
  auto raw = bias_report(t, e, &none, 0, 1);
  CHECK(raw.rms1 > r.rms1);
}

TEST_CASE("binned statistics follow a magnitude-dependent bias; per-galaxy calibration removes it") {
  std::vector<StampTruth> t, tc;
  std::vector<ShearEstimate> e, ec;
  synthetic(40000, 0.0, 0.0, -0.2, 0.05, t, e);  // m from +0.4 at mag 20 to -0.4 at 24
  auto q = std::vector<double>();
  for (const auto& x : t) q.push_back(x.magnitude);
  auto edges = quantile_edges(q, 4);
  REQUIRE(edges.size() == 5);
  auto global = bias_report(t, e, nullptr, 0).applied;
  auto bins = binned_stats(q, edges, t, e, Calibration{});
  for (const auto& b : bins) {
    double m_expect = -0.2 * (0.5 * (b.lo + b.hi) - 22);
    CHECK(std::abs(b.m1 - m_expect) < 0.03);
    CHECK(b.n > 9000);
  }
  // Per-galaxy calibration from a binned fit on the same relation.
  std::vector<double> tq, t1, t2, o1, o2;
  for (std::size_t i = 0; i < t.size(); ++i)
    if (!e[i].flags) tq.push_back(q[i]), t1.push_back(t[i].g1), t2.push_back(t[i].g2), o1.push_back(e[i].g1), o2.push_back(e[i].g2);
  auto per = BinnedCalibration::fit("magnitude", tq, t1, t2, o1, o2, 8);
  auto fixed = binned_stats(q, edges, t, e, global, &per, &q);
  auto glob = binned_stats(q, edges, t, e, global);
  // (Its RMS need not be lower: dividing by 1 + m < 1 also scales up the noise.)
  for (const auto& b : fixed) CHECK(std::abs(b.m1) < 0.05);
  CHECK(std::abs(glob.front().m1) > 0.2);  // the global calibration leaves the trend in
  CHECK(bins_to_csv("x", "magnitude", bins).find("x,magnitude,") == 0);
}
