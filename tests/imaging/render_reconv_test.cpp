// Reconvolution of real galaxies against GalSim's reference cases
// (../shared/data/galsim-testdata/tests/real_comparison_images, data README sec. 1c).
#include <cmath>

#include "deepshear/engine/fits.hpp"
#include "deepshear/imaging/draw.hpp"
#include "deepshear/imaging/galaxy.hpp"
#include "deepshear/imaging/moments.hpp"
#include "deepshear/imaging/profile.hpp"
#include "test_support.hpp"

using namespace ds::img;

namespace {
const char* kImages = "galsim-testdata/tests/real_comparison_images/test_images.fits";

ds::ImageD read_hdu(const std::string& path, int hdu) {
  ds::fits::FitsFile f(path);
  f.hdu(hdu);
  return f.read_image<double>();
}
}  // namespace

TEST_CASE("render: the fake Gaussian real galaxy reconvolved to Gaussian targets matches the closed form to 1e-3 of the peak") {
  DS_REQUIRE_SHARED(path, kImages);
  const double s0 = 0.03;
  // HDU1 and HDU3 are stored as surface brightness: flux per pixel = value * s0^2.
  ds::ImageD gal = read_hdu(path, 1), psf = read_hdu(path, 3);
  for (double& v : gal) v *= s0 * s0;
  for (double& v : psf) v *= s0 * s0;
  CHECK(gal.sum() == doctest::Approx(1000).epsilon(1e-3));
  for (bool fold : {true, false}) {
  INFO("PSF folded into the galaxy grid: " << fold);
  auto rg = real_galaxy(gal.view(), psf.view(), s0, 1, InterpolantKind::Quintic, fold);
  // Truth: Gaussian FWHM 0.7", flux 1000, intrinsic shear (0.29, -0.21), then lensing (0.06, -0.04).
  const double sig_g = 0.7 / 2.3548200450309493;
  const Jacobian A = Jacobian::shear(0.06, -0.04) * Jacobian::shear(0.29, -0.21);
  auto check = [&](double fwhm, double pg1, double pg2, double scale, bool pixel, long n) {
    auto target = sheared(gaussian_fwhm(fwhm), pg1, pg2);
    DrawOptions o{scale, 0, 0, pixel};
    auto img = draw_image(*convolve({sheared(rg, 0.06, -0.04), target}), n, n, o);
    auto truth_p = convolve({transformed(gaussian(sig_g, 1000), A), target});
    auto truth = draw_image(*truth_p, n, n, o);  // analytic Gaussians: closed form in k
    // Closed form in real space (no pixel) for an independent check of the truth image.
    if (!pixel) {
      const Jacobian P = Jacobian::shear(pg1, pg2);
      const double sp = fwhm / 2.3548200450309493;
      double cxx = sig_g * sig_g * (A.a * A.a + A.b * A.b) + sp * sp * (P.a * P.a + P.b * P.b);
      double cxy = sig_g * sig_g * (A.a * A.c + A.b * A.d) + sp * sp * (P.a * P.c + P.b * P.d);
      double cyy = sig_g * sig_g * (A.c * A.c + A.d * A.d) + sp * sp * (P.c * P.c + P.d * P.d);
      double det = cxx * cyy - cxy * cxy, c = 0.5 * (n - 1), err = 0, pk = 0;
      for (long y = 0; y < n; ++y)
        for (long x = 0; x < n; ++x) {
          double u = (x - c) * scale, v = (y - c) * scale;
          double val = 1000 / (2 * M_PI * std::sqrt(det)) *
                       std::exp(-0.5 * (cyy * u * u - 2 * cxy * u * v + cxx * v * v) / det) * scale * scale;
          err = std::max(err, std::abs(val - truth(y, x)));
          pk = std::max(pk, val);
        }
      CHECK(err < 1e-6 * pk);
    }
    double peak = 0, err = 0;
    for (long i = 0; i < img.size(); ++i) {
      peak = std::max(peak, truth.data()[i]);
      err = std::max(err, std::abs(img.data()[i] - truth.data()[i]));
    }
    INFO("target fwhm " << fwhm << " psf g (" << pg1 << ", " << pg2 << ") scale " << scale << " err/peak "
                        << err / peak);
    CHECK(err < 1e-3 * peak);
    CHECK(img.sum() == doctest::Approx(truth.sum()).epsilon(1e-3));
  };
  // GalSim's grid (no pixel response).
  for (double fwhm : {0.7, 1.0})
    for (double pg1 : {-0.03, 0.0})
      for (double pg2 : {0.05, -0.08})
        for (double scale : {0.18, 0.25}) check(fwhm, pg1, pg2, scale, false, 48);
  // The method's set-up: 0.065"/px with the pixel, a target larger than the original PSF.
  check(0.2, 0.0, 0.0, 0.065, true, 64);
  }
}

TEST_CASE("render: the real COSMOS galaxy 100533 reconvolved to the SHERA set-up matches shera_result.fits adaptive moments to 0.01") {
  DS_REQUIRE_SHARED(path, kImages);
  DS_REQUIRE_SHARED(shera_path, "galsim-testdata/tests/real_comparison_images/shera_result.fits");
  DS_REQUIRE_SHARED(tpsf_path, "galsim-testdata/tests/real_comparison_images/shera_target_PSF.fits");
  ds::ImageD gal = read_hdu(path, 0), psf = read_hdu(path, 2);
  ds::ImageD shera = read_hdu(shera_path, 0), tpsf = read_hdu(tpsf_path, 0);
  for (bool fold : {true, false}) {
  INFO("PSF folded into the galaxy grid: " << fold);
  auto rg = with_flux(real_galaxy(gal.view(), psf.view(), 0.03, 1, InterpolantKind::Quintic, fold), 1000);
  auto target = interpolated_image(tpsf.view(), 0.24, InterpolatedOptions{4, InterpolantKind::Quintic, 1.0});
  auto final_p = convolve({sheared(rg, 0.06, -0.04), target});
  auto img = draw_image(*final_p, shera.ny(), shera.nx(), DrawOptions{0.24, 0, 0, false});
  auto a = adaptive_moments(img.view());
  auto b = adaptive_moments(shera.view());
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  INFO("ours e1 " << a.e1 << " e2 " << a.e2 << " sigma " << a.sigma << "; SHERA e1 " << b.e1 << " e2 " << b.e2
                  << " sigma " << b.sigma);
  CHECK(std::abs(a.e1 - b.e1) < 0.01);
  CHECK(std::abs(a.e2 - b.e2) < 0.01);
  CHECK(std::abs(a.sigma - b.sigma) < 0.01);
  }
}
