// The maps journey as a library call: profile centre and bins, the NFW fit's bin
// filter, the typed report and its JSON, and the convergence FITS with its linear WCS.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "deepshear/engine/atomic_file.hpp"
#include "deepshear/engine/config.hpp"
#include "deepshear/engine/fits.hpp"
#include "deepshear/lensing/cluster/maps_folder.hpp"
#include "deepshear/lensing/cluster/maps_run.hpp"
#include "deepshear/lensing/cluster/mock_field.hpp"
#include "test_support.hpp"

using namespace ds::lens;

namespace {
// Two mock fields of a tangential shear about (120, 120) arcsec, CNN-like and RRG-like noise.
std::vector<FieldCatalogue> mock_fields() {
  std::vector<FieldCatalogue> out;
  for (int f = 0; f < 2; ++f) {
    auto shear = tangential_shear_field(120, 120, [](double r) { return 0.1 * 60.0 / (r + 60.0); });
    FieldCatalogue c;
    c.name = "field" + std::to_string(f);
    c.sources = mock_field(500, 240, 240, shear, {{"cnn", 0.2}, {"rrg", 0.3}}, 7, std::uint64_t(f)).sources;
    out.push_back(c);
  }
  return out;
}

MapsConfig quick_config() {
  MapsConfig c;
  c.nboot = 10, c.nsplit = 2, c.lambdas = {19.5};
  c.centre = {120, 120};
  return c;
}
}  // namespace

TEST_CASE("maps run: log-spaced radius bins from 10 arcsec to the farthest source") {
  const std::vector<double> x = {3, -40, 0}, y = {4, 30, 0};  // farthest: 50 from the origin
  const auto e = log_radius_edges(x, y, 0, 0, 4, 10);
  REQUIRE(e.size() == 5);
  CHECK(e.front() == doctest::Approx(10));
  CHECK(e.back() == doctest::Approx(50));
  for (std::size_t b = 1; b < e.size(); ++b) CHECK(e[b] / e[b - 1] == doctest::Approx(std::pow(5.0, 0.25)));
}

TEST_CASE("maps run: the centre is centre_radec on the tangent plane, else centre, else the mean position") {
  FieldCatalogue f;
  f.path = "sky.fits";
  f.sources.x = {0, 10, 20}, f.sources.y = {3, 3, 6};
  MapsConfig c;
  auto xy = profile_centre(f, c);
  CHECK(xy[0] == doctest::Approx(10));
  CHECK(xy[1] == doctest::Approx(4));
  c.centre = {-5, 7};
  xy = profile_centre(f, c);
  CHECK(xy[0] == -5);
  CHECK(xy[1] == 7);
  c.centre_radec = {40.0, 20.0 + 30.0 / 3600.0};
  CHECK(ds::test::error_of([&] { profile_centre(f, c); }).find("sky.fits: --centre_radec needs RA and DEC") == 0);
  f.sky = {40.0, 20.0, true, true};
  xy = profile_centre(f, c);
  // Due north of the tangent point: eta = tan(30"), in arcsec.
  CHECK(xy[0] == doctest::Approx(0).epsilon(1e-9));
  CHECK(xy[1] == doctest::Approx(std::tan(30.0 / 206264.80624709636) * 206264.80624709636).epsilon(1e-9));
}

TEST_CASE("maps run: the NFW fit uses only bins with more than 2 sources and a finite positive error") {
  const NfwLens lens = NfwLens::with_source_redshift(0.3, 1.0, 4.0);
  const double m200 = 8e14;
  TangentialProfile p;
  for (double r : {20.0, 40.0, 80.0, 160.0}) {
    p.r_mean.push_back(r), p.gt.push_back(lens.reduced_shear(m200, r)), p.gt_err.push_back(0.01), p.n.push_back(10);
  }
  // Bins that must be left out: too few sources, a NaN error, a zero error; all far off the model.
  p.r_mean.insert(p.r_mean.end(), {10, 30, 60}), p.gt.insert(p.gt.end(), {0.9, -0.5, 0.7});
  p.gt_err.insert(p.gt_err.end(), {0.001, std::nan(""), 0.0}), p.n.insert(p.n.end(), {2, 50, 50});
  const auto fit = fit_nfw_profile(lens, p);
  REQUIRE(fit);
  CHECK(fit->m200 == doctest::Approx(m200).epsilon(1e-3));
  CHECK(fit->dof == 3);
  TangentialProfile one;
  one.r_mean = {20, 40}, one.gt = {0.1, 0.05}, one.gt_err = {0.01, 0.01}, one.n = {10, 2};
  CHECK_FALSE(fit_nfw_profile(lens, one));
}

