// The CNN estimator's shear maps and flags, with a network whose answer is
// known: one affine layer computing the quadrupole (sum (x^2 - y^2) I,
// sum 2xy I) about the stamp centre, which transforms exactly as a shear under
// the eight stamp symmetries.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "deepshear/engine/random.hpp"
#include "deepshear/lensing/estimators/cnn.hpp"
#include "deepshear/lensing/shear.hpp"

using namespace ds::lens;

namespace {

ds::nn::Model quadrupole_model(long n) {
  ds::nn::Model m;
  m.net = ds::nn::Network(ds::nn::Architecture::parse("input " + std::to_string(n) + " " + std::to_string(n) +
                                                      " 1; affine 2 none 0"));
  m.norm = ds::nn::InputNorm::MeanStd;
  float* w = m.net.weights(0);
  double c = (n - 1) / 2.0;
  for (long y = 0; y < n; ++y)
    for (long x = 0; x < n; ++x) {
      w[(y * n + x) * 2 + 0] = float(((x - c) * (x - c) - (y - c) * (y - c)) * 1e-3);
      w[(y * n + x) * 2 + 1] = float(2 * (x - c) * (y - c) * 1e-3);
    }
  m.net.bias(0)[0] = m.net.bias(0)[1] = 0;
  return m;
}

ds::Tensor random_stamps(long count, long n) {
  ds::Tensor t({count, n, n});
  ds::RandomStream r(12, "test.cnn.stamps");
  for (auto& v : t) v = float(r.normal());
  return t;
}

}  // namespace

TEST_CASE("an exactly shear-equivariant network gives the same answer symmetrised or not") {
  const long n = 8;
  auto stamps = random_stamps(10, n);
  CnnEstimator plain(quadrupole_model(n), false, false), symm(quadrupole_model(n), true, false);
  auto a = plain.estimate(stamps), b = symm.estimate(stamps);
  for (std::size_t i = 0; i < a.size(); ++i) {
    REQUIRE(a[i].flags == 0);
    CHECK(std::abs(a[i].g1) > 1e-4);  // a real signal, not zeros
    CHECK(b[i].g1 == doctest::Approx(a[i].g1).epsilon(1e-4));
    CHECK(b[i].g2 == doctest::Approx(a[i].g2).epsilon(1e-4));
  }
}

TEST_CASE("a constant-output network averages to zero shear under symmetrisation") {
  // The eight maps of any fixed shear average to zero.
  auto model = quadrupole_model(8);
  for (long i = 0; i < 64 * 2; ++i) model.net.weights(0)[i] = 0;
  model.net.bias(0)[0] = 0.1f;
  model.net.bias(0)[1] = -0.05f;
  auto stamps = random_stamps(3, 8);
  auto a = CnnEstimator(model, false, false).estimate(stamps);
  auto b = CnnEstimator(model, true, false).estimate(stamps);
  CHECK(a[0].g1 == doctest::Approx(0.1));
  CHECK(std::abs(b[0].g1) < 1e-7);
  CHECK(std::abs(b[0].g2) < 1e-7);
}

TEST_CASE("the stored calibration is applied, and bad stamps are flagged with g = 0") {
  auto model = quadrupole_model(8);
  model.cal_c = {0.01, -0.02};
  model.cal_m = {0.1, -0.1};
  auto stamps = random_stamps(3, 8);
  stamps[1 * 64 + 5] = std::numeric_limits<float>::quiet_NaN();
  for (long k = 0; k < 64; ++k) stamps[2 * 64 + k] = 3.0f;  // flat
  auto raw = CnnEstimator(model, false, false).estimate(stamps);
  auto cal = CnnEstimator(model, false, true).estimate(stamps);
  CHECK(cal[0].g1 == doctest::Approx((raw[0].g1 - 0.01) / 1.1).epsilon(1e-5));
  CHECK(cal[0].g2 == doctest::Approx((raw[0].g2 + 0.02) / 0.9).epsilon(1e-5));
  CHECK((cal[1].flags & kFlagNonFinite) != 0);
  CHECK((cal[2].flags & kFlagBlank) != 0);
  CHECK(cal[1].g1 == 0.0);
  CHECK(cal[2].g2 == 0.0);
  ds::Tensor wrong({1, 10, 10});
  CHECK_THROWS_AS(CnnEstimator(model).estimate(wrong), ds::Error);
}
