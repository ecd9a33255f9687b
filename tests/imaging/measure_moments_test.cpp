// Moments: closed forms for sampled Gaussians (adaptive, weighted to fourth
// order, unweighted, centroid, half-light radius), the failure modes, and
// GalSim's frozen HSM results for SDSS galaxies and PSFs.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include <Eigen/LU>

#include "deepshear/engine/fits.hpp"
#include "deepshear/engine/random.hpp"
#include "deepshear/imaging/moments.hpp"
#include "test_support.hpp"

using namespace ds::img;

namespace {

// A Gaussian of flux F, centre (x0, y0), covariance [[cxx, cxy], [cxy, cyy]],
// sampled at pixel centres of an ny x nx stamp.
template <class T>
ds::Image<T> gaussian(long ny, long nx, double F, double x0, double y0, double cxx, double cxy, double cyy) {
  ds::Image<T> im(ny, nx);
  const double det = cxx * cyy - cxy * cxy;
  for (long y = 0; y < ny; ++y)
    for (long x = 0; x < nx; ++x) {
      const double dx = x - x0, dy = y - y0;
      const double q = (cyy * dx * dx - 2 * cxy * dx * dy + cxx * dy * dy) / det;
      im(y, x) = T(F / (2 * M_PI * std::sqrt(det)) * std::exp(-0.5 * q));
    }
  return im;
}

// Covariance of sigma = det^(1/4), distortion (e1, e2).
void cov_of(double sigma, double e1, double e2, double& cxx, double& cxy, double& cyy) {
  const double half_t = sigma * sigma / std::sqrt(1 - e1 * e1 - e2 * e2);
  cxx = half_t * (1 + e1);
  cyy = half_t * (1 - e1);
  cxy = half_t * e2;
}

}  // namespace

TEST_CASE("adaptive moments of a sampled elliptical Gaussian give its sigma, e1, e2 to 1e-4") {
  struct Case {
    double sigma, e1, e2, x0, y0;
  };
  for (Case c : {Case{3.0, 0.3, -0.2, 31.7, 32.2}, Case{2.2, -0.5, 0.1, 30.0, 33.4}, Case{4.5, 0.05, 0.6, 32.3, 31.1},
                 Case{1.8, 0.0, 0.0, 31.5, 31.5}}) {
    double cxx, cxy, cyy;
    cov_of(c.sigma, c.e1, c.e2, cxx, cxy, cyy);
    auto im = gaussian<double>(64, 64, 250.0, c.x0, c.y0, cxx, cxy, cyy);
    AdaptiveMoments m = adaptive_moments(im.view());
    REQUIRE(m.ok());
    CHECK(m.sigma == doctest::Approx(c.sigma).epsilon(1e-4));
    CHECK(std::abs(m.e1 - c.e1) < 1e-4);
    CHECK(std::abs(m.e2 - c.e2) < 1e-4);
    CHECK(std::abs(m.x - c.x0) < 1e-4);
    CHECK(std::abs(m.y - c.y0) < 1e-4);
    CHECK(m.amplitude == doctest::Approx(250.0).epsilon(1e-4));  // amplitude = flux for a Gaussian
    CHECK(m.rho4 == doctest::Approx(2.0).epsilon(1e-4));         // rho4 = 2 for a Gaussian
    // The float overload agrees.
    auto imf = gaussian<float>(64, 64, 250.0, c.x0, c.y0, cxx, cxy, cyy);
    AdaptiveMoments mf = adaptive_moments(imf.view());
    CHECK(mf.ok());
    CHECK(mf.sigma == doctest::Approx(c.sigma).epsilon(1e-4));
    CHECK(std::abs(mf.e1 - c.e1) < 1e-4);
  }
}

