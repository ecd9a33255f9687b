// SExtractor catalogues in their three output formats read to the same columns.
#include <doctest/doctest.h>

#include <fstream>

#include "deepshear/engine/fits.hpp"
#include "deepshear/lensing/cluster/sextractor.hpp"
#include "test_support.hpp"

using ds::lens::SourceList;

TEST_CASE("SExtractor catalogues: ASCII_HEAD, FITS_1.0 and FITS_LDAC give the same sources") {
  ds::test::TempDir tmp;
  std::ofstream(tmp / "cat.txt") << "#   1 NUMBER                 Running object number\n"
                                    "#   2 X_IMAGE                Object position along x                         [pixel]\n"
                                    "#   3 Y_IMAGE                Object position along y                         [pixel]\n"
                                    "#   4 MAG_AUTO               Kron-like elliptical aperture magnitude         [mag]\n"
                                    "#   5 FLUX_RADIUS            Fraction-of-light radii                         [pixel]\n"
                                    "#   7 FLAGS                  Extraction flags\n"
                                    "   1   100.5   200.25  23.10  3.2  5.1  0\n"
                                    "   2  1500.0    12.00  25.70  1.9  3.0  2\n";
  auto a = SourceList::read(tmp / "cat.txt");
  REQUIRE(a.size() == 2);
  CHECK(a.column("x_image")[1] == 1500.0);
  CHECK(a.column("MAG_AUTO")[0] == doctest::Approx(23.1));
  CHECK(a.column("FLUX_RADIUS_2")[0] == doctest::Approx(5.1));  // a 2-element vector parameter
  CHECK(a.column("FLAGS")[1] == 2);
  CHECK_THROWS_WITH_AS(a.column("A_IMAGE"), doctest::Contains("no column 'A_IMAGE'"), ds::Error);
  for (bool ldac : {false, true}) {
    std::string path = tmp / (ldac ? "cat.ldac" : "cat.fits");
    ds::fits::FitsWriter w(path);
    if (ldac) w.write_table({ds::fits::TableColumn::strings("Field Header Card", {"SIMPLE = T"})}, "LDAC_IMHEAD");
    w.write_table({ds::fits::TableColumn::int32s("NUMBER", {1, 2}), ds::fits::TableColumn::doubles("X_IMAGE", {100.5, 1500.0}),
                   ds::fits::TableColumn::doubles("MAG_AUTO", {23.1, 25.7}),
                   ds::fits::TableColumn::doubles("FLUX_RADIUS", {3.2, 5.1, 1.9, 3.0}, 2)},
                  ldac ? "LDAC_OBJECTS" : "");
    w.commit();
    auto b = SourceList::read(path);
    CHECK(b.size() == 2);
    CHECK(b.column("X_IMAGE")[1] == 1500.0);
    CHECK(b.column("FLUX_RADIUS_2")[0] == doctest::Approx(5.1));
    CHECK(b.column("flux_radius")[1] == doctest::Approx(1.9));
  }
  std::ofstream(tmp / "bad.txt") << "#   1 NUMBER\n#   2 X_IMAGE\n 1 2\n 3\n";
  CHECK_THROWS_WITH_AS(SourceList::read(tmp / "bad.txt"), doctest::Contains("bad.txt:4"), ds::Error);
}

TEST_CASE("SExtractor ASCII_HEAD: absurd column numbers are refused, an empty catalogue reads as empty") {
  ds::test::TempDir tmp;
  const std::string path = tmp / "cat.txt";
  // Two header lines and no rows: this used to expand 2^31 columns and hang.
  std::ofstream(path) << "#   1 X_IMAGE\n# 2147483647 Y_IMAGE\n";
  CHECK(ds::test::error_of([&] { ds::lens::SourceList::read(path); }).find("column number 2147483647") !=
        std::string::npos);
  std::ofstream(path) << "#   2 X_IMAGE\n#   1 Y_IMAGE\n";
  CHECK(!ds::test::error_of([&] { ds::lens::SourceList::read(path); }).empty());
  std::ofstream(path) << "#   1 X_IMAGE\n#   2 Y_IMAGE\n";
  const auto s = ds::lens::SourceList::read(path);
  CHECK(s.size() == 0);
  CHECK(s.has("Y_IMAGE"));
}