TEST_CASE("maps run: two fields in, a report with maps, profiles, NFW fits, calibration and errors out") {
  MapsConfig c = quick_config();
  c.z_lens = 0.3;
  const MapsReport r = run_maps(mock_fields(), c);
  REQUIRE(r.fields.size() == 2);
  const MapsField& f = r.fields[0];
  CHECK(f.xc == 120);
  CHECK(f.edges.size() == 9);
  REQUIRE(f.estimators.size() == 2);
  CHECK(f.estimators[1].name == "rrg");
  CHECK(f.estimators[0].kappa.kappa_e.ny() == f.maps.grid.ny);
  // The injected tangential shear: g_t about 0.1 * 60 / (r + 60) in every bin with sources.
  const auto& tp = f.estimators[0].profile;
  for (std::size_t b = 0; b < tp.gt.size(); ++b)
    if (tp.n[b] > 20) CHECK(std::abs(tp.gt[b] - 0.1 * 60 / (tp.r_mean[b] + 60)) < 4 * tp.gt_err[b]);
  CHECK(f.estimators[0].nfw.has_value());
  REQUIRE(r.calibrations.size() == 1);
  CHECK(r.calibrations[0].name == "cnn");
  CHECK(r.calibrations[0].samples_g1.size() == r.calibrations[0].fit[0].n);
  CHECK(r.errors.names == std::vector<std::string>{"cnn", "rrg"});
  // sigma_source follows the injected noise.
  CHECK(mean_sigma_source(r.errors, 0, 0).value == doctest::Approx(0.2).epsilon(0.15));
  CHECK(mean_sigma_source(r.errors, 0, 1).value == doctest::Approx(0.3).epsilon(0.15));
  const auto lines = r.summary();
  REQUIRE(lines.size() == 4);
  CHECK(lines[0].rfind("field0: NFW M200 cnn ", 0) == 0);
  CHECK(lines[0].find("(c Duffy et al. 2008, sigma_t") != std::string::npos);

  const auto j = r.to_json();
  const auto& jn = j["fields"][0]["estimators"]["cnn"]["nfw"];
  CHECK(jn["m200"].get<double>() == doctest::Approx(f.estimators[0].nfw->m200).epsilon(1e-3));
  CHECK(j["fields"][1]["sources"] == 500);
  CHECK(j["relative_calibration"]["cnn"]["g2"]["samples"] == r.calibrations[0].fit[1].n);
  CHECK(j["source_errors"].size() == 2);
  CHECK(j["config"]["centre"][0] == 120.0);
  CHECK(j["config"]["omega_m"] == 0.27);
  // 4 significant digits for radii, 5 for shears, 3 for errors.
  CHECK(j["fields"][0]["estimators"]["cnn"]["tangential_profile"][3][0].get<double>() ==
        std::stod(ds::json_number(tp.r_mean[3], 4)));
}

TEST_CASE("maps run: NaN becomes null, no NFW without z_lens") {
  MapsReport r = run_maps(mock_fields(), quick_config());
  CHECK_FALSE(r.fields[0].estimators[0].nfw);
  CHECK(r.summary().empty());
  r.fields[0].estimators[0].profile.gt[0] = std::nan("");
  const auto j = r.to_json();
  CHECK(j["fields"][0]["estimators"]["cnn"]["nfw"].is_null());
  CHECK(j["fields"][0]["estimators"]["cnn"]["tangential_profile"][0][1].is_null());
  CHECK(maps_index_html(r).find("No NFW fit: give the lens redshift") != std::string::npos);
}

TEST_CASE("maps run: a reference estimator a catalogue lacks is an error naming its columns") {
  MapsConfig c = quick_config();
  c.reference = "KSB";
  auto fields = mock_fields();
  fields[1].path = "/data/field1_shear.fits";
  const std::string err = ds::test::error_of([&] { run_maps(fields, c); });
  CHECK(err.find("--reference ksb") != std::string::npos);
  CHECK(err.find("/data/field1_shear.fits") == std::string::npos);  // field0 (no path: its name) fails first
  CHECK(err.find("field0 has no columns G1_KSB and G2_KSB") != std::string::npos);
  CHECK(err.find("its estimators: cnn, rrg") != std::string::npos);
  fields[0].sources.names = {"cnn", "ksb"};
  CHECK(ds::test::error_of([&] { run_maps(fields, c); }).find("/data/field1_shear.fits has no columns G1_KSB") !=
        std::string::npos);
}

TEST_CASE("maps run: bad settings are usage errors naming the key") {
  MapsConfig c;
  c.cosmo.omega_m = 1.5;
  CHECK(ds::test::error_of([&] { c.check(); }).find("--omega_m") != std::string::npos);
  c = MapsConfig{};
  c.centre_radec = {150};
  CHECK(ds::test::error_of([&] { c.check(); }).find("--centre_radec") != std::string::npos);
  c = MapsConfig{};
  c.centre = {1, 2, 3};
  CHECK(ds::test::error_of([&] { c.check(); }).find("--centre") != std::string::npos);
  CHECK(ds::test::error_of([&] { run_maps(std::vector<FieldCatalogue>{}, MapsConfig{}); }).find("no catalogue") !=
        std::string::npos);
}

