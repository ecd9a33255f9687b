// deepshear cluster end to end on a small mock cluster (deepshear mock-cluster):
// SExtractor finds the sources, the cuts remove the stars and the unexposed
// corner, and the CNN's and RRG's shears, in the sky frame, follow the NFW
// shear that was put in.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>

#include "deepshear/engine/fits.hpp"
#include "deepshear/lensing/cluster/sextractor_run.hpp"
#include "deepshear/lensing/cluster/source_cuts.hpp"
#include "deepshear/lensing/cluster/tangential_profile.hpp"
#include "test_support.hpp"

namespace {

using ds::test::TempDir;

std::map<std::string, std::vector<double>> read_table(const std::string& path, const std::vector<std::string>& cols) {
  ds::fits::FitsFile f(path);
  f.hdu(1);
  std::map<std::string, std::vector<double>> t;
  for (const auto& c : cols) t[c] = f.read_column(c);
  return t;
}

}  // namespace

TEST_CASE("cluster end to end: mock field -> SExtractor -> cuts -> CNN and RRG follow the NFW shear") {
  if (ds::lens::find_sextractor().empty()) {
    MESSAGE("skipped: SExtractor (Debian package source-extractor) is not installed");
    return;
  }
  TempDir d;
  // 100" x 100" at 200 galaxies / arcmin^2: about 550 lensed galaxies with g_t < 0.3.
  auto mock = ds::test::run_cli("mock-cluster -o " + d / "mock" +
                                " --size 120 --density 250 --m200 4e14 --max-shear 0.3 --stars 12"
                                " --foreground 4 --mask-corner 20 --seed 14 --quiet");
  REQUIRE_MESSAGE(mock.exit_code == 0, mock.err);
  auto run = ds::test::run_cli("cluster --image " + d / "mock/mock_sci.fits" + " --weight " + d / "mock/mock_wht.fits" +
                               " --out " + d / "out" + " --keep-work true --quiet");
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  for (const char* f : {"mock_shear.fits", "mock_summary.json", "mock_noise_kernel.txt", "mock_point_sources.png",
                        "cluster_summary.json", "cluster_config.cfg"})
    CHECK_MESSAGE(std::filesystem::exists(d / ("out/" + std::string(f))), f);

  auto truth = read_table(d / "mock/mock_truth.fits", {"X", "Y", "RA", "DEC", "KIND", "MAG", "G1", "G2"});
  auto cat = read_table(d / "out/mock_shear.fits", {"X", "Y", "RA", "DEC", "CUT", "STAR", "G1_CNN", "G2_CNN",
                                                     "FLAGS_CNN", "G1_RRG", "G2_RRG", "FLAGS_RRG"});
  double ra_c = 0, dec_c = 0;
  {
    ds::fits::FitsFile f(d / "mock/mock_truth.fits");
    f.hdu(1);
    ra_c = f.key_double("RA_CEN"), dec_c = f.key_double("DEC_CEN");
  }
  // Match every true source to the nearest detection within 2 px.
  const std::size_t nt = truth["X"].size(), nc = cat["X"].size();
  std::vector<long> match(nt, -1);
  for (std::size_t i = 0; i < nt; ++i) {
    double best = 4.0;
    for (std::size_t j = 0; j < nc; ++j) {
      const double r2 = std::pow(truth["X"][i] - cat["X"][j], 2) + std::pow(truth["Y"][i] - cat["Y"][j], 2);
      if (r2 < best) best = r2, match[i] = long(j);
    }
  }
  // The unexposed corner: the last 20" of the 120" field in x and y.
  const double corner = 120 / 0.065 - 20 / 0.065;
  long bright = 0, bright_found = 0, stars = 0, stars_cut = 0, galaxies = 0, galaxies_as_stars = 0;
  for (std::size_t i = 0; i < nt; ++i) {
    const int kind = int(truth["KIND"][i]);
    const bool in_corner = truth["X"][i] > corner - 2 && truth["Y"][i] > corner - 2;
    if (kind == 0 && truth["MAG"][i] < 25 && !in_corner) ++bright, bright_found += match[i] >= 0;
    if (match[i] < 0) continue;
    const auto j = std::size_t(match[i]);
    if (kind == 1) ++stars, stars_cut += (long(cat["CUT"][j]) & ds::lens::kCutPointSource) != 0;
    if (kind == 0) ++galaxies, galaxies_as_stars += cat["STAR"][j] != 0;
  }
  MESSAGE("galaxies brighter than 25 found: " << bright_found << " / " << bright << "; stars cut: " << stars_cut
                                              << " / " << stars << "; galaxies taken for stars: " << galaxies_as_stars);
  CHECK(bright_found >= 0.95 * double(bright));
  CHECK(stars_cut >= stars - 1);
  CHECK(galaxies_as_stars <= 0.02 * double(galaxies));
  // Nothing is kept whose stamp or exposure box reaches into the corner.
  for (std::size_t j = 0; j < nc; ++j)
    if (cat["X"][j] > corner - 15 && cat["Y"][j] > corner - 15) CHECK(cat["CUT"][j] != 0);

  // Shears of the kept, matched background galaxies against the truth, in the
  // sky frame (x east, y north): the mock's image has east on the left, so the
  // true (g1, g2) of the image frame is (g1, -g2) on the sky.
  for (const std::string est : {"CNN", "RRG"}) {
    std::vector<double> x, y, g1, g2, t1, t2;
    double sxy = 0, sxx = 0;
    for (std::size_t i = 0; i < nt; ++i) {
      if (truth["KIND"][i] != 0 || match[i] < 0) continue;
      const auto j = std::size_t(match[i]);
      if (cat["CUT"][j] != 0 || cat["FLAGS_" + est][j] != 0) continue;
      x.push_back((cat["RA"][j] - ra_c) * std::cos(dec_c * M_PI / 180) * 3600);
      y.push_back((cat["DEC"][j] - dec_c) * 3600);
      g1.push_back(cat["G1_" + est][j]), g2.push_back(cat["G2_" + est][j]);
      t1.push_back(truth["G1"][i]), t2.push_back(-truth["G2"][i]);
      sxy += g1.back() * t1.back() + g2.back() * t2.back();
      sxx += t1.back() * t1.back() + t2.back() * t2.back();
    }
    REQUIRE(x.size() > 300);
    // Regression slope of measured on true shear (both components): near 1.
    const double slope = sxy / sxx;
    // Four radial bins of equal counts.
    std::vector<double> r;
    for (std::size_t k = 0; k < x.size(); ++k) r.push_back(std::hypot(x[k], y[k]));
    std::sort(r.begin(), r.end());
    std::vector<double> edges = {0};
    for (int q = 1; q < 4; ++q) edges.push_back(r[r.size() * std::size_t(q) / 4]);
    edges.push_back(r.back() + 1);
    auto meas = ds::lens::tangential_profile(x, y, g1, g2, 0, 0, edges);
    auto want = ds::lens::tangential_profile(x, y, t1, t2, 0, 0, edges);
    double chi2 = 0, chi2x = 0;
    for (std::size_t b = 0; b + 1 < edges.size(); ++b) {
      chi2 += std::pow((meas.gt[b] - want.gt[b]) / meas.gt_err[b], 2);
      chi2x += std::pow(meas.gx[b] / meas.gx_err[b], 2);
      MESSAGE(est << " bin " << b << ": g_t " << meas.gt[b] << " +- " << meas.gt_err[b] << " (true " << want.gt[b]
                  << "), g_x " << meas.gx[b] << " +- " << meas.gx_err[b] << ", n " << meas.n[b]);
      CHECK(want.gt[b] > 0.02);  // the true profile is tangential in the sky frame
    }
    MESSAGE(est << ": " << x.size() << " galaxies, slope " << slope << ", chi2(g_t - true) " << chi2
                << ", chi2(g_x) " << chi2x << " for 4 bins");
    CHECK(slope > 0.7);
    CHECK(slope < 1.3);
    CHECK(chi2 < 16.9);   // 4 dof: p = 0.002
    CHECK(chi2x < 16.9);
  }

  // The same field twice from a list file, with SExtractor's catalogue of the first run
  // given (no SExtractor run, so no segmentation: the background comes from discs around
  // the catalogue's sources instead): the same cuts and nearly the same RRG shears.
  {
    std::ofstream list(d / "fields.txt");
    for (const char* name : {"a", "b"})
      list << "name=" << name << " image=mock/mock_sci.fits weight=mock/mock_wht.fits catalog=out/mock_work/sources.ldac\n";
  }
  auto again = ds::test::run_cli("cluster --fields " + d / "fields.txt" + " --estimators rrg --out " + d / "out2" + " --quiet");
  REQUIRE_MESSAGE(again.exit_code == 0, again.err);
  for (const char* name : {"a", "b"}) {
    auto t = read_table(d / ("out2/" + std::string(name) + "_shear.fits"), {"G1_RRG", "CUT"});
    REQUIRE(t["G1_RRG"].size() == nc);
    long same_cut = 0, kept = 0, close = 0;
    for (std::size_t j = 0; j < nc; ++j) {
      same_cut += t["CUT"][j] == cat["CUT"][j];
      if (cat["CUT"][j] != 0) continue;
      const double g = t["G1_RRG"][j], g0 = cat["G1_RRG"][j];  // NaN: flagged
      ++kept, close += (std::isnan(g) && std::isnan(g0)) || std::abs(g - g0) < 0.03;
    }
    MESSAGE(std::string(name) << ": same cuts " << same_cut << " / " << nc << ", RRG g1 within 0.03: " << close << " / " << kept);
    CHECK(same_cut == long(nc));
    CHECK(close >= 0.9 * double(kept));
  }
}

