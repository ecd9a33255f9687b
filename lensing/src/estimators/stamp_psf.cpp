#include "deepshear/lensing/estimators/stamp_psf.hpp"

#include <cmath>

#include "deepshear/engine/error.hpp"

namespace ds::lens {

StampPsf StampPsf::gaussian(double fwhm, double pixel_scale) {
  require(fwhm > 0 && pixel_scale > 0, "PSF: FWHM and pixel scale must be positive");
  StampPsf p;
  const double s = fwhm / (2 * std::sqrt(2 * std::log(2.0))) / pixel_scale;
  p.sigma = std::sqrt(s * s + 1.0 / 12);
  p.moments = gaussian_psf_moments(p.sigma);
  p.image = ImageD(25, 25);
  for (long y = 0; y < 25; ++y)
    for (long x = 0; x < 25; ++x)
      p.image(y, x) = std::exp(-((x - 12.0) * (x - 12.0) + (y - 12.0) * (y - 12.0)) / (2 * p.sigma * p.sigma));
  return p;
}

}  // namespace ds::lens
