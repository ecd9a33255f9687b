// RRG against closed forms for Gaussians (RRG.md section 6 notes the exact
// Gaussian answer of the isotropic correction), PSF-anisotropy correction to
// first order, and defined, flagged results on bad stamps.
#include <doctest/doctest.h>

#include <Eigen/Dense>
#include <cmath>
#include <limits>

#include "deepshear/lensing/estimators/rrg.hpp"
#include "deepshear/lensing/estimators/stamp_psf.hpp"

using namespace ds::lens;

namespace {

// An elliptical Gaussian of covariance C (px^2) centred at (x0, y0), sampled
// at pixel centres, unit peak.
ds::ImageF gaussian_stamp(long n, const Eigen::Matrix2d& C, double x0, double y0) {
  ds::ImageF img(n, n);
  Eigen::Matrix2d inv = C.inverse();
  for (long y = 0; y < n; ++y)
    for (long x = 0; x < n; ++x) {
      Eigen::Vector2d d(double(x) - x0, double(y) - y0);
      img(y, x) = float(std::exp(-0.5 * d.dot(inv * d)));
    }
  return img;
}

Eigen::Matrix2d covariance(double sigma, double e1, double e2) {
  // A Gaussian whose second moments have distortion (e1, e2) and det = sigma^4.
  double t = 2 * sigma * sigma / std::sqrt(1 - e1 * e1 - e2 * e2);
  Eigen::Matrix2d c;
  c << t / 2 * (1 + e1), t / 2 * e2, t / 2 * e2, t / 2 * (1 - e1);
  return c;
}

// The convolution of two Gaussians adds covariances.
ds::ImageF convolved(long n, const Eigen::Matrix2d& gal, const Eigen::Matrix2d& psf, double x0, double y0) {
  return gaussian_stamp(n, gal + psf, x0, y0);
}

}  // namespace

TEST_CASE("Gaussian galaxy, round Gaussian PSF: corrected moments equal (C^-1 + I / W^2)^-1") {
  const double sp = 1.2, omega = 3.0;  // PSF sigma, weight width (px)
  RrgOptions opt;
  opt.width = RrgOptions::Width::Fixed;
  opt.fixed_width = omega;
  opt.absolute_intensity = false;
  for (auto [s, e1, e2] : {std::tuple<double, double, double>{2.0, 0.3, -0.1}, {1.5, -0.2, 0.25}, {3.0, 0.0, 0.4}}) {
    Eigen::Matrix2d C = covariance(s, e1, e2);
    auto stamp = convolved(48, C, sp * sp * Eigen::Matrix2d::Identity(), 23.7, 23.2);
    auto m = rrg_measure(stamp.view(), gaussian_psf_moments(sp), opt);
    REQUIRE(m.flags == 0);
    CHECK(m.x == doctest::Approx(23.7).epsilon(1e-3));
    CHECK(m.y == doctest::Approx(23.2).epsilon(1e-3));
    double W2 = omega * omega + sp * sp;
    Eigen::Matrix2d expect = (C.inverse() + Eigen::Matrix2d::Identity() / W2).inverse();
    CHECK(m.ixx == doctest::Approx(expect(0, 0)).epsilon(2e-3));
    CHECK(m.iyy == doctest::Approx(expect(1, 1)).epsilon(2e-3));
    CHECK(m.ixy == doctest::Approx(expect(0, 1)).epsilon(2e-3));
    double tr = expect.trace();
    CHECK(m.e1 == doctest::Approx((expect(0, 0) - expect(1, 1)) / tr).epsilon(2e-3));
    CHECK(m.e2 == doctest::Approx(2 * expect(0, 1) / tr).epsilon(2e-3));
  }
}

