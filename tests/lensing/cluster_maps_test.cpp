// Gridded shear maps and their pictures.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "deepshear/engine/fits.hpp"
#include "deepshear/engine/tensor.hpp"
#include "deepshear/lensing/cluster/maps.hpp"
#include "deepshear/lensing/cluster/maps_fits.hpp"
#include "deepshear/lensing/cluster/mock_field.hpp"
#include "deepshear/lensing/cluster/pictures.hpp"
#include "deepshear/lensing/cluster/source_error.hpp"
#include "test_support.hpp"

using namespace ds::lens;

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
