#include "deepshear/imaging/wcs.hpp"

#include <cmath>

#include "deepshear/engine/constants.hpp"
#include "deepshear/engine/error.hpp"

namespace ds::img {

namespace {
constexpr double kDeg = kPi / 180.0;
}

TanWcs::TanWcs(double crpix1, double crpix2, double ra0, double dec0, double cd11, double cd12, double cd21,
               double cd22)
    : crpix1_(crpix1), crpix2_(crpix2), ra0_(ra0), dec0_(dec0) {
  cd_[0][0] = cd11, cd_[0][1] = cd12, cd_[1][0] = cd21, cd_[1][1] = cd22;
  double det = cd11 * cd22 - cd12 * cd21;
  require(det != 0 && std::isfinite(det), "WCS: the CD matrix is singular");
  inv_[0][0] = cd22 / det, inv_[0][1] = -cd12 / det, inv_[1][0] = -cd21 / det, inv_[1][1] = cd11 / det;
}

TanWcs TanWcs::from_header(const fits::FitsFile& f) {
  if (!f.has_key("CTYPE1") || !f.has_key("CTYPE2"))
    throw Error(f.where() + ": no celestial WCS (no CTYPE1/CTYPE2): the image needs a RA---TAN/DEC--TAN WCS "
                "(CTYPE, CRVAL, CRPIX and CD or CDELT cards)");
  auto ctype1 = f.key_string("CTYPE1"), ctype2 = f.key_string("CTYPE2");
  if (ctype1.rfind("RA---TAN", 0) != 0 || ctype2.rfind("DEC--TAN", 0) != 0)
    throw Error(f.where() + ": key 'CTYPE1'/'CTYPE2' is '" + ctype1 + "'/'" + ctype2 +
                "', only the TAN projection (RA---TAN, DEC--TAN) is supported");
  double cd11, cd12, cd21, cd22;
  if (f.has_key("CD1_1")) {
    cd11 = f.key_double("CD1_1");
    cd12 = f.key_double_opt("CD1_2").value_or(0);
    cd21 = f.key_double_opt("CD2_1").value_or(0);
    cd22 = f.key_double("CD2_2");
  } else {
    double d1 = f.key_double("CDELT1"), d2 = f.key_double("CDELT2");
    double p11 = f.key_double_opt("PC1_1").value_or(1), p12 = f.key_double_opt("PC1_2").value_or(0);
    double p21 = f.key_double_opt("PC2_1").value_or(0), p22 = f.key_double_opt("PC2_2").value_or(1);
    cd11 = d1 * p11, cd12 = d1 * p12, cd21 = d2 * p21, cd22 = d2 * p22;
  }
  return TanWcs(f.key_double("CRPIX1"), f.key_double("CRPIX2"), f.key_double("CRVAL1"), f.key_double("CRVAL2"), cd11,
                cd12, cd21, cd22);
}

void TanWcs::write_header(fits::FitsWriter& w) const {
  w.write_key("CTYPE1", "RA---TAN", "gnomonic projection");
  w.write_key("CTYPE2", "DEC--TAN", "gnomonic projection");
  w.write_key("CRPIX1", crpix1_, "reference pixel (1-based)");
  w.write_key("CRPIX2", crpix2_, "reference pixel (1-based)");
  w.write_key("CRVAL1", ra0_, "RA of the reference pixel [deg]");
  w.write_key("CRVAL2", dec0_, "Dec of the reference pixel [deg]");
  w.write_key("CD1_1", cd_[0][0], "deg / px");
  w.write_key("CD1_2", cd_[0][1], "deg / px");
  w.write_key("CD2_1", cd_[1][0], "deg / px");
  w.write_key("CD2_2", cd_[1][1], "deg / px");
  w.write_key("CUNIT1", "deg");
  w.write_key("CUNIT2", "deg");
}

void TanWcs::pixel_to_world(double x, double y, double& ra, double& dec) const {
  // Intermediate world coordinates (deg) from 1-based pixel offsets.
  const double dx = x + 1 - crpix1_, dy = y + 1 - crpix2_;
  const double xi = (cd_[0][0] * dx + cd_[0][1] * dy) * kDeg, eta = (cd_[1][0] * dx + cd_[1][1] * dy) * kDeg;
  // Inverse gnomonic projection about (ra0, dec0).
  const double d0 = dec0_ * kDeg, cd0 = std::cos(d0), sd0 = std::sin(d0);
  const double denom = cd0 - eta * sd0;
  const double a = std::atan2(xi, denom);
  ra = ra0_ + a / kDeg;
  dec = std::atan2((sd0 + eta * cd0) * std::cos(a), denom) / kDeg;
  ra = std::fmod(ra + 360.0, 360.0);
}

void TanWcs::world_to_pixel(double ra, double dec, double& x, double& y) const {
  const double d0 = dec0_ * kDeg, d = dec * kDeg, da = (ra - ra0_) * kDeg;
  const double cosc = std::sin(d0) * std::sin(d) + std::cos(d0) * std::cos(d) * std::cos(da);
  require(cosc > 0, "WCS: the position is more than 90 degrees from the tangent point");
  const double xi = std::cos(d) * std::sin(da) / cosc / kDeg;
  const double eta = (std::cos(d0) * std::sin(d) - std::sin(d0) * std::cos(d) * std::cos(da)) / cosc / kDeg;
  x = inv_[0][0] * xi + inv_[0][1] * eta + crpix1_ - 1;
  y = inv_[1][0] * xi + inv_[1][1] * eta + crpix2_ - 1;
}

double TanWcs::pixel_scale() const {
  return std::sqrt(std::abs(cd_[0][0] * cd_[1][1] - cd_[0][1] * cd_[1][0])) * 3600.0;
}

}  // namespace ds::img