TEST_CASE("a round PSF leaves the ellipticity to the isotropic correction alone") {
  // With a round PSF the anisotropic term vanishes: corrected moments are the
  // isotropic correction of the raw weighted moments.
  const double sp = 1.5, omega = 2.5;
  RrgOptions opt;
  opt.width = RrgOptions::Width::Fixed;
  opt.fixed_width = omega;
  opt.absolute_intensity = false;
  auto stamp = convolved(40, covariance(2.0, 0.2, 0.1), sp * sp * Eigen::Matrix2d::Identity(), 19.5, 19.5);
  auto m = rrg_measure(stamp.view(), gaussian_psf_moments(sp), opt);
  double gw2 = sp * sp * omega * omega / (sp * sp + omega * omega);
  double f = std::pow((sp * sp + omega * omega) / (omega * omega), 2);
  CHECK(m.ixx == doctest::Approx(f * (m.raw.xx - gw2)).epsilon(1e-12));
  CHECK(m.ixy == doctest::Approx(f * m.raw.xy).epsilon(1e-12));
}

TEST_CASE("an elliptical PSF on a round galaxy is corrected to first order") {
  const double s = 2.0, omega = 3.0;
  RrgOptions opt;
  opt.width = RrgOptions::Width::Fixed;
  opt.fixed_width = omega;
  opt.absolute_intensity = false;
  for (auto [pe1, pe2] : {std::pair<double, double>{0.06, 0.0}, {0.0, -0.05}, {0.04, 0.03}}) {
    Eigen::Matrix2d P = covariance(1.3, pe1, pe2);
    auto stamp = convolved(48, s * s * Eigen::Matrix2d::Identity(), P, 23.5, 23.5);
    PsfMoments pm;
    pm.xx = P(0, 0), pm.yy = P(1, 1), pm.xy = P(0, 1);
    // Fourth moments of a Gaussian: <x^4> = 3 Cxx^2, <x^3 y> = 3 Cxx Cxy,
    // <x^2 y^2> = Cxx Cyy + 2 Cxy^2.
    pm.xxxx = 3 * P(0, 0) * P(0, 0), pm.yyyy = 3 * P(1, 1) * P(1, 1);
    pm.xxxy = 3 * P(0, 0) * P(0, 1), pm.xyyy = 3 * P(1, 1) * P(0, 1);
    pm.xxyy = P(0, 0) * P(1, 1) + 2 * P(0, 1) * P(0, 1);
    RrgOptions raw = opt;
    PsfMoments round = gaussian_psf_moments(std::sqrt(pm.xx + pm.yy) / std::sqrt(2.0));
    auto uncorrected = rrg_measure(stamp.view(), round, raw);  // isotropic only
    auto corrected = rrg_measure(stamp.view(), pm, opt);
    double before = std::hypot(uncorrected.e1, uncorrected.e2), after = std::hypot(corrected.e1, corrected.e2);
    CHECK(before > 0.01);
    CHECK(after < 0.15 * before);  // what remains is second order in the PSF ellipticity
  }
}

TEST_CASE("PSF moments from a PSF image match the Gaussian's to first order in 1/w^2") {
  const double sp = 1.5, w = 6.0;
  ds::ImageD psf(41, 41);
  for (long y = 0; y < 41; ++y)
    for (long x = 0; x < 41; ++x) psf(y, x) = std::exp(-((x - 20.0) * (x - 20.0) + (y - 20.0) * (y - 20.0)) / (2 * sp * sp));
  auto p = psf_moments_from_image(psf.view(), w);
  CHECK(p.xx == doctest::Approx(sp * sp).epsilon(0.005));
  CHECK(p.yy == doctest::Approx(sp * sp).epsilon(0.005));
  CHECK(std::abs(p.xy) < 1e-10);
  ds::ImageD blank(9, 9);
  CHECK_THROWS_AS(psf_moments_from_image(blank.view(), w), ds::Error);
}

