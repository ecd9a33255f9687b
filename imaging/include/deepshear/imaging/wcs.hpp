// World coordinates of an image from its FITS header: the gnomonic (TAN)
// projection with a CD matrix, or CDELT with an optional PC matrix (FITS WCS
// papers I and II, Greisen & Calabretta 2002; Calabretta & Greisen 2002).
// Pixels are 0-based here (FITS's CRPIX is 1-based); angles in degrees.
#pragma once
#include <string>

#include "deepshear/engine/fits.hpp"

namespace ds::img {

class TanWcs {
 public:
  TanWcs() = default;
  // crpix: 1-based reference pixel (x, y); crval: RA, Dec of it [deg];
  // cd: [[CD1_1, CD1_2], [CD2_1, CD2_2]] in deg / px.
  TanWcs(double crpix1, double crpix2, double ra0, double dec0, double cd11, double cd12, double cd21, double cd22);
  // From the current HDU's header: CTYPE1/2 must be RA---TAN / DEC--TAN;
  // CD1_1.. or CDELT1/2 with PC1_1.. (default identity). Errors name the file
  // and the key.
  static TanWcs from_header(const fits::FitsFile& f);
  // Writes the keys from_header reads: CTYPE1/2, CRPIX1/2, CRVAL1/2, CD1_1..CD2_2, CUNIT1/2.
  void write_header(fits::FitsWriter& w) const;

  // 0-based pixel (x, y) -> (RA, Dec) in degrees.
  void pixel_to_world(double x, double y, double& ra, double& dec) const;
  // (RA, Dec) in degrees -> 0-based pixel (x, y).
  void world_to_pixel(double ra, double dec, double& x, double& y) const;
  // Pixel scale: sqrt(|det CD|) in arcsec / px.
  double pixel_scale() const;
  // The CD matrix element (i, j), 0-based ([0][0] = CD1_1), deg / px.
  double cd(int i, int j) const { return cd_[i][j]; }

 private:
  double crpix1_ = 1, crpix2_ = 1, ra0_ = 0, dec0_ = 0;
  double cd_[2][2] = {{1, 0}, {0, 1}}, inv_[2][2] = {{1, 0}, {0, 1}};
};

}  // namespace ds::img