TEST_CASE("maps run: without a sky position the convergence FITS has a linear WCS in arcsec offsets") {
  ConvergenceMap k;
  k.kappa_e = ds::Image<double>(3, 4), k.kappa_b = ds::Image<double>(3, 4);
  for (long i = 0; i < 12; ++i) k.kappa_e.data()[i] = 0.01 * double(i), k.kappa_b.data()[i] = -0.001 * double(i);
  Grid g;
  g.x0 = -30, g.y0 = -12, g.step = 6, g.nx = 4, g.ny = 3;
  ds::test::TempDir tmp;
  write_convergence_fits(k, g, "cnn", 19.5, tmp / "kappa.fits");
  ds::fits::FitsFile f(tmp / "kappa.fits");
  for (const char* mode : {"KAPPA_E", "KAPPA_B"}) {
    f.hdu(mode);
    const auto im = f.read_image<double>();
    REQUIRE(im.nx() == 4);
    CHECK(im(2, 3) == doctest::Approx(std::string(mode) == "KAPPA_E" ? 0.11 : -0.011).epsilon(1e-6));
    CHECK(f.key_string("CTYPE1") == "OFFSET-X");
    CHECK(f.key_string("CUNIT2") == "arcsec");
    // Pixel p (1-based) of axis i lies at CRVALi + (p - CRPIXi) CDELTi = x0 + (p - 1) step.
    CHECK(f.key_double("CRVAL1") + (4 - f.key_double("CRPIX1")) * f.key_double("CDELT1") == g.x0 + 3 * g.step);
    CHECK(f.key_double("CRVAL2") + (1 - f.key_double("CRPIX2")) * f.key_double("CDELT2") == g.y0);
    CHECK(f.has_key("BUNIT"));
    CHECK(f.key_string("ESTIMATR") == "cnn");
    CHECK(f.key_double("LAMBDA") == 19.5);
  }
}

TEST_CASE("maps run: the folder's index gives M200 with its interval per estimator, captions and the calibration") {
  MapsConfig c = quick_config();
  c.z_lens = 0.3;
  auto fields = mock_fields();
  for (auto& f : fields) f.sky = {150.0, 2.2, true, true};
  double ra = 0, dec = 0;  // of the mock's shear centre, (120, 120) arcsec on the plane
  tangent_plane(fields[0].sky).pixel_to_world(120, 120, ra, dec);
  c.centre = {};
  c.centre_radec = {ra, dec};
  const MapsReport r = run_maps(fields, c);
  ds::test::TempDir tmp;
  write_maps_folder(r, tmp / "out");
  const std::string html = ds::read_text_file(tmp / "out/index.html");
  for (const auto& f : r.fields)
    for (const auto& e : f.estimators) {
      INFO(f.input.name << " " << e.name);
      REQUIRE(e.nfw);
      char row[160];
      std::snprintf(row, sizeof row, "<td>%s</td><td>M200 = %.3g</td><td>[%.3g, %.3g]", e.name.c_str(), e.nfw->m200,
                    e.nfw->m200_lo, e.nfw->m200_hi);
      CHECK(html.find(row) != std::string::npos);
      CHECK(e.nfw->m200_lo < e.nfw->m200);
      CHECK(e.nfw->m200 < e.nfw->m200_hi);
    }
  // Every picture has a caption; no table is left without a row of data.
  std::size_t imgs = 0, caps = 0;
  for (std::size_t p = html.find("<img "); p != std::string::npos; p = html.find("<img ", p + 1)) ++imgs;
  for (std::size_t p = html.find("<figcaption>"); p != std::string::npos; p = html.find("<figcaption>", p + 1)) ++caps;
  CHECK(imgs == 2 * (2 + 2 * 2) + 1 + 1);  // per field profile, components, 2 whiskers, 2 kappa; calibration; sigma
  CHECK(caps == imgs);
  for (std::size_t p = html.find("<table"); p != std::string::npos; p = html.find("<table", p + 1))
    CHECK(html.substr(p, html.find("</table>", p) - p).find("<td>") != std::string::npos);
  CHECK(html.find("Kaiser-Squires (1993) convergence") != std::string::npos);
  CHECK(html.find("East is to the left, north up") != std::string::npos);
  CHECK(html.find("relative to the reference</em>, not to the true shear") != std::string::npos);
  CHECK(html.find("<td>cnn</td><td>") != std::string::npos);
  char centre[80];
  std::snprintf(centre, sizeof centre, "RA %.5f, Dec %.5f deg, (x, y) = (120.0\", 120.0\")", ra, dec);
  CHECK(html.find(centre) != std::string::npos);
  for (const char* f : {"field0_maps.fits", "field0_kappa_cnn.fits", "field1_kappa_rrg.fits", "field1_profile.png"})
    CHECK_MESSAGE(std::filesystem::exists(tmp / ("out/" + std::string(f))), f);
  ds::fits::FitsFile k(tmp / "out/field0_kappa_cnn.fits");
  k.hdu("KAPPA_E");
  CHECK(k.key_string("CTYPE1") == "RA---TAN");
  CHECK(k.key_double("CRVAL2") == 2.2);
}
