// The PSF the moment estimators assume for stamps drawn with a round Gaussian
// PSF of a given FWHM and the pixel: one Gaussian of the same second moments,
// sigma^2 = (FWHM / 2.3548 / pixel)^2 + 1/12 px^2 (the box pixel's variance).
#pragma once
#include "deepshear/engine/image.hpp"
#include "deepshear/lensing/estimators/rrg.hpp"

namespace ds::lens {

struct StampPsf {
  double sigma = 0;     // px
  PsfMoments moments;   // for RRG
  ImageD image;         // 25 x 25, centred at (12, 12), for KSB

  // fwhm in arcsec, pixel_scale in arcsec / px.
  static StampPsf gaussian(double fwhm, double pixel_scale);
};

}  // namespace ds::lens
