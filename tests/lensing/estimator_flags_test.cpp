// Stamps without a measurable source get flags from every estimator, never a
// quiet zero shear with flag 0.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <map>
#include <vector>

#include "deepshear/engine/data_path.hpp"
#include "deepshear/lensing/estimators/estimator.hpp"

using namespace ds::lens;

TEST_CASE("constant, NaN and infinite stamps are flagged by RRG and KSB (and the CNN)") {
  // Stamps: zero, constant 1e30, constant -3, a NaN pixel, an infinite pixel.
  ds::Tensor stamps({5, 32, 32});
  for (long i = 0; i < 32 * 32; ++i) {
    stamps.data()[i] = 0;
    stamps.data()[32 * 32 + i] = 1e30f;
    stamps.data()[2 * 32 * 32 + i] = -3;
    stamps.data()[3 * 32 * 32 + i] = float(i % 7);
    stamps.data()[4 * 32 * 32 + i] = float(i % 5);
  }
  stamps.data()[3 * 32 * 32 + 100] = std::numeric_limits<float>::quiet_NaN();
  stamps.data()[4 * 32 * 32 + 200] = std::numeric_limits<float>::infinity();
  std::vector<std::string> names = {"rrg", "ksb"};
  EstimatorSetup setup;
  setup.psf_fwhm = 0.12, setup.pixel_scale = 0.065;
  setup.model_path = ds::data_path_or_empty("model_default.dsm");
  if (!setup.model_path.empty()) names.push_back("cnn");
  EstimatorSet set(names, setup, "test");
  const auto out = set.estimate(stamps);
  const std::uint32_t want[5] = {kFlagBlank, kFlagBlank, kFlagBlank, kFlagNonFinite, kFlagNonFinite};
  for (const auto& n : names)
    for (int i = 0; i < 5; ++i) CHECK_MESSAGE(out.at(n).estimates[std::size_t(i)].flags == want[i], n << " stamp " << i);
}

TEST_CASE("estimate_stamps reads stamps in place, in the command's chunks, and applies the calibrations") {
  // 4096 + 5 stamps: two chunks. RRG's result per stamp must not depend on
  // whether the stamps come whole (estimate_stamps) or chunk by chunk.
  const long n = kEstimateChunk + 5;
  std::vector<float> pixels(std::size_t(n * 32 * 32));
  for (long i = 0; i < n; ++i)
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x) {
        const double dx = x - 15.5, dy = y - 15.5, a = 3 + (i % 7) * 0.3;
        pixels[std::size_t((i * 32 + y) * 32 + x)] = float(std::exp(-(dx * dx / (a * a) + dy * dy / 9.0) / 2));
      }
  EstimatorSetup setup;
  EstimatorSet whole({"rrg"}, setup, "test"), chunked({"rrg"}, setup, "test");
  ds::lens::Calibration cal;
  cal.c1 = 0.01, cal.m1 = 0.1, cal.c2 = -0.02, cal.m2 = -0.1;
  const auto a = estimate_stamps(whole, pixels.data(), n, 32, 32, {{"rrg", cal}});
  std::map<std::string, EstimateBatch> b;
  for (long first = 0; first < n; first += kEstimateChunk) {
    const long m = std::min(kEstimateChunk, n - first);
    ds::Tensor chunk({m, 32, 32});
    std::copy(pixels.begin() + first * 1024, pixels.begin() + (first + m) * 1024, chunk.begin());
    estimate_chunk_into(chunked, chunk, {}, b);
  }
  REQUIRE(a.at("rrg").estimates.size() == std::size_t(n));
  for (long i : {0L, 3L, kEstimateChunk + 4}) {
    const auto& e = a.at("rrg").estimates[std::size_t(i)];
    const auto& raw = b.at("rrg").estimates[std::size_t(i)];
    CHECK(e.flags == 0);
    CHECK(e.g1 == doctest::Approx((raw.g1 - 0.01) / 1.1).epsilon(1e-12));
    CHECK(e.g2 == doctest::Approx((raw.g2 + 0.02) / 0.9).epsilon(1e-12));
  }
  CHECK(b.at("rrg").estimates[1].g1 > 0.01);  // stamp 1: sigma 3.3 px along x, 3 along y (stretched along x)
}
