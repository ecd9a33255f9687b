// Galaxy sources (real-galaxy catalogues, the parametric model) and the stamp
// pipeline; the render command (simulate: tests/lensing/simulate_test.cpp).
#include <cmath>
#include <set>

#include "deepshear/engine/fits.hpp"
#include "deepshear/imaging/draw.hpp"
#include "deepshear/imaging/galaxy.hpp"
#include "deepshear/imaging/moments.hpp"
#include "deepshear/imaging/real_galaxy_catalog.hpp"
#include "test_support.hpp"

using namespace ds::img;

TEST_CASE("render: every BlendingToolKit COSMOS galaxy renders with finite pixels and its flux") {
  DS_REQUIRE_SHARED(path, "BlendingToolKit/data/cosmos/real_galaxy_catalog_26_extension_example.fits");
  auto cat = std::make_shared<RealGalaxyCatalog>(RealGalaxyCatalog::load(path));
  REQUIRE(cat->size() == 100);
  RealGalaxySource src(cat);
  long checked = 0;
  for (std::size_t i = 0; i < cat->size(); ++i) {
    const ds::ImageD& g = cat->galaxy_image(i);
    const double flux = g.sum();  // the profile's flux: pixel sum, PSF normalised to 1
    auto p = src.profile(i);
    CHECK(p->flux() == doctest::Approx(flux).epsilon(1e-9));
    // A stamp large enough to hold the whole galaxy stamp at 0.065"/px.
    long n = 2 * long(std::ceil(0.5 * std::max(g.nx(), g.ny()) * 0.03 / 0.065)) + 16;
    auto img = draw_image(*convolve({p, gaussian_fwhm(0.12)}), n, n, DrawOptions{0.065, 0, 0});
    bool finite = true;
    for (double v : img) finite = finite && std::isfinite(v);
    INFO("row " << i << " IDENT " << cat->row(i).ident << " flux " << flux << " stamp sum " << img.sum());
    CHECK(finite);
    // Flux is F(0) of the reconvolved profile; the stamp loses only what folds beyond it.
    CHECK(std::abs(img.sum() - flux) < 0.01 * std::abs(flux) + 0.02);
    ++checked;
  }
  CHECK(checked == 100);
}

TEST_CASE("render: the parametric population is reproducible and within its documented ranges") {
  ParametricPopulation pop;
  std::set<double> mags;
  for (std::uint64_t i = 0; i < 300; ++i) {
    double m = 0, rh = 0, m2 = 0, rh2 = 0;
    ParametricGalaxy g = pop.draw(11, i, &m, &rh);
    ParametricGalaxy h = pop.draw(11, i, &m2, &rh2);
    CHECK(m == m2);
    CHECK(g.knot_x == h.knot_x);
    CHECK(m >= 20);
    CHECK(m <= 27);
    CHECK(rh >= 0.05);
    CHECK(rh <= 1.0);
    CHECK(g.flux == doctest::Approx(std::pow(10.0, -0.4 * (m - 25.419))).epsilon(1e-12));
    CHECK(g.bulge_fraction >= 0);
    CHECK(g.bulge_fraction <= 1);
    CHECK(g.disk_q() <= 1);
    CHECK(g.disk_q() >= 0.15 - 1e-12);
    mags.insert(m);
  }
  CHECK(mags.size() == 300);
  // Counts rise toward faint magnitudes (slope 0.3): more galaxies in [26, 27] than in [20, 21].
  int faint = 0, bright = 0;
  for (double m : mags) {
    faint += m > 26;
    bright += m < 21;
  }
  CHECK(faint > 3 * bright);
}

TEST_CASE("render: a parametric galaxy keeps its flux and has light beyond the quadrupole") {
  ParametricPopulation pop;
  for (std::uint64_t i = 0; i < 5; ++i) {
    ParametricGalaxy g = pop.draw(3, i);
    g.flux = 10;
    g.knot_fraction = 0.4;
    auto p = g.profile();
    CHECK(p->flux() == doctest::Approx(10).epsilon(1e-12));
    auto img = draw_image(*convolve({p, gaussian_fwhm(0.12)}), 128, 128, DrawOptions{0.065, 0, 0});
    CHECK(img.sum() == doctest::Approx(10).epsilon(5e-3));
    // Knots and offsets break the 180-degree symmetry that a bulge+disk alone has.
    double asym = 0, tot = 0;
    for (long y = 0; y < 128; ++y)
      for (long x = 0; x < 128; ++x) {
        asym += std::abs(img(y, x) - img(127 - y, 127 - x));
        tot += std::abs(img(y, x));
      }
    CHECK(asym / tot > 0.01);
  }
}

