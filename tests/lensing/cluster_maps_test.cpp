// Gridded shear maps and their pictures.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "deepshear/engine/fits.hpp"
#include "deepshear/engine/atomic_file.hpp"
#include "deepshear/engine/tensor.hpp"
#include "deepshear/imaging/wcs.hpp"
#include "deepshear/lensing/cluster/kaiser_squires.hpp"
#include "deepshear/lensing/cluster/maps.hpp"
#include "deepshear/lensing/cluster/maps_fits.hpp"
#include "deepshear/lensing/cluster/mock_field.hpp"
#include "deepshear/lensing/cluster/pictures.hpp"
#include "deepshear/lensing/cluster/source_error.hpp"
#include "test_support.hpp"

using namespace ds::lens;

namespace {
// RA, Dec [deg] of the point (x, y) arcsec (x east, y north) on the tangent plane about
// (ra0, dec0): the inverse gnomonic projection (Calabretta & Greisen 2002, eq. 5 with
// phi, theta written out), by hand rather than through the WCS code under test.
void plane_to_sky(double x, double y, double ra0, double dec0, double& ra, double& dec) {
  const double k = M_PI / 180.0, xi = x / 3600.0 * k, eta = y / 3600.0 * k, d0 = dec0 * k;
  const double den = std::cos(d0) - eta * std::sin(d0);
  ra = ra0 + std::atan2(xi, den) / k;
  dec = std::atan2(std::sin(d0) + eta * std::cos(d0), std::hypot(xi, den)) / k;
}

// The 80-character header card of `key` in the first HDU after `from` in a FITS file's
// bytes ("" if none).
std::string card(const std::string& bytes, const std::string& key, std::size_t from = 0) {
  for (std::size_t i = from - from % 80; i + 80 <= bytes.size(); i += 80)
    if (bytes.compare(i, key.size(), key) == 0 && bytes[i + key.size()] == ' ') return bytes.substr(i, 80);
  return "";
}
}  // namespace

TEST_CASE("cluster maps: a constant field maps to itself where valid, NaN where masked") {
  auto m = mock_field(300, 200, 150, [](double, double) { return Complex(-0.04, 0.07); },
                      {{"rrg", 0.0}, {"cnn", 0.0}}, 2);
  ShearMaps maps = shear_maps(m.sources, 5, 100, {}, 20, 1);
  const auto [xlo, xhi] = std::minmax_element(m.sources.x.begin(), m.sources.x.end());
  CHECK(maps.grid.nx == long(std::floor((*xhi - *xlo + 200) / 5)) + 1);
  CHECK(maps.grid.x0 == doctest::Approx(*xlo - 100));
  long valid = 0, masked = 0;
  for (long iy = 0; iy < maps.grid.ny; ++iy)
    for (long ix = 0; ix < maps.grid.nx; ++ix) {
      const bool ok = maps.mask(iy, ix) > 0.5;
      CHECK(ok == (maps.neff(iy, ix) >= 5));
      if (ok) {
        ++valid;
        CHECK(maps.g1[1](iy, ix) == doctest::Approx(-0.04).epsilon(1e-12));
        CHECK(maps.g2[0](iy, ix) == doctest::Approx(0.07).epsilon(1e-12));
        CHECK(maps.sigma1[0](iy, ix) < 1e-12);
      } else {
        ++masked;
        CHECK(std::isnan(maps.g1[0](iy, ix)));
      }
    }
  CHECK(valid > 0);
  CHECK(masked > 0);  // the padding reaches beyond the sources
}

