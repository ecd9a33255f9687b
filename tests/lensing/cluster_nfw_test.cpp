// NFW lensing and tangential-shear profiles against numerical integrals and injected models.
#include <doctest/doctest.h>

#include <cmath>

#include "deepshear/engine/error.hpp"
#include "deepshear/engine/random.hpp"
#include "deepshear/lensing/cluster/mock_field.hpp"
#include "deepshear/lensing/cluster/nfw.hpp"
#include "deepshear/lensing/cluster/tangential_profile.hpp"

using namespace ds::lens;

namespace {
// Simpson's rule of f on [a, b] with n (even) intervals.
template <class F>
double simpson(F f, double a, double b, int n) {
  const double h = (b - a) / n;
  double s = f(a) + f(b);
  for (int i = 1; i < n; ++i) s += (i % 2 ? 4 : 2) * f(a + i * h);
  return s * h / 3;
}
}  // namespace

TEST_CASE("cluster NFW: distances and densities against closed forms") {
  // Einstein-de Sitter: chi = (2 c / H0)(1 - 1 / sqrt(1 + z)).
  Cosmology eds{70, 1.0};
  CHECK(eds.comoving_distance(1.5) == doctest::Approx(2 * 299792.458 / 70 * (1 - 1 / std::sqrt(2.5))).epsilon(1e-9));
  Cosmology lcdm;
  // rho_crit,0 = 2.775e11 h^2 Msun / Mpc^3.
  CHECK(lcdm.rho_crit(0) == doctest::Approx(2.7754e11 * 0.49).epsilon(1e-3));
  CHECK(lcdm.angular_diameter_distance(0.3, 1.0) < lcdm.angular_diameter_distance(1.0));
  CHECK_THROWS_AS(lcdm.sigma_crit(1.0, 0.5), ds::Error);
  CHECK(duffy08_concentration(2e12 / 0.7, 0.0, 0.7) == doctest::Approx(5.71));
  // A lens given by its Sigma_crit gives the shear of the same lens given by z_source.
  NfwLens by_z = NfwLens::with_source_redshift(0.4, 1.0, 5.0);
  NfwLens given;
  given.z_lens = 0.4;
  given.concentration = 5.0;
  given.sigma_crit = lcdm.sigma_crit(0.4, 1.0);
  CHECK(given.reduced_shear(1e15, 60) == doctest::Approx(by_z.reduced_shear(1e15, 60)).epsilon(1e-12));
  // g_t grows with mass and falls with radius.
  CHECK(given.reduced_shear(2e15, 60) > given.reduced_shear(1e15, 60));
  CHECK(given.reduced_shear(1e15, 120) < given.reduced_shear(1e15, 60));
}

TEST_CASE("cluster NFW: M200, Sigma and mean Sigma agree with integrals of the 3-D density") {
  NfwHalo h = NfwHalo::make(7e14, 0.35, 4.0);
  // Mass inside r200 (substituting r = rs t^2 to tame the 1/r cusp).
  const double m = simpson([&](double t) { const double r = h.rs * t * t; return 4 * M_PI * r * r * h.density(r) * 2 * h.rs * t; },
                           1e-12, std::sqrt(h.r200 / h.rs), 4000);
  CHECK(m == doctest::Approx(7e14).epsilon(1e-6));
  for (double x : {0.2, 0.7, 0.99995, 1.0, 1.3, 4.0}) {
    const double R = x * h.rs;
    // Sigma(R) = 2 int_0^inf rho(sqrt(R^2 + z^2)) dz, with z = R sinh(u).
    const double sig = 2 * simpson([&](double u) { return h.density(R * std::cosh(u)) * R * std::cosh(u); }, 0, 12, 20000);
    CHECK(h.sigma(R) == doctest::Approx(sig).epsilon(1e-6));
    // Mean inside R: (2 / R^2) int_0^R Sigma(R') R' dR'.
    const double mean = 2 / (R * R) * simpson([&](double t) { const double r = R * t * t; return h.sigma(r) * r * 2 * R * t; }, 1e-12, 1, 2000);
    CHECK(h.mean_sigma(R) == doctest::Approx(mean).epsilon(1e-5));
  }
}