TEST_CASE("render: the parametric twin of a COSMOS galaxy has the fitted flux") {
  DS_REQUIRE_SHARED(path, "galsim-testdata/examples/data/real_galaxy_catalog_23.5_example_fits.fits");
  // The example catalogue has no galaxy images here; read the _fits companion directly.
  ds::fits::FitsFile f(path);
  f.hdu(1);
  auto flux = f.read_vector_column("flux");
  auto use_bd = f.read_column("use_bulgefit");
  auto bfit = f.read_vector_column("bulgefit");
  auto sfit = f.read_vector_column("sersicfit");
  for (long i = 0; i < 10; ++i) {
    RealGalaxyRow row;
    row.has_fits = true;
    row.pixel_scale = 0.03;
    row.use_bulgefit = use_bd[std::size_t(i)] == 1;
    for (int k = 0; k < 4; ++k) row.flux[std::size_t(k)] = flux(i, k);
    for (int k = 0; k < 16; ++k) row.bulgefit[std::size_t(k)] = bfit(i, k);
    for (int k = 0; k < 8; ++k) row.sersicfit[std::size_t(k)] = sfit(i, k);
    auto g = parametric_from_fits(row);
    double expect = row.use_bulgefit ? flux(i, 1) + flux(i, 2) : flux(i, 0);
    CHECK(g.profile()->flux() == doctest::Approx(expect).epsilon(1e-12));
  }
}

TEST_CASE("render: the stamp pipeline applies the real-galaxy cut-off and flux factor, and noise by stamp index") {
  StampSetup setup;
  RealGalaxyTreatment rt;
  TransformChain t;
  t.g1 = 0.1;
  auto gal = exponential_hlr(0.4, 200.0);
  ds::ImageF a(32, 32), b(32, 32), clean(32, 32);
  render_stamp(gal, t, setup, 0.2, -0.1, clean.view(), &rt);
  long zeros = 0;
  for (float v : clean) {
    CHECK((v == 0.0f || v >= float(rt.cutoff * rt.flux_factor) * 0.999f));
    zeros += v == 0.0f;
  }
  CHECK(zeros > 0);
  CHECK(zeros < 32 * 32);
  NoiseKernel k = NoiseKernel::white(0.01);
  ds::RandomStream r1(5, "noise", 17), r2(5, "noise", 17), r3(5, "noise", 18);
  render_stamp(gal, t, setup, 0.2, -0.1, a.view(), &rt, &k, &r1);
  render_stamp(gal, t, setup, 0.2, -0.1, b.view(), &rt, &k, &r2);
  for (long i = 0; i < a.size(); ++i) CHECK(a.data()[i] == b.data()[i]);
  render_stamp(gal, t, setup, 0.2, -0.1, b.view(), &rt, &k, &r3);
  double diff = 0;
  for (long i = 0; i < a.size(); ++i) diff += std::abs(a.data()[i] - b.data()[i]);
  CHECK(diff > 0);
  // The kept 32x32 is the centre of the 64x64 render (same centre convention).
  ds::ImageF full(64, 64);
  StampSetup s64 = setup;
  s64.stamp_size = 64;
  render_stamp(gal, t, s64, 0.2, -0.1, full.view());
  render_stamp(gal, t, setup, 0.2, -0.1, a.view());
  for (long y = 0; y < 32; ++y)
    for (long x = 0; x < 32; ++x) CHECK(a(y, x) == full(y + 16, x + 16));
}

