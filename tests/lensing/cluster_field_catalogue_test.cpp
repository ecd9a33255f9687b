// Shear catalogues read for the maps journey: RA/DEC projected on the tangent plane
// about the sources' mean (checked against the plane the positions were made on),
// safe across RA = 0; X/Y in pixels; flagged and non-finite rows dropped.
#include <doctest/doctest.h>

#include <cmath>

#include "deepshear/engine/fits.hpp"
#include "deepshear/lensing/cluster/field_catalogue.hpp"
#include "test_support.hpp"

using namespace ds::lens;
using ds::fits::TableColumn;

namespace {
constexpr double kRad = M_PI / 180.0, kArcsec = kRad / 3600.0;

// (RA, Dec) [deg] of the point at (xi, eta) [arcsec] on the tangent plane about
// (ra0, dec0) (x east, y north): the inverse gnomonic projection (Snyder 1987, eqs. 20-14, 20-15).
void inverse_gnomonic(double ra0, double dec0, double xi, double eta, double& ra, double& dec) {
  const double x = xi * kArcsec, y = eta * kArcsec, rho = std::hypot(x, y), c = std::atan(rho);
  const double d0 = dec0 * kRad;
  if (rho == 0) {
    ra = ra0, dec = dec0;
    return;
  }
  dec = std::asin(std::cos(c) * std::sin(d0) + y * std::sin(c) * std::cos(d0) / rho) / kRad;
  ra = ra0 + std::atan2(x * std::sin(c), rho * std::cos(d0) * std::cos(c) - y * std::sin(d0) * std::sin(c)) / kRad;
  ra = std::fmod(ra + 360.0, 360.0);
}

struct PlaneField {
  std::vector<double> xi, eta, ra, dec, g1, g2;
};

// An 11 x 11 grid of sources 60" apart (a 10' field) about (ra0, dec0), g1 = i / 1000.
PlaneField plane_field(double ra0, double dec0) {
  PlaneField p;
  for (int iy = -5; iy <= 5; ++iy)
    for (int ix = -5; ix <= 5; ++ix) {
      double ra, dec;
      inverse_gnomonic(ra0, dec0, 60.0 * ix, 60.0 * iy, ra, dec);
      p.xi.push_back(60.0 * ix), p.eta.push_back(60.0 * iy), p.ra.push_back(ra), p.dec.push_back(dec);
      p.g1.push_back(double(p.g1.size()) / 1000.0), p.g2.push_back(-0.01);
    }
  return p;
}

void write_table(const std::string& path, const std::vector<TableColumn>& cols) {
  ds::fits::FitsWriter w(path);
  w.write_table(cols, "SHEAR");
  w.commit();
}

// The largest distance between the read positions and the plane's, after removing their mean offset.
double plane_residual(const FieldCatalogue& c, const PlaneField& p) {
  const auto n = p.xi.size();
  double dx = 0, dy = 0;
  for (std::size_t i = 0; i < n; ++i) dx += c.sources.x[i] - p.xi[i], dy += c.sources.y[i] - p.eta[i];
  dx /= double(n), dy /= double(n);
  double worst = 0;
  for (std::size_t i = 0; i < n; ++i)
    worst = std::max(worst, std::hypot(c.sources.x[i] - p.xi[i] - dx, c.sources.y[i] - p.eta[i] - dy));
  return worst;
}
}  // namespace

TEST_CASE("field catalogue: RA/DEC come back as the tangent plane they were made on, also across RA = 0") {
  ds::test::TempDir tmp;
  for (double ra0 : {150.0, 0.0}) {
    // At Dec 60 a flat-sky (cos dec) projection of this 10' field is off by ~0.4".
    const PlaneField p = plane_field(ra0, 60.0);
    const std::string path = tmp / ("plane" + std::to_string(int(ra0)) + ".fits");
    write_table(path, {TableColumn::doubles("RA", p.ra), TableColumn::doubles("DEC", p.dec),
                       TableColumn::doubles("G1_CNN", p.g1), TableColumn::doubles("G2_CNN", p.g2)});
    const FieldCatalogue c = read_field_catalogue(path, 0.065);
    CAPTURE(ra0);
    REQUIRE(c.sources.size() == long(p.xi.size()));
    CHECK(c.name == "plane" + std::to_string(int(ra0)));
    CHECK(c.sky.present);
    CHECK(c.sky.x_east);
    CHECK(std::abs(ra_difference(c.sky.ra_deg, ra0)) < 1e-9);  // symmetric in RA about ra0
    CHECK(plane_residual(c, p) < 1e-6);
    // The plane's origin is the sources' mean position, so the mean offset is small.
    CHECK(std::abs(c.sources.x[60]) < 1e-6);
    CHECK(c.sources.g1[0][7] == doctest::Approx(0.007));
    CHECK(c.sources.names == std::vector<std::string>{"cnn"});
  }
}