TEST_CASE("Gaussian-weighted moments to fourth order match the Gaussian product closed form") {
  // Image covariance C, weight covariance M: I W is a Gaussian of covariance
  // P = (C^-1 + M^-1)^-1; its fourth moments follow Isserlis' theorem.
  const double cxx = 6.0, cxy = 1.5, cyy = 3.5, x0 = 40.3, y0 = 39.6, F = 100;
  auto im = gaussian<double>(80, 80, F, x0, y0, cxx, cxy, cyy);
  GaussianWeight w = GaussianWeight::elliptical(x0, y0, 2.0, -0.2, 0.15);
  Eigen::Matrix2d C, M;
  C << cxx, cxy, cxy, cyy;
  M << w.mxx, w.mxy, w.mxy, w.myy;
  CHECK(std::sqrt(std::sqrt(M.determinant())) == doctest::Approx(2.0));
  CHECK((M(0, 0) - M(1, 1)) / M.trace() == doctest::Approx(-0.2));
  Eigen::Matrix2d P = (C.inverse() + M.inverse()).inverse();
  WeightedMoments m = gaussian_weighted_moments(im.view(), w);
  CHECK(m.sum_wi == doctest::Approx(F * std::sqrt(P.determinant() / C.determinant())).epsilon(1e-8));
  CHECK(std::abs(m.x) < 1e-9);
  CHECK(std::abs(m.y) < 1e-9);
  CHECK(m.xx == doctest::Approx(P(0, 0)).epsilon(1e-8));
  CHECK(m.xy == doctest::Approx(P(0, 1)).epsilon(1e-8));
  CHECK(m.yy == doctest::Approx(P(1, 1)).epsilon(1e-8));
  const double a = P(0, 0), b = P(0, 1), d = P(1, 1);
  CHECK(m.xxxx == doctest::Approx(3 * a * a).epsilon(1e-7));
  CHECK(m.xxxy == doctest::Approx(3 * a * b).epsilon(1e-7));
  CHECK(m.xxyy == doctest::Approx(a * d + 2 * b * b).epsilon(1e-7));
  CHECK(m.xyyy == doctest::Approx(3 * d * b).epsilon(1e-7));
  CHECK(m.yyyy == doctest::Approx(3 * d * d).epsilon(1e-7));
  // rho^2 = d^T A d with A = M^-1 and d ~ N(0, P): E[rho^4] = tr(AP)^2 + 2 tr((AP)^2).
  Eigen::Matrix2d AP = M.inverse() * P;
  CHECK(m.rho4 == doctest::Approx(AP.trace() * AP.trace() + 2 * (AP * AP).trace()).epsilon(1e-7));
  // A round weight; |I| weighting equals I for a positive image.
  WeightedMoments r = gaussian_weighted_moments(im.view(), GaussianWeight::round(x0, y0, 3.0), 1e300, true);
  Eigen::Matrix2d Pr = (C.inverse() + Eigen::Matrix2d::Identity() / 9.0).inverse();
  CHECK(r.xx == doctest::Approx(Pr(0, 0)).epsilon(1e-8));
  CHECK(r.pixels == 80 * 80);
}

TEST_CASE("unweighted moments, the weighted centroid and the half-light radius of known profiles") {
  const double cxx = 9.0, cxy = -2.0, cyy = 5.0;
  auto im = gaussian<float>(96, 96, 40.0, 47.3, 48.8, cxx, cxy, cyy);
  UnweightedMoments u = unweighted_moments(im.view());
  CHECK(u.flux == doctest::Approx(40.0).epsilon(1e-5));
  CHECK(u.x == doctest::Approx(47.3).epsilon(1e-5));
  CHECK(u.y == doctest::Approx(48.8).epsilon(1e-5));
  CHECK(u.mxx == doctest::Approx(cxx).epsilon(1e-4));
  CHECK(u.mxy == doctest::Approx(cxy).epsilon(1e-4));
  CHECK(u.myy == doctest::Approx(cyy).epsilon(1e-4));
  CHECK(flux(im.view()) == doctest::Approx(40.0).epsilon(1e-5));

  Centroid c = weighted_centroid(im.view(), 2.0);  // from the stamp centre (47.5, 47.5)
  CHECK(c.converged);
  CHECK(c.x == doctest::Approx(47.3).epsilon(1e-5));
  CHECK(c.y == doctest::Approx(48.8).epsilon(1e-5));

  // Round Gaussian: r_half = sigma sqrt(2 ln 2).
  auto round = gaussian<double>(64, 64, 1.0, 31.5, 31.5, 16.0, 0.0, 16.0);
  CHECK(half_light_radius(round.view(), 31.5, 31.5) == doctest::Approx(4.0 * std::sqrt(2 * std::log(2.0))).epsilon(0.01));
  // A uniform disk of radius R, pixels set by their covered fraction: r_half = R / sqrt(2).
  ds::ImageD disk(64, 64);
  const double R = 12.0;
  for (long y = 0; y < 64; ++y)
    for (long x = 0; x < 64; ++x) {
      int in = 0;
      for (int a = 0; a < 10; ++a)
        for (int b = 0; b < 10; ++b) {
          double dx = x - 0.45 + 0.1 * b - 31.5, dy = y - 0.45 + 0.1 * a - 31.5;
          in += dx * dx + dy * dy < R * R;
        }
      disk(y, x) = in / 100.0;
    }
  CHECK(half_light_radius(disk.view(), 31.5, 31.5) == doctest::Approx(R / std::sqrt(2.0)).epsilon(0.01));
  CHECK(std::isnan(half_light_radius(ds::ImageD(8, 8).view(), 3.5, 3.5)));
}

