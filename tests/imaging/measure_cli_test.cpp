// deepshear noise-kernel: a background image with known correlated noise and
// masked sources gives back the kernel's noise RMS and correlations.
#include <doctest/doctest.h>

#include "deepshear/engine/fits.hpp"
#include "deepshear/imaging/noise.hpp"
#include "test_support.hpp"

TEST_CASE("deepshear noise-kernel estimates the kernel of a background image") {
  ds::test::TempDir tmp;
  ds::img::NoiseKernel k = ds::img::NoiseKernel::load_default();
  ds::ImageF im(256, 256, 0.0f);
  ds::RandomStream r(9, "noise", 0);
  ds::img::add_correlated_noise(im.view(), k, r);
  ds::ImageD mask(256, 256, 0.0);
  for (long y = 100; y < 130; ++y)
    for (long x = 60; x < 90; ++x) {
      im(y, x) += 1.0f;  // a bright "source"
      mask(y, x) = 1;
    }
  {
    ds::fits::FitsWriter w(tmp / "bg.fits");
    w.write_image(im, ds::fits::PixelType::Float32);
    w.commit();
    ds::fits::FitsWriter m(tmp / "mask.fits");
    m.write_image(mask, ds::fits::PixelType::UInt8);
    m.commit();
  }
  for (const char* how : {"--mask mask.fits", ""}) {  // explicit mask, then the threshold mask
    CAPTURE(how);
    auto res = ds::test::run_cli("noise-kernel '" + (tmp / "bg.fits") + "' " +
                                 (std::string(how).empty() ? "" : "--mask '" + (tmp / "mask.fits") + "'") + " -o '" +
                                 (tmp / "k.txt") + "'");
    REQUIRE(res.exit_code == 0);
    CHECK(res.out.find("noise RMS") != std::string::npos);
    ds::img::NoiseKernel e = ds::img::NoiseKernel::load(tmp / "k.txt");
    CHECK(e.rms() == doctest::Approx(k.rms()).epsilon(0.03));
    CHECK(e.covariance(0, 1) == doctest::Approx(k.covariance(0, 1)).epsilon(0.15));
    CHECK(e.covariance(1, 0) == doctest::Approx(k.covariance(1, 0)).epsilon(0.15));
  }
  auto bad = ds::test::run_cli("noise-kernel '" + (tmp / "bg.fits") + "'");
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("-o") != std::string::npos);
}