TEST_CASE("cluster noise check: a field at half the training noise is measured so and warned about; the PSF is measured") {
  if (ds::lens::find_sextractor().empty()) {
    MESSAGE("skipped: SExtractor (Debian package source-extractor) is not installed");
    return;
  }
  TempDir d;
  auto mock = ds::test::run_cli("mock-cluster -o " + d / "mock" + " --size 60 --density 60 --noise-scale 0.5 --seed 3 --quiet");
  REQUIRE_MESSAGE(mock.exit_code == 0, mock.err);
  auto run = ds::test::run_cli("cluster --image " + d / "mock/mock_sci.fits" + " --weight " + d / "mock/mock_wht.fits" +
                               " --estimators rrg --out " + d / "out");
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  CHECK(run.err.find("noise RMS") != std::string::npos);
  std::ifstream f(d / "out/mock_summary.json");
  const std::string json((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto number = [&](const std::string& key) {
    auto p = json.find("\"" + key + "\": ");
    REQUIRE(p != std::string::npos);
    return std::stod(json.substr(p + key.size() + 4));
  };
  CHECK(number("ratio") == doctest::Approx(0.5).epsilon(0.04));           // 0.5 x the default kernel's RMS
  CHECK(number("model_rms") == doctest::Approx(3.6e-3).epsilon(0.01));    // the shipped kernel
  CHECK(json.find("\"warning\": true") != std::string::npos);
  CHECK(number("psf_fwhm_arcsec") == doctest::Approx(0.12).epsilon(0.03));  // the mock's Gaussian PSF
}