TEST_CASE("shear from a population: gamma = e / (0.86 G) with G near 2 for resolved round galaxies") {
  const long n = 32, count = 16;
  ds::Tensor stamps({count, n, n});
  for (long i = 0; i < count; ++i) {
    double angle = M_PI * double(i) / double(count);
    auto img = convolved(n, covariance(2.5, 0.2 * std::cos(2 * angle), 0.2 * std::sin(2 * angle)),
                         Eigen::Matrix2d::Identity() * 0.8, 15.5, 15.5);
    std::copy(img.begin(), img.end(), stamps.data() + i * n * n);
  }
  RrgOptions opt;
  double G = 0;
  std::vector<RrgMeasurement> details;
  auto g = rrg_estimate(stamps, gaussian_psf_moments(0.9), opt, &G, &details);
  CHECK(G > 1.0);
  CHECK(G < 2.0);
  for (long i = 0; i < count; ++i) {
    REQUIRE(g[std::size_t(i)].flags == 0);
    CHECK(g[std::size_t(i)].g1 == doctest::Approx(details[std::size_t(i)].e1 / (0.86 * G)));
  }
  // The population of rotated copies averages to zero shear.
  double m1 = 0, m2 = 0;
  for (const auto& e : g) m1 += e.g1, m2 += e.g2;
  CHECK(std::abs(m1 / count) < 1e-3);
  CHECK(std::abs(m2 / count) < 1e-3);
}

TEST_CASE("blank, NaN-holding, saturated and off-centre stamps give defined, flagged results") {
  const long n = 32;
  ds::Tensor stamps({4, n, n});
  auto good = convolved(n, covariance(2.0, 0.1, 0.0), Eigen::Matrix2d::Identity(), 15.5, 15.5);
  // 0: blank; 1: NaN pixel; 2: saturated (clipped); 3: galaxy in a corner.
  std::copy(good.begin(), good.end(), stamps.data() + 1 * n * n);
  stamps[1 * n * n + 40] = std::numeric_limits<float>::quiet_NaN();
  for (long i = 0; i < n * n; ++i) stamps[2 * n * n + i] = std::min(good.data()[i], 0.3f);
  auto corner = convolved(n, covariance(1.5, 0.0, 0.0), Eigen::Matrix2d::Identity(), 1.0, 1.0);
  std::copy(corner.begin(), corner.end(), stamps.data() + 3 * n * n);
  RrgOptions opt;
  opt.fixed_G = 2.0;
  auto g = rrg_estimate(stamps, gaussian_psf_moments(1.0), opt);
  CHECK((g[0].flags & kFlagBlank) != 0);
  CHECK((g[1].flags & kFlagNonFinite) != 0);
  CHECK(g[2].flags == 0);  // saturated but measurable
  CHECK(g[3].flags != 0);  // centroid far from the stamp centre
  for (const auto& e : g) {
    CHECK(std::isfinite(e.g1));
    CHECK(std::isfinite(e.g2));
    if (e.flags) CHECK(e.g1 == 0.0);
  }
  CHECK(describe_flags(kFlagBlank | kFlagEdge) == "edge|blank");
}

TEST_CASE("RRG's object-size weight is size_mult times the object's sigma, as pyRRG's mult sqrt(A B)") {
  Eigen::Matrix2d C = covariance(2.0, 0.3, 0.1) + Eigen::Matrix2d::Identity() * 1.0;
  auto stamp = gaussian_stamp(48, C, 23.5, 23.5);
  RrgOptions opt;
  opt.width = RrgOptions::Width::ObjectSize;
  opt.size_mult = 2.0;
  auto m = rrg_measure(stamp.view(), gaussian_psf_moments(1.0), opt);
  REQUIRE(m.flags == 0);
  // sqrt(A B) of a Gaussian is det(C)^(1/4).
  CHECK(m.omega == doctest::Approx(2.0 * std::pow(C.determinant(), 0.25)).epsilon(1e-3));
}

TEST_CASE("the stamp PSF adds the pixel's variance 1/12 to the Gaussian's") {
  auto p = StampPsf::gaussian(0.12, 0.065);
  double s = 0.12 / 2.354820045 / 0.065;
  CHECK(p.sigma * p.sigma == doctest::Approx(s * s + 1.0 / 12).epsilon(1e-6));
  CHECK(p.moments.xx == doctest::Approx(p.sigma * p.sigma));
  double sum = 0, sxx = 0;
  for (long y = 0; y < 25; ++y)
    for (long x = 0; x < 25; ++x) sum += p.image(y, x), sxx += p.image(y, x) * (x - 12.0) * (x - 12.0);
  // Sampled at pixel centres, the second moment of a sigma ~ 0.8 px Gaussian is off by ~1e-4.
  CHECK(sxx / sum == doctest::Approx(p.sigma * p.sigma).epsilon(1e-3));
}
