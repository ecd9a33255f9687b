// Stamps without a measurable source get flags from every estimator, never a
// quiet zero shear with flag 0.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

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