TEST_CASE("render: deepshear render writes the stamp that the library draws") {
  ds::test::TempDir tmp;
  auto res = ds::test::run_cli("render --galaxy=gaussian --sigma=0.1 --flux=3 --g1=0.1 --lens-g1=0.05 --lens-g2=-0.03 "
                               "--psf-fwhm=0.12 --nx=32 --ny=32 --offset-x=0.3 --quiet --out " + tmp / "a.fits");
  INFO(res.err);
  REQUIRE(res.exit_code == 0);
  ds::fits::FitsFile f(tmp / "a.fits");
  auto img = f.read_image<double>();
  TransformChain t;
  t.g1 = 0.05;
  t.g2 = -0.03;
  auto p = convolve({apply_chain(sheared(gaussian(0.1, 3), 0.1, 0), t), gaussian_fwhm(0.12)});
  auto ref = draw_image(*p, 32, 32, DrawOptions{0.065, 0.3, 0});
  double err = 0;
  for (long i = 0; i < img.size(); ++i) err = std::max(err, std::abs(img.data()[i] - ref.data()[i]));
  CHECK(err < 1e-6);
  // JSON with an ordered transform list gives the same stamp.
  ds::write_text_atomic(tmp / "s.json",
                        R"({"galaxy": {"kind": "gaussian", "sigma": 0.1, "flux": 3, "g1": 0.1},
                            "transforms": [{"lens": [0.05, -0.03, 1.0]}],
                            "psf": {"kind": "gaussian", "fwhm": 0.12}, "nx": 32, "ny": 32, "offset": [0.3, 0]})");
  res = ds::test::run_cli("render --quiet --json " + tmp / "s.json" + " --out " + tmp / "b.fits");
  REQUIRE(res.exit_code == 0);
  ds::fits::FitsFile g(tmp / "b.fits");
  auto img2 = g.read_image<double>();
  for (long i = 0; i < img.size(); ++i) CHECK(img2.data()[i] == img.data()[i]);
  // A real galaxy from a catalogue, by row.
  const std::string btk = ds::test::shared_file("BlendingToolKit/data/cosmos/real_galaxy_catalog_26_extension_example.fits");
  if (!btk.empty()) {
    res = ds::test::run_cli("render --quiet --galaxy=real --catalog=" + btk + " --index=3 --nx=96 --ny=96 --out " +
                            tmp / "r.fits");
    INFO(res.err);
    REQUIRE(res.exit_code == 0);
    auto cat = RealGalaxyCatalog::load(btk);
    ds::fits::FitsFile rf(tmp / "r.fits");
    auto rimg = rf.read_image<double>();
    CHECK(rimg.sum() == doctest::Approx(cat.galaxy_image(3).sum()).epsilon(0.01));
    res = ds::test::run_cli("render --quiet --galaxy=real --catalog=" + btk + " --index=100 --out " + tmp / "r2.fits");
    CHECK(res.exit_code != 0);
    CHECK(res.err.find("index 100") != std::string::npos);
  }
  // Errors name what is wrong.
  res = ds::test::run_cli("render --galaxy=blob --out " + tmp / "c.fits");
  CHECK(res.exit_code != 0);
  CHECK(res.err.find("blob") != std::string::npos);
}

TEST_CASE("render: the 64x64 periodic render of the pipeline matches an unrestricted draw in the kept 32x32") {
  // The pipeline caps the FFT at its 64 px render; light beyond folds periodically.
  // Against GalSim's sizing (FFT from stepk, minimum 128) the kept centre agrees to 5e-5 of the peak.
  ParametricPopulation pop;
  StampSetup setup;
  for (std::uint64_t i = 0; i < 6; ++i) {
    auto g = pop.draw(21, i).profile();
    TransformChain t;
    t.g1 = 0.1;
    t.rotation = 0.3 * double(i);
    ds::ImageF a(32, 32);
    render_stamp(g, t, setup, 0.25, -0.4, a.view());
    DrawOptions o{0.065, 0.25, -0.4};
    o.min_fft = 128;
    auto b = draw_image(*convolve({apply_chain(g, t), gaussian_fwhm(0.12)}), 32, 32, o);
    double peak = 0, err = 0;
    for (long k = 0; k < b.size(); ++k) {
      peak = std::max(peak, b.data()[k]);
      err = std::max(err, std::abs(double(a.data()[k]) - b.data()[k]));
    }
    INFO("galaxy " << i << " err/peak " << err / peak);
    CHECK(err < 5e-5 * peak);
  }
}