TEST_CASE("adaptive moments report each failure mode with a message") {
  SUBCASE("empty, zero and non-finite images") {
    ds::ImageD none;
    CHECK(adaptive_moments(none.view()).status == MomentStatus::EmptyImage);
    ds::ImageD zero(32, 32, 0.0);
    AdaptiveMoments z = adaptive_moments(zero.view());
    CHECK(z.status == MomentStatus::EmptyImage);
    CHECK(z.message.find("weighted flux") != std::string::npos);
    ds::ImageD neg(32, 32, -1.0);
    CHECK(adaptive_moments(neg.view()).status == MomentStatus::EmptyImage);
    auto g = gaussian<double>(32, 32, 1.0, 15.5, 15.5, 4, 0, 4);
    g(3, 7) = NAN;
    AdaptiveMoments n = adaptive_moments(g.view());
    CHECK(n.status == MomentStatus::EmptyImage);
    CHECK(n.message.find("x=7, y=3") != std::string::npos);
  }
  SUBCASE("non-convergence") {
    auto g = gaussian<double>(64, 64, 1.0, 30.2, 33.1, 12, 3, 6);
    AdaptiveParams p;
    p.max_iter = 3;
    AdaptiveMoments m = adaptive_moments(g.view(), p);
    CHECK(m.status == MomentStatus::NotConverged);
    CHECK(m.message.find("3 iterations") != std::string::npos);
  }
  SUBCASE("moments too small (a single bright pixel) or too large") {
    ds::ImageD d(32, 32, 0.0);
    d(16, 16) = 1.0;
    AdaptiveMoments m = adaptive_moments(d.view());
    CHECK(m.status == MomentStatus::BadMoments);
    CHECK(m.message.find("too small") != std::string::npos);
    ds::ImageD flat(128, 128, 1.0);
    AdaptiveParams p;
    p.max_sigma2 = 100;
    AdaptiveMoments f = adaptive_moments(flat.view(), p);
    CHECK(f.status == MomentStatus::BadMoments);
    CHECK(f.message.find("too large") != std::string::npos);
  }
  SUBCASE("centroid shift too large") {
    auto g = gaussian<double>(96, 96, 1.0, 70.0, 70.0, 9, 0, 9);
    AdaptiveParams p;
    p.x_guess = p.y_guess = 40.0;
    p.sigma_guess = 8.0;
    AdaptiveMoments m = adaptive_moments(g.view(), p);
    CHECK(m.status == MomentStatus::CentroidShift);
    CHECK(m.message.find("from the guess") != std::string::npos);
    p.max_shift = 100;  // allowed to move: it finds the galaxy
    AdaptiveMoments ok = adaptive_moments(g.view(), p);
    CHECK(ok.ok());
    CHECK(ok.x == doctest::Approx(70.0).epsilon(1e-5));
  }
  CHECK(std::string(to_string(MomentStatus::CentroidShift)) == "centroid shift too large");
  // The weighted centroid reports non-convergence on an image without positive flux,
  // and weights must be valid.
  ds::ImageF neg(16, 16, -1.0f);
  CHECK_FALSE(weighted_centroid(neg.view(), 2.0).converged);
  CHECK_THROWS_AS(GaussianWeight::elliptical(0, 0, 2.0, 0.8, 0.7), ds::Error);
  CHECK_THROWS_AS(weighted_centroid(neg.view(), 0.0), ds::Error);
}

