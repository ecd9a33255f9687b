// Shear algebra against closed forms.
#include <doctest/doctest.h>

#include <Eigen/Dense>
#include <cmath>
#include <fstream>

#include "deepshear/engine/error.hpp"
#include "deepshear/lensing/calibration.hpp"
#include "deepshear/engine/random.hpp"
#include "deepshear/lensing/shear.hpp"
#include "test_support.hpp"

using namespace ds::lens;

TEST_CASE("distortion and reduced shear convert by e = 2g / (1 + |g|^2) and back") {
  for (Complex g : {Complex(0.1, 0), Complex(-0.3, 0.2), Complex(0.05, -0.6)}) {
    Complex e = distortion_from_shear(g);
    CHECK(std::abs(e - 2.0 * g / (1.0 + std::norm(g))) < 1e-15);
    CHECK(std::abs(shear_from_distortion(e) - g) < 1e-14);
  }
  // An ellipse with axis ratio q along x: g = (1 - q) / (1 + q), e = (1 - q^2) / (1 + q^2).
  double q = 0.6;
  CHECK(distortion_from_shear({(1 - q) / (1 + q), 0}).real() == doctest::Approx((1 - q * q) / (1 + q * q)));
  CHECK_THROWS_AS(distortion_from_shear({0.8, 0.7}), ds::Error);
}

TEST_CASE("the lensing Jacobian stretches x for g1 > 0, the diagonal for g2 > 0, and scales area by mu") {
  auto a = lensing_jacobian({0.2, 0}, 1.0);
  CHECK(a(0, 0) > a(1, 1));
  CHECK(a.determinant() == doctest::Approx(1.0));
  auto b = lensing_jacobian({0, 0.2}, 1.0);
  Eigen::Vector2d diag = b * Eigen::Vector2d(1, 1) / std::sqrt(2.0);
  CHECK(diag.norm() > 1.0);  // x = y direction stretched
  CHECK(lensing_jacobian({0.1, -0.15}, 1.3).determinant() == doctest::Approx(1.3));
  // Axis ratio of the image of a circle: (1 - |g|) / (1 + |g|).
  Eigen::JacobiSVD<Eigen::Matrix2d> svd(lensing_jacobian({0.12, 0.09}, 1.0));
  double g = std::hypot(0.12, 0.09);
  CHECK(svd.singularValues()(1) / svd.singularValues()(0) == doctest::Approx((1 - g) / (1 + g)));
}

TEST_CASE("composing shears follows g = (g_a + g_b) / (1 + conj(g_a) g_b) with a rotation") {
  for (auto [ga, gb] : {std::pair<Complex, Complex>{{0.1, 0.05}, {-0.2, 0.15}}, {{0.3, -0.1}, {0.25, 0.3}},
                        {{0.0, 0.4}, {0.4, 0.0}}}) {
    double theta = 0;
    Complex gc = compose_shears(ga, gb, &theta);
    Complex expect = (ga + gb) / (1.0 + std::conj(ga) * gb);
    CHECK(std::abs(gc - expect) < 1e-12);
    CHECK(theta == doctest::Approx(std::arg(1.0 + gb * std::conj(ga))).epsilon(1e-10));
    // And the matrices agree: A(gb) A(ga) = R(theta) A(gc).
    Eigen::Matrix2d r;
    r << std::cos(theta), -std::sin(theta), std::sin(theta), std::cos(theta);
    CHECK((lensing_jacobian(gb) * lensing_jacobian(ga) - r * lensing_jacobian(gc)).norm() < 1e-12);
  }
  CHECK(std::abs(compose_shears({0.2, 0.1}, {-0.2, -0.1})) < 1e-14);  // a shear undoes itself
}

TEST_CASE("rotating an image by theta turns its shear by 2 theta") {
  Complex g(0.2, 0.0);
  CHECK(std::abs(rotate_shear(g, M_PI / 4) - Complex(0, 0.2)) < 1e-15);  // x-stretch becomes diagonal
  CHECK(std::abs(rotate_shear(g, M_PI / 2) + g) < 1e-15);
}

TEST_CASE("the eight stamp symmetries map shears as DESIGN.md says") {
  Complex g(0.13, -0.07);
  // transpose = flip + quarter turn: (g1, g2) -> (-g1, g2)
  CHECK(apply_dihedral(g, {true, 1}) == Complex(-g.real(), g.imag()));
  CHECK(apply_dihedral(g, {true, 0}) == Complex(g.real(), -g.imag()));  // flip
  CHECK(apply_dihedral(g, {false, 1}) == -g);                            // 90 degrees
  CHECK(apply_dihedral(g, {false, 2}) == g);                             // 180 degrees
  for (int i = 0; i < 8; ++i) {
    auto d = Dihedral::from_index(i);
    CHECK(d.index() == i);
    CHECK(undo_dihedral(apply_dihedral(g, d), d) == g);
    // Consistent with rotating the shear: a quarter turn is rotate_shear by pi/2.
    Complex flipped = d.flip ? std::conj(g) : g;
    CHECK(std::abs(apply_dihedral(g, d) - rotate_shear(flipped, d.quarter_turns * M_PI / 2)) < 1e-15);
  }
}