TEST_CASE("field catalogue: the tangent plane is east-positive in x and north-positive in y") {
  SkyReference sky{10.0, -30.0, true, true};
  double x, y;
  sky_offset(sky, 10.0 + 1.0 / 3600.0 / std::cos(-30.0 * kRad), -30.0, x, y);
  CHECK(x == doctest::Approx(1.0).epsilon(1e-6));
  CHECK(std::abs(y) < 1e-5);  // a parallel is curved on the plane: y = O(x^2 tan dec0)
  sky_offset(sky, 10.0, -30.0 + 2.0 / 3600.0, x, y);
  CHECK(std::abs(x) < 1e-9);
  CHECK(y == doctest::Approx(2.0).epsilon(1e-6));
  sky.x_east = false;
  sky_offset(sky, 10.0 + 1.0 / 3600.0 / std::cos(-30.0 * kRad), -30.0, x, y);
  CHECK(x == doctest::Approx(-1.0).epsilon(1e-6));
  CHECK(ra_difference(359.5, 0.5) == doctest::Approx(-1.0));
  CHECK(ra_difference(0.5, 359.5) == doctest::Approx(1.0));
}

TEST_CASE("field catalogue: X/Y in pixels; flagged or non-finite rows dropped; errors name the file") {
  ds::test::TempDir tmp;
  std::vector<double> x, y, g1, g2, h1, h2;
  std::vector<std::int32_t> flags;
  for (int i = 0; i < 14; ++i) {
    x.push_back(10.0 * i), y.push_back(5.0 * i), g1.push_back(0.01 * i), g2.push_back(0.02), h1.push_back(0.03);
    h2.push_back(i == 3 ? std::nan("") : 0.04);  // row 3: not finite in RRG
    flags.push_back(i == 5 ? 4 : 0);             // row 5: flagged by CNN
  }
  const std::string path = tmp / "xy.fits";
  write_table(path, {TableColumn::doubles("X", x), TableColumn::doubles("Y", y), TableColumn::doubles("G1_CNN", g1),
                     TableColumn::doubles("G2_CNN", g2), TableColumn::int32s("FLAGS_CNN", flags),
                     TableColumn::doubles("G1_RRG", h1), TableColumn::doubles("G2_RRG", h2)});
  const FieldCatalogue c = read_field_catalogue(path, 0.5);
  CHECK_FALSE(c.sky.present);
  REQUIRE(c.sources.size() == 12);
  CHECK(c.sources.names == std::vector<std::string>{"cnn", "rrg"});
  CHECK(c.sources.x[3] == doctest::Approx(20.0));  // row 4: 40 px * 0.5
  CHECK(c.sources.y[4] == doctest::Approx(15.0));  // row 6: 30 px * 0.5
  CHECK(c.sources.g1[0][4] == doctest::Approx(0.06));

  const std::string bare = tmp / "bare.fits";
  write_table(bare, {TableColumn::doubles("X", x), TableColumn::doubles("Y", y)});
  CHECK(ds::test::error_of([&] { read_field_catalogue(bare, 1); }).find("bare.fits") != std::string::npos);
  const std::string nopos = tmp / "nopos.fits";
  write_table(nopos, {TableColumn::doubles("G1_CNN", g1), TableColumn::doubles("G2_CNN", g2)});
  CHECK(ds::test::error_of([&] { read_field_catalogue(nopos, 1); }).find("nopos.fits") != std::string::npos);
  const std::string few = tmp / "few.fits";
  write_table(few, {TableColumn::doubles("X", {1, 2, 3}), TableColumn::doubles("Y", {1, 2, 3}),
                    TableColumn::doubles("G1_CNN", {0, 0, 0}), TableColumn::doubles("G2_CNN", {0, 0, 0})});
  CHECK(ds::test::error_of([&] { read_field_catalogue(few, 1); }).find("few.fits: fewer than 10") != std::string::npos);
}