TEST_CASE("cluster maps: whisker, component, sigma-vs-lambda and calibration pictures are written") {
  auto shear = tangential_shear_field(120, 120, [](double r) { return 0.1 * 40 / (r + 20); });
  auto m = mock_field(500, 240, 240, shear, {{"rrg", 0.28}, {"cnn", 0.22}}, 6);
  ShearMaps maps = shear_maps(m.sources, 6, 10, {}, 20, 1);
  // The bootstrap correlation of an estimator with itself is 1.
  CHECK(maps.corr1[0](maps.grid.ny / 2, maps.grid.nx / 2) == doctest::Approx(1.0));
  SourceErrorOptions o;
  o.lambdas = {15, 30};
  o.nsplit = 2;
  o.nboot = 10;
  SourceErrors se = source_errors({m.sources}, o);
  auto samples = sample_field_pairs(m.sources, "rrg", "cnn", {}, 20);
  LineFit fit = fit_line_eiv(samples[0]);
  ds::test::TempDir dir;
  plot_whisker_map(maps, 1, dir / "whiskers.svg");
  plot_component_maps(maps, dir / "components.png");
  plot_sigma_vs_lambda(se, dir / "sigma.svg");
  plot_calibration_samples(samples[0], fit, dir / "calibration.svg");
  for (const char* f : {"whiskers.svg", "components.png", "sigma.svg", "calibration.svg"}) {
    INFO(f);
    CHECK(std::filesystem::file_size(dir / f) > 2000);
  }
  std::ifstream in(dir / "whiskers.svg");
  std::stringstream ss;
  ss << in.rdbuf();
  CHECK(ss.str().find("<svg") != std::string::npos);
  CHECK_THROWS_AS(plot_whisker_map(maps, 2, dir / "x.svg"), ds::Error);
}

TEST_CASE("cluster maps: FITS cubes carry the maps and a WCS that maps pixels to sky offsets") {
  auto m = mock_field(200, 150, 100, [](double, double) { return Complex(0.02, 0.05); }, {{"cnn", 0.1}}, 4);
  ShearMaps maps = shear_maps(m.sources, 5, 10, {}, 10, 1);
  ds::test::TempDir dir;
  write_maps_fits(maps, dir / "maps.fits", {150.0, 2.0, false, true});
  ds::fits::FitsFile f(dir / "maps.fits");
  f.hdu("cnn");
  ds::Tensor c = f.read_cube();
  REQUIRE(c.dim(0) == 4);
  CHECK(c.dim(1) == maps.grid.ny);
  CHECK(c.dim(2) == maps.grid.nx);
  const long iy = maps.grid.ny / 2, ix = maps.grid.nx / 2, n = maps.grid.size();
  CHECK(c.data()[n + iy * maps.grid.nx + ix] == doctest::Approx(maps.g2[0](iy, ix)).epsilon(1e-6));
  // Pixel (ix + 1, iy + 1) lies at x = x0 + ix * step arcsec; with x towards west,
  // RA = 150 - x / 3600 (to first order near the reference).
  const double crpix1 = f.key_double("CRPIX1"), cdelt1 = f.key_double("CDELT1");
  CHECK((double(ix + 1) - crpix1) * cdelt1 * 3600 == doctest::Approx(-(maps.grid.x0 + double(ix) * maps.grid.step)));
  CHECK(f.key_string("CTYPE1") == "RA---TAN");
  CHECK(f.key_double("LAMBDA") == doctest::Approx(19.5));
}

