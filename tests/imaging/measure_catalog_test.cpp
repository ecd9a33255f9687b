// RealGalaxyCatalog: GalSim-format catalogues from ../shared/data load with
// their stamps and `_fits` companion; missing files, HDUs and columns are
// named in the error. Expected numbers come from ../shared/data/README.md.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "deepshear/engine/error.hpp"
#include "deepshear/engine/fits.hpp"
#include "deepshear/engine/parallel.hpp"
#include "deepshear/imaging/real_galaxy_catalog.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using ds::img::RealGalaxyCatalog;
using ds::fits::TableColumn;

namespace {

// Writes a RealGalaxyCatalog table with n rows; `drop` names a column to leave out.
void write_catalog(const std::string& path, const std::vector<std::int64_t>& ident, const std::string& gal_file,
                   const std::vector<std::int32_t>& gal_hdu, const std::string& psf_file,
                   const std::vector<std::int32_t>& psf_hdu, const std::string& drop = "") {
  const std::size_t n = ident.size();
  std::vector<TableColumn> cols;
  auto add = [&](TableColumn c) {
    if (c.name != drop) cols.push_back(std::move(c));
  };
  add(TableColumn::int64s("IDENT", ident));
  add(TableColumn::doubles("MAG", std::vector<double>(n, 22.0)));
  add(TableColumn::strings("BAND", std::vector<std::string>(n, "F814W")));
  add(TableColumn::doubles("WEIGHT", std::vector<double>(n, 1.0)));
  add(TableColumn::strings("GAL_FILENAME", std::vector<std::string>(n, gal_file)));
  add(TableColumn::strings("PSF_FILENAME", std::vector<std::string>(n, psf_file)));
  add(TableColumn::int32s("GAL_HDU", gal_hdu));
  add(TableColumn::int32s("PSF_HDU", psf_hdu));
  add(TableColumn::doubles("PIXEL_SCALE", std::vector<double>(n, 0.03)));
  add(TableColumn::doubles("NOISE_MEAN", std::vector<double>(n, 0.0)));
  add(TableColumn::doubles("NOISE_VARIANCE", std::vector<double>(n, 1e-5)));
  ds::fits::FitsWriter w(path);
  w.write_table(cols);
  w.commit();
}

// A file of `n` small image HDUs; HDU k is 4 x (5 + k % 3) filled with k + 1.
void write_stamps(const std::string& path, int n) {
  ds::fits::FitsWriter w(path);
  for (int k = 0; k < n; ++k) {
    ds::ImageD im(4, 5 + k % 3, double(k + 1));
    w.write_image(im, ds::fits::PixelType::Float32);
  }
  w.commit();
}

std::string error_of(const std::string& path) {
  try {
    RealGalaxyCatalog::load(path);
  } catch (const ds::Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("the BlendingToolKit COSMOS catalogue loads all 100 stamps and PSFs") {
  DS_REQUIRE_SHARED(path, "BlendingToolKit/data/cosmos/real_galaxy_catalog_26_extension_example.fits");
  RealGalaxyCatalog cat = RealGalaxyCatalog::load(path);
  REQUIRE(cat.size() == 100);
  std::vector<double> diffs;
  for (std::size_t i = 0; i < cat.size(); ++i) {
    const auto& r = cat.row(i);
    CHECK(r.gal_hdu == int(i));  // README: GAL_HDU and PSF_HDU equal the row number
    CHECK(r.psf_hdu == int(i));
    CHECK(r.pixel_scale == doctest::Approx(0.03));
    CHECK(r.weight == 1.0);
    CHECK(r.mag >= 20.1);
    CHECK(r.mag <= 26.0);
    CHECK(r.has_stamp_flux);
    const ds::ImageD g = cat.galaxy_image(i);
    CHECK(g.ny() == g.nx());  // README: square stamps 16..190
    CHECK(g.ny() >= 16);
    CHECK(g.ny() <= 190);
    const ds::ImageD p = cat.psf_image(i);
    CHECK(p.ny() == 65);
    CHECK(p.nx() == 51);
    CHECK(p.sum() == doctest::Approx(0.981).epsilon(0.01));
    diffs.push_back(std::abs(g.sum() - r.stamp_flux));
    // The _fits companion here has flux_radius and ZPHOT but no parametric fits.
    CHECK_FALSE(r.has_fits);
    CHECK(r.flux_radius >= 3.15);  // README: 3.2-31.4 (rounded)
    CHECK(r.flux_radius <= 31.45);
    CHECK(std::isnan(r.mag_auto));
  }
  std::nth_element(diffs.begin(), diffs.begin() + 50, diffs.end());
  CHECK(diffs[50] < 1.0);  // README: median |pixel sum - stamp_flux| is 0.23 counts
  CHECK(cat.fits_path().find("_fits.fits") != std::string::npos);
  // README: 94 of the 100 PSFs are distinct; identical ones are stored once.
  CHECK(cat.distinct_images() == 100 + 94);
  // Read-only use from several threads sees the same pixels.
  std::vector<double> serial(cat.size()), threaded(cat.size());
  for (std::size_t i = 0; i < cat.size(); ++i) serial[i] = cat.galaxy_view(i).sum() + cat.psf_image(i).sum();
  ds::set_threads(2);
  ds::parallel_for(long(cat.size()), [&](long i, int) {
    threaded[std::size_t(i)] = cat.galaxy_view(std::size_t(i)).sum() + cat.psf_image(std::size_t(i)).sum();
  });
  ds::set_threads(0);
  CHECK(serial == threaded);
}

TEST_CASE("GalSim's test_catalog: the real galaxy 100533 and the fake Gaussian") {
  DS_REQUIRE_SHARED(path, "galsim-testdata/tests/real_comparison_images/test_catalog.fits");
  RealGalaxyCatalog cat = RealGalaxyCatalog::load(path);
  REQUIRE(cat.size() == 2);
  CHECK(cat.row(0).ident == 100533);
  CHECK(cat.row(0).band == "F814W");
  CHECK(cat.row(0).noise_variance == doctest::Approx(8.2251e-6).epsilon(1e-4));
  CHECK_FALSE(cat.row(0).has_stamp_flux);
  CHECK(cat.galaxy_image(0).ny() == 197);
  CHECK(cat.galaxy_image(0).nx() == 67);
  CHECK(cat.galaxy_image(0).sum() == doctest::Approx(177.05).epsilon(1e-4));
  CHECK(cat.psf_image(0).ny() == 39);
  CHECK(cat.psf_image(0).sum() == doctest::Approx(0.96293).epsilon(1e-4));
  // Fake Gaussian stored as surface brightness: sum x 0.03^2 = flux.
  CHECK(cat.galaxy_image(1).sum() * 0.03 * 0.03 == doctest::Approx(1000).epsilon(1e-3));
  CHECK(cat.psf_image(1).sum() * 0.03 * 0.03 == doctest::Approx(1.0).epsilon(1e-3));
  CHECK(cat.psf_image(1).ny() == 30);
}

TEST_CASE("the AEGIS catalogues load both bands from two image files each") {
  DS_REQUIRE_SHARED(dir, "galsim-testdata/tests/real_comparison_images");
  const long shapes[5][2] = {{46, 70}, {156, 142}, {50, 48}, {44, 39}, {104, 103}};
  const double mags606[5] = {25.12, 22.51, 24.86, 25.04, 24.17};
  const double mags814[5] = {24.74, 22.00, 24.81, 24.70, 22.84};
  for (const char* band : {"F606w", "F814w"}) {
    RealGalaxyCatalog cat = RealGalaxyCatalog::load(dir + "/AEGIS_" + band + "_catalog.fits");
    REQUIRE(cat.size() == 5);
    const double* mags = std::string(band) == "F606w" ? mags606 : mags814;
    const std::int64_t idents[5] = {23409, 14886, 9024, 17038, 24216};
    for (std::size_t i = 0; i < 5; ++i) {
      CHECK(cat.row(i).ident == idents[i]);
      CHECK(cat.row(i).mag == doctest::Approx(mags[i]).epsilon(0.001));
      CHECK(cat.galaxy_image(i).ny() == shapes[i][0]);
      CHECK(cat.galaxy_image(i).nx() == shapes[i][1]);
      CHECK(cat.psf_image(i).ny() == 20);
      CHECK(cat.psf_image(i).sum() == doctest::Approx(0.92).epsilon(0.01));
    }
  }
}

TEST_CASE("the COSMOS 23.5 example fails naming its missing real_galaxy_images.fits") {
  DS_REQUIRE_SHARED(path, "galsim-testdata/examples/data/real_galaxy_catalog_23.5_example.fits");
  std::string msg = error_of(path);
  CHECK(msg.find("real_galaxy_images.fits") != std::string::npos);
  CHECK(msg.find("does not exist") != std::string::npos);
}

TEST_CASE("the _fits companion's parametric fits are read (COSMOS 23.5 example, own stamps)") {
  DS_REQUIRE_SHARED(src, "galsim-testdata/examples/data/real_galaxy_catalog_23.5_example.fits");
  DS_REQUIRE_SHARED(src_fits, "galsim-testdata/examples/data/real_galaxy_catalog_23.5_example_fits.fits");
  DS_REQUIRE_SHARED(psfs, "galsim-testdata/examples/data/real_galaxy_PSF_images.fits");
  DS_REQUIRE_SHARED(test_images, "galsim-testdata/tests/real_comparison_images/test_images.fits");
  // The example's galaxy stamps are absent: build a catalogue with its IDENTs,
  // small stand-in galaxy stamps and the real PSF file, and copy its _fits.
  ds::test::TempDir tmp;
  std::vector<long long> ids;
  {
    ds::fits::FitsFile f(src);
    f.hdu(1);
    ids = f.read_int_column("IDENT");
  }
  REQUIRE(ids.size() == 100);
  std::vector<std::int64_t> ident(ids.begin(), ids.end());
  std::vector<std::int32_t> hdu(100);
  for (int i = 0; i < 100; ++i) hdu[std::size_t(i)] = i;
  write_stamps(tmp / "stamps.fits", 100);
  fs::copy_file(psfs, tmp / "psfs.fits");
  fs::copy_file(src_fits, tmp / "cat_fits.fits");
  write_catalog(tmp / "cat.fits", ident, "stamps.fits", hdu, "psfs.fits", hdu);

  RealGalaxyCatalog cat = RealGalaxyCatalog::load(tmp / "cat.fits");
  REQUIRE(cat.size() == 100);
  const auto& r0 = cat.row(0);
  CHECK(r0.has_fits);
  CHECK(r0.ident == 100027);
  CHECK(r0.mag_auto == doctest::Approx(20.913).epsilon(1e-4));
  CHECK(r0.flux_radius == doctest::Approx(14.03).epsilon(1e-3));
  CHECK(r0.zphot == doctest::Approx(0.518).epsilon(1e-3));
  CHECK(r0.sersicfit[2] == doctest::Approx(1.97).epsilon(0.005));
  CHECK(r0.sersicfit[3] == doctest::Approx(0.475).epsilon(0.002));
  CHECK(r0.hlr[0] == doctest::Approx(0.3936).epsilon(1e-3));
  int bulge = 0;
  for (std::size_t i = 0; i < cat.size(); ++i) {
    const auto& r = cat.row(i);
    bulge += r.use_bulgefit ? 1 : 0;
    CHECK(r.viable_sersic);
    // README relations: hlr[0] = sersicfit[1] sqrt(q) 0.03; flux[3] = flux[1] + flux[2].
    CHECK(r.hlr[0] == doctest::Approx(r.sersicfit[1] * std::sqrt(r.sersicfit[3]) * 0.03).epsilon(1e-3));
    CHECK(r.flux[3] == doctest::Approx(r.flux[1] + r.flux[2]).epsilon(1e-6));
    // Stand-in stamp k is 4 x (5 + k % 3) of value k + 1, read from HDU k.
    CHECK(cat.galaxy_image(i).nx() == 5 + long(i % 3));
    CHECK(cat.galaxy_image(i)(2, 3) == double(i + 1));
    CHECK(cat.psf_image(i).sum() == doctest::Approx(0.961).epsilon(0.003));
  }
  CHECK(bulge == 36);  // README: 36 of the 100 rows use the bulge+disk fit
  // README: PSF HDU 2 is byte-identical to test_images.fits HDU 2 (stored here
  // as float32: equal after rounding, within 6e-8 relative).
  ds::fits::FitsFile ti(test_images);
  ti.hdu(2);
  ds::ImageD p2 = ti.read_image<double>();
  const ds::ImageD c2 = cat.psf_image(2);
  REQUIRE(c2.ny() == p2.ny());
  REQUIRE(c2.nx() == p2.nx());
  bool same = true;
  double worst = 0;
  for (long k = 0; k < p2.size(); ++k) {
    same = same && cat.psf_view(2).data()[k] == float(p2.data()[k]);
    worst = std::max(worst, std::abs(c2.data()[k] - p2.data()[k]) / std::abs(p2.data()[k]));
  }
  CHECK(same);
  CHECK(worst < 6e-8);
}

TEST_CASE("missing HDUs, files and columns are errors that name them") {
  ds::test::TempDir tmp;
  write_stamps(tmp / "stamps.fits", 3);
  write_catalog(tmp / "bad_hdu.fits", {1, 2}, "stamps.fits", {0, 5}, "stamps.fits", {1, 2});
  std::string msg = error_of(tmp / "bad_hdu.fits");
  CHECK(msg.find("stamps.fits") != std::string::npos);
  CHECK(msg.find("HDU 5") != std::string::npos);
  CHECK(msg.find("row 1 galaxy") != std::string::npos);

  write_catalog(tmp / "bad_file.fits", {1}, "stamps.fits", {0}, "no_such_psf.fits", {0});
  msg = error_of(tmp / "bad_file.fits");
  CHECK(msg.find("no_such_psf.fits") != std::string::npos);

  write_catalog(tmp / "bad_col.fits", {1}, "stamps.fits", {0}, "stamps.fits", {1}, "PSF_HDU");
  msg = error_of(tmp / "bad_col.fits");
  CHECK(msg.find("PSF_HDU") != std::string::npos);

  // A companion whose IDENTs differ is an error naming both.
  write_catalog(tmp / "ok.fits", {7, 8}, "stamps.fits", {0, 1}, "stamps.fits", {2, 2});
  {
    ds::fits::FitsWriter w(tmp / "ok_fits.fits");
    w.write_table({TableColumn::int64s("IDENT", {7, 9}), TableColumn::doubles("flux_radius", {1.0, 2.0})});
    w.commit();
  }
  msg = error_of(tmp / "ok.fits");
  CHECK(msg.find("IDENT 9") != std::string::npos);
  fs::remove(tmp / "ok_fits.fits");
  // Without it the catalogue loads; rows naming the same (file, HDU) share one stamp.
  RealGalaxyCatalog cat = RealGalaxyCatalog::load(tmp / "ok.fits");
  CHECK(cat.size() == 2);
  CHECK(cat.psf_view(0).data() == cat.psf_view(1).data());
  CHECK(cat.distinct_images() == 3);
  CHECK(cat.galaxy_image(1)(0, 0) == 2.0);
  CHECK_THROWS_AS(cat.row(2), ds::Error);
}

namespace {
long rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}
}  // namespace

TEST_SUITE("slow") {
  TEST_CASE("a 100,000-stamp catalogue with BlendingToolKit-sized stamps loads in under 4 GB") {
    DS_REQUIRE_SHARED(btk, "BlendingToolKit/data/cosmos/real_galaxy_catalog_26_extension_example.fits");
    RealGalaxyCatalog ref = RealGalaxyCatalog::load(btk);
    // 100 files of 1000 galaxy HDUs and 100 of 1000 PSF HDUs (GalSim's COSMOS
    // layout), galaxy shapes cycling through BTK's 100 real stamps, PSFs of
    // BTK's 65x51, every stamp distinct.
    ds::test::TempDir tmp;
    const int files = 100, per = 1000, n = files * per;
    std::vector<std::int64_t> ident(n);
    std::vector<std::int32_t> hdu(n);
    std::vector<std::string> gname(n), pname(n);
    double pixels = 0;
    for (int f = 0; f < files; ++f) {
      ds::fits::FitsWriter g(tmp / ("gal_" + std::to_string(f) + ".fits"));
      ds::fits::FitsWriter p(tmp / ("psf_" + std::to_string(f) + ".fits"));
      for (int k = 0; k < per; ++k) {
        const int i = f * per + k;
        ds::ImageF gi = ds::ImageF::copy_of(ref.galaxy_view(std::size_t(i % 100)));
        gi(0, 0) = float(i);
        ds::ImageF pi = ds::ImageF::copy_of(ref.psf_view(std::size_t(i % 100)));
        pi(0, 0) = float(i);
        pixels += double(gi.size() + pi.size());
        g.write_image(gi, ds::fits::PixelType::Float32);
        p.write_image(pi, ds::fits::PixelType::Float32);
        ident[std::size_t(i)] = i;
        hdu[std::size_t(i)] = k;
        gname[std::size_t(i)] = "gal_" + std::to_string(f) + ".fits";
        pname[std::size_t(i)] = "psf_" + std::to_string(f) + ".fits";
      }
      g.commit();
      p.commit();
    }
    {
      std::vector<TableColumn> cols;
      cols.push_back(TableColumn::int64s("IDENT", ident));
      cols.push_back(TableColumn::doubles("MAG", std::vector<double>(n, 24.0)));
      cols.push_back(TableColumn::doubles("WEIGHT", std::vector<double>(n, 1.0)));
      cols.push_back(TableColumn::strings("GAL_FILENAME", gname));
      cols.push_back(TableColumn::strings("PSF_FILENAME", pname));
      cols.push_back(TableColumn::int32s("GAL_HDU", hdu));
      cols.push_back(TableColumn::int32s("PSF_HDU", hdu));
      cols.push_back(TableColumn::doubles("PIXEL_SCALE", std::vector<double>(n, 0.03)));
      cols.push_back(TableColumn::doubles("NOISE_VARIANCE", std::vector<double>(n, 1e-5)));
      ds::fits::FitsWriter w(tmp / "big.fits");
      w.write_table(cols);
      w.commit();
    }
    const long before = rss_kib();
    auto t0 = std::chrono::steady_clock::now();
    RealGalaxyCatalog cat = RealGalaxyCatalog::load(tmp / "big.fits");
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const long after = rss_kib();
    REQUIRE(cat.size() == std::size_t(n));
    CHECK(cat.distinct_images() == std::size_t(2 * n));
    CHECK(double(cat.image_bytes()) == doctest::Approx(4.0 * pixels));
    const double gb = double(after - before) * 1024.0 / 1e9;
    MESSAGE("100,000 stamps: " << pixels / 1e6 << " Mpx, pixel bytes " << cat.image_bytes() / 1e9 << " GB, allocated "
                               << cat.allocated_bytes() / 1e9 << " GB, RSS growth " << gb << " GB, load " << secs << " s");
    CHECK(gb < 4.0);
    CHECK(cat.galaxy_view(54321)(0, 0) == 54321.0f);
    CHECK(cat.psf_view(99999)(0, 0) == 99999.0f);
  }
}

TEST_CASE("gzip-compressed stamp files load like plain ones") {
  ds::test::TempDir tmp;
  write_stamps(tmp / "stamps.fits", 3);
  REQUIRE(std::system(("gzip -c '" + (tmp / "stamps.fits") + "' > '" + (tmp / "stamps.fits.gz") + "'").c_str()) == 0);
  write_catalog(tmp / "cat.fits", {1, 2}, "stamps.fits.gz", {2, 0}, "stamps.fits.gz", {1, 1});
  RealGalaxyCatalog cat = RealGalaxyCatalog::load(tmp / "cat.fits");
  CHECK(cat.galaxy_view(0)(0, 0) == 3.0f);
  CHECK(cat.galaxy_view(0).nx() == 7);
  CHECK(cat.galaxy_view(1)(0, 0) == 1.0f);
  CHECK(cat.psf_view(1)(3, 5) == 2.0f);
}