TEST_CASE("HSM_precomputed: adaptive moments of SDSS galaxies and PSFs give GalSim's resolution factors") {
  DS_REQUIRE_SHARED(dir, "galsim-testdata/tests/HSM_precomputed");
  // README table: centroid guesses (1-based) and the BJ / LINEAR resolution
  // factor R = 1 - T_psf / T_gal, T = Mxx + Myy of the adaptive moments.
  const double xc[5] = {35.888, 19.44, 8.74, 20.193, 57.94}, yc[5] = {19.845, 25.047, 11.92, 38.93, 27.73};
  const double resolution[5] = {0.835624917, 0.699602704, 0.651040481, 0.477210752, 0.611824797};
  for (int i = 0; i < 5; ++i) {
    CAPTURE(i);
    ds::fits::FitsFile gf(dir + "/image." + std::to_string(2 * i) + ".fits");
    ds::fits::FitsFile pf(dir + "/psf." + std::to_string(2 * i) + ".fits");
    ds::ImageD gal = gf.read_image<double>(), psf = pf.read_image<double>();
    for (double& v : gal) v -= 1000;  // README: stored with a +1000 offset
    for (double& v : psf) v -= 1000;
    AdaptiveParams gp;
    gp.x_guess = xc[i] - 1;  // GalSim's centroids are 1-based
    gp.y_guess = yc[i] - 1;
    AdaptiveMoments g = adaptive_moments(gal.view(), gp);
    AdaptiveMoments p = adaptive_moments(psf.view());
    REQUIRE(g.ok());
    REQUIRE(p.ok());
    const double R = 1 - (p.mxx + p.myy) / (g.mxx + g.myy);
    CHECK(std::abs(R - resolution[i]) < 1e-3);
    // The PSF (51x51, peak near the centre) is nearly round and about 1 px in sigma.
    CHECK(std::abs(p.x - 25.0) < 1.0);
    CHECK(std::abs(p.y - 25.0) < 1.0);
  }
}

TEST_CASE("HSM_fail_*: adaptive moments succeed on all 8 PSFs that once made HSM fail") {
  DS_REQUIRE_SHARED(dir, "galsim-testdata/tests/HSM_precomputed");
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("HSM_fail_", 0) != 0) continue;
    ++files;
    CAPTURE(name);
    ds::fits::FitsFile f(e.path().string());
    ds::ImageD im = f.read_image<double>();
    AdaptiveMoments m = adaptive_moments(im.view());
    CHECK(m.ok());
    CHECK(m.message.empty());
    CHECK(m.amplitude == doctest::Approx(im.sum()).epsilon(0.1));  // a PSF-like stamp of sum ~1
  }
  CHECK(files == 8);
}

TEST_CASE("adaptive moments converge on noisy stamps and are unbiased at S/N ~ 50") {
  // An elliptical Gaussian (sigma 2.5 px, e = (0.2, -0.1)) on 32x32 with white
  // noise; 400 realisations. At this S/N the noise bias of adaptive moments is
  // of order 1/SNR^2 ~ 4e-4, far below the tolerance used here.
  double cxx, cxy, cyy;
  cov_of(2.5, 0.2, -0.1, cxx, cxy, cyy);
  auto clean = gaussian<float>(32, 32, 1.0, 15.5, 15.5, cxx, cxy, cyy);
  // S/N of an optimally weighted Gaussian: F / (sigma_n sqrt(4 pi) sigma) = 50.
  const double sigma_n = 1.0 / (50 * std::sqrt(4 * M_PI) * 2.5);
  int ok = 0;
  double s1 = 0, s2 = 0, q1 = 0, q2 = 0;
  const int n = 400;
  for (int i = 0; i < n; ++i) {
    ds::ImageF im = clean;
    ds::RandomStream r(3, "noise", std::uint64_t(i));
    for (float& v : im) v += float(sigma_n * r.normal());
    AdaptiveMoments m = adaptive_moments(im.view());
    if (!m.ok()) continue;
    ++ok;
    s1 += m.e1, s2 += m.e2, q1 += m.e1 * m.e1, q2 += m.e2 * m.e2;
  }
  CHECK(ok == n);
  const double m1 = s1 / ok, m2 = s2 / ok;
  const double err1 = std::sqrt((q1 / ok - m1 * m1) / ok), err2 = std::sqrt((q2 / ok - m2 * m2) / ok);
  CHECK(std::abs(m1 - 0.2) < 4 * err1);
  CHECK(std::abs(m2 + 0.1) < 4 * err2);
  CHECK(err1 < 0.003);  // the per-stamp scatter at S/N 50 is ~0.04
}
