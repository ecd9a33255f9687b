// Metacalibration estimators: the ensemble response division against a
// closed form, and metacal-rrg recovering an applied shear with no
// calibration on a ring of noiseless galaxies.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "deepshear/engine/tensor.hpp"
#include "deepshear/imaging/draw.hpp"
#include "deepshear/imaging/profile.hpp"
#include "deepshear/lensing/estimators/estimator.hpp"
#include "deepshear/lensing/estimators/metacal.hpp"

using namespace ds::lens;

namespace {

// A ring of 16 exponential galaxies (intrinsic |e| 0.3, position angles k pi / 16 so their
// ellipticities cancel), lensed by g and seen through a round Gaussian PSF with the pixel.
ds::Tensor ring(double g1, double g2, double fwhm, double scale) {
  const long n = 16, N = 32;
  ds::Tensor t({n, N, N});
  ds::img::DrawOptions o;
  o.scale = scale;
  for (long k = 0; k < n; ++k) {
    const double a = 3.141592653589793 * double(k) / double(n);
    auto gal = ds::img::sheared(ds::img::exponential_hlr(0.15, 1.0), 0.3 * std::cos(2 * a), 0.3 * std::sin(2 * a));
    auto obs = ds::img::convolve({ds::img::sheared(gal, g1, g2), ds::img::gaussian_fwhm(fwhm)});
    ds::img::draw(*obs, ds::ImageView<float>(t.data() + k * N * N, N, N), o);
  }
  return t;
}

}  // namespace

TEST_CASE("metacal: dividing by the mean response inverts a known 2x2 response and skips flagged stamps") {
  const double R[4] = {0.8, 0.05, 0.02, 0.7};  // R11, R12, R21, R22
  EstimateBatch b;
  std::vector<double> c[4];
  const double g[3][2] = {{0.02, -0.01}, {-0.03, 0.04}, {0.5, 0.5}};
  for (int i = 0; i < 3; ++i) {
    ShearEstimate e;
    e.g1 = R[0] * g[i][0] + R[1] * g[i][1];
    e.g2 = R[2] * g[i][0] + R[3] * g[i][1];
    e.flags = i == 2 ? kFlagEdge : 0;
    b.estimates.push_back(e);
    for (int j = 0; j < 4; ++j) c[j].push_back(i == 2 ? NAN : R[j] + (i == 0 ? 0.1 : -0.1));  // mean R over 0 and 1
  }
  const char* names[4] = {"R11", "R12", "R21", "R22"};
  for (int j = 0; j < 4; ++j) b.extra.emplace_back(names[j], c[j]);
  REQUIRE(has_response(b));
  const auto m = divide_by_mean_response(b);
  CHECK(m.n == 2);
  CHECK(m.r12 == doctest::Approx(0.05));
  for (int i = 0; i < 2; ++i) {
    CHECK(b.estimates[std::size_t(i)].g1 == doctest::Approx(g[i][0]).epsilon(1e-12));
    CHECK(b.estimates[std::size_t(i)].g2 == doctest::Approx(g[i][1]).epsilon(1e-12));
  }
  CHECK(b.estimates[2].g1 == doctest::Approx(R[0] * 0.5 + R[1] * 0.5));  // flagged: untouched
  EstimateBatch none;
  CHECK_THROWS(divide_by_mean_response(none));
}

TEST_CASE("metacal-rrg recovers an applied shear from noiseless HST-like stamps with no calibration") {
  const double g1 = 0.03, g2 = -0.02;
  EstimatorSetup s;  // PSF FWHM 0.12", 0.065" / px: the shipped set-up, undersampled
  const ds::Tensor stamps = ring(g1, g2, s.psf_fwhm, s.pixel_scale);
  auto plain = make_estimator("rrg", s)->estimate(stamps);
  auto mc = make_estimator("metacal-rrg", s)->estimate(stamps);
  REQUIRE(has_response(mc));
  double p1 = 0, p2 = 0;
  for (const auto& e : plain.estimates) p1 += e.g1 / 16, p2 += e.g2 / 16;
  divide_by_mean_response(mc);
  double m1 = 0, m2 = 0;
  for (const auto& e : mc.estimates) {
    CHECK(e.flags == 0);
    m1 += e.g1 / 16, m2 += e.g2 / 16;
  }
  MESSAGE("plain rrg m = " << p1 / g1 - 1 << ", " << p2 / g2 - 1 << "; metacal-rrg m = " << m1 / g1 - 1 << ", "
                           << m2 / g2 - 1);
  CHECK(std::abs(m1 / g1 - 1) < 0.01);
  CHECK(std::abs(m2 / g2 - 1) < 0.01);
}

TEST_CASE("metacal: each bin is divided by its own mean response") {
  // Bin 0 responds with R = 0.5, bin 1 with R = 0.9 (diagonal); e = R g in each.
  EstimateBatch b;
  std::vector<double> c[4];
  const double R[2] = {0.5, 0.9};
  const std::vector<int> bin = {0, 1, 0, 1, -1};
  for (std::size_t i = 0; i < bin.size(); ++i) {
    const double r = R[bin[i] < 0 ? 0 : bin[i]];
    ShearEstimate e;
    e.g1 = r * 0.02 * double(i + 1), e.g2 = -r * 0.01;
    b.estimates.push_back(e);
    c[0].push_back(r), c[1].push_back(0), c[2].push_back(0), c[3].push_back(r);
  }
  const char* names[4] = {"R11", "R12", "R21", "R22"};
  for (int j = 0; j < 4; ++j) b.extra.emplace_back(names[j], c[j]);
  const auto out = divided_by_bin_response(b, bin, 2);
  for (std::size_t i = 0; i < 4; ++i) {
    CHECK(out[i].g1 == doctest::Approx(0.02 * double(i + 1)).epsilon(1e-12));
    CHECK(out[i].g2 == doctest::Approx(-0.01).epsilon(1e-12));
  }
  CHECK(out[4].g1 == doctest::Approx(b.estimates[4].g1));  // outside every bin: as it was
}