TEST_CASE("cluster maps: with the sky known the shear cube and the convergence share one celestial WCS, east left") {
  auto m = mock_field(300, 180, 120, [](double, double) { return Complex(0.02, 0.05); }, {{"cnn", 0.1}}, 4);
  ShearMaps maps = shear_maps(m.sources, 6, 20, {}, 10, 1);
  const ConvergenceMap kappa = convergence_map(maps, 0);
  const SkyReference sky{150.1, 2.2, true, true};  // x grows east
  ds::test::TempDir dir;
  write_maps_fits(maps, dir / "maps.fits", sky);
  write_convergence_fits(kappa, maps.grid, "cnn", 19.5, dir / "kappa.fits", sky);
  const Grid& g = maps.grid;
  const long ix = g.nx / 3, iy = g.ny / 2;  // a valid point off the reference pixel
  REQUIRE(maps.mask(iy, ix) > 0.5);
  double ra = 0, dec = 0;
  plane_to_sky(g.x0 + double(ix) * g.step, g.y0 + double(iy) * g.step, sky.ra_deg, sky.dec_deg, ra, dec);
  // East to the left: grid column ix is FITS column nx - ix (0-based nx - 1 - ix).
  const long px = g.nx - 1 - ix;
  for (const auto& [file, hdu] : std::vector<std::pair<std::string, std::string>>{
           {"maps.fits", "NEFF"}, {"maps.fits", "cnn"}, {"kappa.fits", "KAPPA_E"}, {"kappa.fits", "KAPPA_B"}}) {
    INFO(file << " " << hdu);
    ds::fits::FitsFile f(dir / file);
    f.hdu(hdu);
    const ds::img::TanWcs wcs = ds::img::TanWcs::from_header(f);
    double r = 0, d = 0;
    wcs.pixel_to_world(double(px), double(iy), r, d);
    CHECK(r == doctest::Approx(ra).epsilon(1e-11));
    CHECK(d == doctest::Approx(dec).epsilon(1e-11));
    double r_left = 0, r_right = 0;
    wcs.pixel_to_world(0, double(iy), r_left, d), wcs.pixel_to_world(double(g.nx - 1), double(iy), r_right, d);
    CHECK(r_left > r_right);
    CHECK(f.key_double("CDELT1") < 0);
    CHECK(f.key_double("CDELT2") == doctest::Approx(g.step / 3600));
    CHECK(f.key_string("CUNIT1") == "deg");
    CHECK(f.key_string("RADESYS") == "ICRS");
    CHECK(f.key_double("EQUINOX") == 2000.0);
    CHECK(f.has_key("BUNIT"));
  }
  ds::fits::FitsFile f(dir / "maps.fits");
  f.hdu("cnn");
  const ds::Tensor c = f.read_cube();
  CHECK(c.data()[iy * g.nx + px] == doctest::Approx(maps.g1[0](iy, ix)).epsilon(1e-6));
  CHECK(c.data()[3 * g.size() + iy * g.nx + px] == doctest::Approx(maps.sigma2[0](iy, ix)).epsilon(1e-6));
  ds::fits::FitsFile k(dir / "kappa.fits");
  k.hdu("KAPPA_E");
  CHECK(k.read_image<float>()(iy, px) == doctest::Approx(kappa.kappa_e(iy, ix)).epsilon(1e-6));
  // BUNIT says in its comment that shear and convergence are pure numbers.
  const std::string maps_bytes = ds::read_text_file(dir / "maps.fits"), kappa_bytes = ds::read_text_file(dir / "kappa.fits");
  CHECK(card(maps_bytes, "BUNIT").find("dimensionless") != std::string::npos);
  CHECK(card(maps_bytes, "BUNIT", maps_bytes.find("EXTNAME = 'cnn")).find("reduced shear") != std::string::npos);
  CHECK(card(kappa_bytes, "BUNIT").find("convergence") != std::string::npos);
  CHECK(card(kappa_bytes, "CRVAL1").find("reference pixel") != std::string::npos);
}

TEST_CASE("cluster maps: the maps and convergence FITS pass fitsverify (skipped without it)") {
  if (std::system("command -v fitsverify > /dev/null 2>&1") != 0) {
    MESSAGE("fitsverify is not on PATH: skipped");
    return;
  }
  auto m = mock_field(200, 150, 100, [](double, double) { return Complex(0.02, 0.05); }, {{"cnn", 0.1}}, 4);
  ShearMaps maps = shear_maps(m.sources, 6, 10, {}, 10, 1);
  ds::test::TempDir dir;
  write_maps_fits(maps, dir / "sky.fits", {150.1, 2.2, true, true});
  write_maps_fits(maps, dir / "plane.fits");
  write_convergence_fits(convergence_map(maps, 0), maps.grid, "cnn", 19.5, dir / "kappa.fits", {150.1, 2.2, true, true});
  for (const char* name : {"sky.fits", "plane.fits", "kappa.fits"}) {
    INFO(name);
    const std::string cmd = "fitsverify -q '" + (dir / name) + "' > '" + (dir / "verify.txt") + "' 2>&1";
    const int rc = std::system(cmd.c_str());
    const std::string out = ds::read_text_file(dir / "verify.txt");
    INFO(out);
    CHECK(rc == 0);
    CHECK(out.find("verification OK") != std::string::npos);
  }
}