TEST_CASE("cluster NFW: kappa, gamma_t, g_t and mu at a radius against closed forms and a line-of-sight integral") {
  Cosmology paper{70, 0.27};
  NfwLens lens = NfwLens::with_source_redshift(0.35, 1.0, 4.0, paper);
  const double m200 = 1e15;
  NfwHalo h = NfwHalo::make(m200, 0.35, 4.0, paper);
  const double arcsec = M_PI / (180.0 * 3600.0), dl = paper.angular_diameter_distance(0.35);
  // At x = R / r_s = 1 (Wright & Brainerd 2000): Sigma = (2/3) r_s rho_s, mean Sigma = 4 r_s rho_s (1 - ln 2).
  const double theta_s = h.rs / dl / arcsec;
  NfwLensing at1 = lens.lensing(m200, theta_s);
  const double sc = lens.sigma_crit;
  CHECK(at1.kappa == doctest::Approx(2.0 / 3.0 * h.rs * h.rho_s / sc).epsilon(1e-6));
  CHECK(at1.gamma_t == doctest::Approx((4 * h.rs * h.rho_s * (1 - std::log(2.0)) - 2.0 / 3.0 * h.rs * h.rho_s) / sc).epsilon(1e-6));
  for (double theta : {5.0, 20.0, theta_s, 60.0, 150.0, 400.0}) {
    NfwLensing l = lens.lensing(m200, theta);
    // kappa = (2 / Sigma_crit) int_0^inf rho(sqrt(R^2 + z^2)) dz, with z = R sinh(u).
    const double R = theta * arcsec * dl;
    const double sig = 2 * simpson([&](double u) { return h.density(R * std::cosh(u)) * R * std::cosh(u); }, 0, 12, 20000);
    CHECK(l.kappa == doctest::Approx(sig / sc).epsilon(1e-6));
    // The definitions of g_t and mu, and the existing reduced-shear entry point.
    CHECK(l.g_t == doctest::Approx(l.gamma_t / (1 - l.kappa)).epsilon(1e-12));
    CHECK(l.mu == doctest::Approx(1 / ((1 - l.kappa) * (1 - l.kappa) - l.gamma_t * l.gamma_t)).epsilon(1e-12));
    CHECK(l.g_t == doctest::Approx(lens.reduced_shear(m200, theta)).epsilon(1e-12));
    // Weak lensing outside the core: all positive, mu > 1 (kappa > 0 focuses).
    if (theta >= 60) CHECK((l.kappa > 0 && l.gamma_t > 0 && l.mu > 1 && l.g_t < 0.3));
  }
  CHECK_THROWS_AS(lens.lensing(m200, 0), ds::Error);
}

TEST_CASE("cluster NFW: M200 fitted to a model profile with noise is recovered within its error") {
  NfwLens lens = NfwLens::with_source_redshift(0.35, 1.2);
  const double m_true = 6e14;
  std::vector<double> theta, gt, err;
  for (int i = 0; i < 10; ++i) {
    theta.push_back(30 * std::pow(10.0, i / 9.0));  // 30" .. 300"
    err.push_back(0.01);
  }
  // Without noise: exact.
  for (double t : theta) gt.push_back(lens.reduced_shear(m_true, t));
  NfwFit exact = fit_nfw_m200(lens, theta, gt, err);
  CHECK(exact.m200 == doctest::Approx(m_true).epsilon(1e-5));
  CHECK(exact.chi2 < 1e-8);
  CHECK(exact.m200_lo < m_true);
  CHECK(exact.m200_hi > m_true);
  int within = 0;
  for (int t = 0; t < 20; ++t) {
    ds::RandomStream r(5, "test.nfw", std::uint64_t(t));
    std::vector<double> noisy;
    for (std::size_t i = 0; i < theta.size(); ++i) noisy.push_back(gt[i] + r.normal(0, 0.01));
    NfwFit f = fit_nfw_m200(lens, theta, noisy, err);
    CHECK(f.bounded);
    CHECK(std::abs(f.m200 - m_true) < 3.5 * f.m200_err);
    within += (f.m200_lo <= m_true && m_true <= f.m200_hi) ? 1 : 0;
  }
  // The chi^2 + 1 interval covers the truth ~68% of the time: 14 +- 2 of 20.
  CHECK(within >= 9);
  CHECK(within <= 19);
}

