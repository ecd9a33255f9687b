// TAN world coordinates against spherical trigonometry done here, and read
// from a header with a CD matrix or CDELT + PC.
#include <doctest/doctest.h>

#include <cmath>

#include "deepshear/engine/fits.hpp"
#include "deepshear/imaging/wcs.hpp"
#include "test_support.hpp"

using ds::img::TanWcs;

namespace {
// Angular distance (deg) between two sky positions (haversine).
double separation(double ra1, double dec1, double ra2, double dec2) {
  const double k = M_PI / 180;
  double a = std::sin((dec2 - dec1) * k / 2), b = std::sin((ra2 - ra1) * k / 2);
  return 2 * std::asin(std::sqrt(a * a + std::cos(dec1 * k) * std::cos(dec2 * k) * b * b)) / k;
}
}  // namespace

TEST_CASE("TAN: the reference pixel maps to CRVAL, distances follow the gnomonic projection, round trip") {
  // HST-like: 0.065"/px, north up, east left (CD1_1 < 0), at Dec 60 deg.
  const double s = 0.065 / 3600;
  TanWcs w(1000.5, 800.5, 150.1, 60.0, -s, 0, 0, s);
  double ra, dec;
  w.pixel_to_world(999.5, 799.5, ra, dec);  // 0-based = CRPIX - 1
  CHECK(ra == doctest::Approx(150.1).epsilon(1e-12));
  CHECK(dec == doctest::Approx(60.0).epsilon(1e-12));
  CHECK(w.pixel_scale() == doctest::Approx(0.065));
  // A pixel r px from the reference lies at angle atan(r s) from it on the sky.
  for (auto [dx, dy] : {std::pair<double, double>{3000, 0}, {0, -2500}, {1500, 1700}}) {
    w.pixel_to_world(999.5 + dx, 799.5 + dy, ra, dec);
    double r = std::hypot(dx, dy) * s * M_PI / 180;
    CHECK(separation(150.1, 60.0, ra, dec) == doctest::Approx(std::atan(r) * 180 / M_PI).epsilon(1e-9));
    double x, y;
    w.world_to_pixel(ra, dec, x, y);
    CHECK(x == doctest::Approx(999.5 + dx).epsilon(1e-9));
    CHECK(y == doctest::Approx(799.5 + dy).epsilon(1e-9));
  }
  // East is to the left: increasing x decreases RA.
  w.pixel_to_world(1100, 799.5, ra, dec);
  CHECK(ra < 150.1);
}

TEST_CASE("TAN from a header: CD matrix and CDELT + PC give the same mapping; other projections are refused") {
  ds::test::TempDir tmp;
  const double s = 0.03 / 3600, th = 0.3;
  auto write = [&](const std::string& path, bool cd, const char* ctype = "RA---TAN") {
    ds::fits::FitsWriter wr(path);
    ds::ImageF img(10, 10);
    wr.write_image(img, ds::fits::PixelType::Float32);
    wr.write_key("CTYPE1", ctype), wr.write_key("CTYPE2", "DEC--TAN");
    wr.write_key("CRPIX1", 5.0), wr.write_key("CRPIX2", 6.0);
    wr.write_key("CRVAL1", 10.0), wr.write_key("CRVAL2", -30.0);
    if (cd) {
      wr.write_key("CD1_1", -s * std::cos(th)), wr.write_key("CD1_2", s * std::sin(th));
      wr.write_key("CD2_1", s * std::sin(th)), wr.write_key("CD2_2", s * std::cos(th));
    } else {
      wr.write_key("CDELT1", -s), wr.write_key("CDELT2", s);
      wr.write_key("PC1_1", std::cos(th)), wr.write_key("PC1_2", -std::sin(th));
      wr.write_key("PC2_1", std::sin(th)), wr.write_key("PC2_2", std::cos(th));
    }
    wr.commit();
  };
  write(tmp / "cd.fits", true);
  write(tmp / "pc.fits", false);
  write(tmp / "sin.fits", true, "RA---SIN");
  auto a = TanWcs::from_header(ds::fits::FitsFile(tmp / "cd.fits"));
  auto b = TanWcs::from_header(ds::fits::FitsFile(tmp / "pc.fits"));
  double ra1, dec1, ra2, dec2;
  a.pixel_to_world(200, -50, ra1, dec1);
  b.pixel_to_world(200, -50, ra2, dec2);
  CHECK(ra1 == doctest::Approx(ra2).epsilon(1e-12));
  CHECK(dec1 == doctest::Approx(dec2).epsilon(1e-12));
  CHECK_THROWS_WITH_AS(TanWcs::from_header(ds::fits::FitsFile(tmp / "sin.fits")), doctest::Contains("RA---SIN"),
                       ds::Error);
}