TEST_CASE("bias fit recovers an injected c and m with honest errors") {
  std::vector<double> t, o;
  for (int i = 0; i < 2001; ++i) {
    double g = -0.2 + 0.4 * i / 2000.0;
    t.push_back(g);
    o.push_back(0.003 + 1.05 * g + 0.01 * std::sin(37.0 * i));  // deterministic scatter
  }
  auto f = fit_bias(t, o);
  CHECK(f.c == doctest::Approx(0.003).epsilon(0.1));
  CHECK(f.m == doctest::Approx(0.05).epsilon(0.02));
  CHECK(std::abs(f.m - 0.05) < 4 * f.m_err + 1e-4);
  CHECK(f.m_err > 0);
  // Residual RMS of the calibrated estimate: the scatter (0.01/sqrt(2)) divided by 1.05.
  CHECK(f.rms == doctest::Approx(0.01 / std::sqrt(2.0) / 1.05).epsilon(0.02));
  CHECK_THROWS_AS(fit_bias({0.1, 0.1, 0.1}, {0.1, 0.2, 0.3}), ds::Error);
}

TEST_CASE("calibrations apply as (g - c) / (1 + m) and compose") {
  Calibration a{0.01, 0.1, -0.02, -0.05}, b{0.003, -0.2, 0.004, 0.3};
  Complex g(0.15, -0.08);
  Complex two = b.apply(a.apply(g)), one = a.then(b).apply(g);
  CHECK(std::abs(two - one) < 1e-15);
  CHECK(std::abs(a.apply(g) - Complex((0.15 - 0.01) / 1.1, (-0.08 + 0.02) / 0.95)) < 1e-15);
}

TEST_CASE("a calibration binned in a per-galaxy quantity recovers m(q) and c(q)") {
  // m rises linearly with q; c is constant per component.
  std::vector<double> q, t1, t2, o1, o2;
  ds::RandomStream r(4, "test.binned");
  for (int i = 0; i < 20000; ++i) {
    double qi = r.uniform(10, 50), g1 = r.uniform(-0.2, 0.2), g2 = r.uniform(-0.2, 0.2);
    double m = 0.3 - 0.02 * qi;  // +0.1 at q = 10 down to -0.7 at q = 50
    q.push_back(qi), t1.push_back(g1), t2.push_back(g2);
    o1.push_back(0.002 + (1 + m) * g1 + 0.02 * r.normal());
    o2.push_back(-0.001 + (1 + m) * g2 + 0.02 * r.normal());
  }
  auto cal = BinnedCalibration::fit("snr", q, t1, t2, o1, o2, 8);
  REQUIRE(cal.centres.size() == 8);
  for (std::size_t b = 0; b < 8; ++b) {
    double m = 0.3 - 0.02 * cal.centres[b];
    // Within a bin m varies by +-0.05; the bin's fit is its average.
    CHECK(std::abs(cal.fit1[b].m - m) < 0.02);
    CHECK(std::abs(cal.fit2[b].m - m) < 0.02);
    CHECK(std::abs(cal.fit1[b].c - 0.002) < 5 * cal.fit1[b].c_err);
  }
  // Applied galaxy by galaxy it removes the trend: residual bias in the extreme
  // thirds of q is small.
  std::vector<double> lo_t, lo_c, hi_t, hi_c;
  for (std::size_t i = 0; i < q.size(); ++i) {
    Complex g = cal.apply({o1[i], o2[i]}, q[i]);
    (q[i] < 20 ? lo_t : hi_t).push_back(t1[i]);
    (q[i] < 20 ? lo_c : hi_c).push_back(g.real());
  }
  CHECK(std::abs(fit_bias(lo_t, lo_c).m) < 0.03);
  CHECK(std::abs(fit_bias(hi_t, hi_c).m) < 0.03);
  CHECK(cal.quantity == "snr");
}

TEST_CASE("bootstrap standard error of a mean is sigma / sqrt(n)") {
  ds::RandomStream r(6, "test.bootstrap");
  std::vector<double> x(400);
  for (auto& v : x) v = r.normal(1.0, 2.0);
  auto sd = bootstrap_std(long(x.size()), 400, 9, [&](const std::vector<long>& idx) {
    double s = 0;
    for (long i : idx) s += x[std::size_t(i)];
    return std::vector<double>{s / double(idx.size())};
  });
  CHECK(sd[0] == doctest::Approx(2.0 / 20.0).epsilon(0.15));
}

TEST_CASE("a calibration file round-trips and names its estimator") {
  ds::test::TempDir tmp;
  Calibration a{0.0012, 0.1151, -0.0007, 0.1263};
  a.save(tmp / "rrg.cal", "rrg");
  std::string est;
  Calibration b = Calibration::load(tmp / "rrg.cal", &est);
  CHECK(est == "rrg");
  CHECK(b.m1 == a.m1);
  CHECK(b.c2 == a.c2);
  std::ofstream(tmp / "bad.cal") << "m1 = 0.1\nm3 = 2\n";
  CHECK_THROWS_WITH_AS(Calibration::load(tmp / "bad.cal"), doctest::Contains("bad.cal:2: unknown key 'm3'"), ds::Error);
}