TEST_CASE("cluster tangential profile: a pure tangential mock gives g_t back and g_x consistent with zero") {
  // Sign: a source on the +x axis with g1 = -0.1 is stretched along y, i.e. tangentially.
  auto one = tangential_profile({10}, {0}, {-0.1}, {0}, 0, 0, {5, 15});
  CHECK(one.gt[0] == doctest::Approx(0.1));
  CHECK(one.gx[0] == doctest::Approx(0).scale(1));
  auto gt_of_r = [](double r) { return 0.1 * 60 / (r + 20); };
  MockField m = mock_field(20000, 400, 400, tangential_shear_field(200, 200, gt_of_r), {{"a", 0.2}}, 13);
  std::vector<double> edges{10, 30, 60, 100, 150, 200};
  auto p = tangential_profile(m.sources.x, m.sources.y, m.sources.g1[0], m.sources.g2[0], 200, 200, edges);
  double chi2_x = 0;
  for (std::size_t b = 0; b + 1 < edges.size(); ++b) {
    // The truth: the mean of g_t(r) over the sources in the bin.
    double s = 0;
    long n = 0;
    for (long j = 0; j < m.sources.size(); ++j) {
      const double r = std::hypot(m.sources.x[std::size_t(j)] - 200, m.sources.y[std::size_t(j)] - 200);
      if (r >= edges[b] && r < edges[b + 1]) s += gt_of_r(r), ++n;
    }
    CHECK(p.n[b] == n);
    CHECK(std::abs(p.gt[b] - s / double(n)) < 4 * p.gt_err[b]);
    CHECK(p.gt_err[b] == doctest::Approx(0.2 / std::sqrt(double(n))).epsilon(0.03));  // pooled
    chi2_x += std::pow(p.gx[b] / p.gx_err[b], 2);
  }
  CHECK(chi2_x < 5 + 4 * std::sqrt(10.0));  // chi^2 with 5 dof
  CHECK_THROWS_AS(tangential_profile({1}, {1}, {0}, {0}, 0, 0, {5, 3}), ds::Error);
}

TEST_CASE("cluster tangential profile: pooled errors recover the shape noise in bins of a few sources; per-bin errors are each bin's scatter") {
  auto gt_of_r = [](double r) { return 0.1 * 60 / (r + 20); };
  // 150 sources in 6 bins growing outward: the inner ones hold a handful.
  MockField m = mock_field(150, 400, 400, tangential_shear_field(200, 200, gt_of_r), {{"a", 0.25}}, 5);
  std::vector<double> edges{5, 15, 30, 60, 100, 150, 200};
  auto pooled = tangential_profile(m.sources.x, m.sources.y, m.sources.g1[0], m.sources.g2[0], 200, 200, edges);
  auto own = tangential_profile(m.sources.x, m.sources.y, m.sources.g1[0], m.sources.g2[0], 200, 200, edges, -1);
  CHECK(pooled.sigma_t == doctest::Approx(0.25).epsilon(0.2));
  CHECK(pooled.sigma_x == doctest::Approx(0.25).epsilon(0.2));
  CHECK(std::isnan(own.sigma_t));
  CHECK(pooled.n[0] <= 5);
  for (std::size_t b = 0; b + 1 < edges.size(); ++b) {
    const double n = double(pooled.n[b]);
    if (n == 0) continue;
    CHECK(pooled.gt_err[b] == doctest::Approx(pooled.sigma_t / std::sqrt(n)));
    CHECK(pooled.gt[b] == own.gt[b]);
    if (n < 2) continue;
    // The bin's own sample standard deviation of g_t, from its sources.
    std::vector<double> t;
    for (long j = 0; j < m.sources.size(); ++j) {
      const double dx = m.sources.x[std::size_t(j)] - 200, dy = m.sources.y[std::size_t(j)] - 200, r = std::hypot(dx, dy);
      if (r < edges[b] || r >= edges[b + 1]) continue;
      const double c2 = (dx * dx - dy * dy) / (r * r), s2 = 2 * dx * dy / (r * r);
      t.push_back(-(m.sources.g1[0][std::size_t(j)] * c2 + m.sources.g2[0][std::size_t(j)] * s2));
    }
    double mean = 0, var = 0;
    for (double v : t) mean += v / n;
    for (double v : t) var += (v - mean) * (v - mean) / (n - 1);
    CHECK(own.gt_err[b] == doctest::Approx(std::sqrt(var / n)).epsilon(1e-9));
  }
  // Given a per-source error, every bin uses it.
  auto given = tangential_profile(m.sources.x, m.sources.y, m.sources.g1[0], m.sources.g2[0], 200, 200, edges, 0.3);
  CHECK(given.gt_err[2] == doctest::Approx(0.3 / std::sqrt(double(given.n[2]))));
}
