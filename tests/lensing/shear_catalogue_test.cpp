// The shear-catalogue schema: failed rows hold NaN, the flag bits are
// described in the header, and what is written reads back.
#include <doctest/doctest.h>

#include <cmath>

#include "deepshear/engine/fits.hpp"
#include "deepshear/lensing/shear_catalogue.hpp"
#include "test_support.hpp"

using namespace ds::lens;

TEST_CASE("catalogue: flagged and unmeasured rows hold NaN, measured rows their values") {
  EstimateBatch b;
  b.estimates = {{0.1, -0.2, 0}, {0.3, 0.4, kFlagEdge}};
  b.extra = {{"response", {0.9, 0.8}}};
  std::vector<ds::fits::TableColumn> cols;
  // Four catalogue rows; the estimates sit in rows 2 and 0, rows 1 and 3 were cut.
  catalogue::append_columns(cols, "rrg", b, {2, 0}, 4, kFlagCut);
  REQUIRE(cols.size() == 4);
  CHECK(cols[0].name == "G1_RRG");
  CHECK(cols[3].name == "RESPONSE_RRG");
  const auto& g1 = cols[0].f64;
  CHECK(g1[2] == 0.1);
  CHECK(std::isnan(g1[0]));  // flagged
  CHECK(std::isnan(g1[1]));
  CHECK(std::isnan(g1[3]));  // cut
  CHECK(std::isnan(cols[1].f64[0]));
  CHECK(cols[2].i32 == std::vector<std::int32_t>{std::int32_t(kFlagEdge), std::int32_t(kFlagCut), 0, std::int32_t(kFlagCut)});
  CHECK(cols[3].f64[2] == 0.9);
  CHECK(std::isnan(cols[3].f64[0]));
}

TEST_CASE("catalogue: the header names every flag bit as describe_flags does") {
  ds::test::TempDir tmp;
  const std::string path = tmp / "c.fits";
  {
    ds::fits::FitsWriter w(path);
    w.write_table({ds::fits::TableColumn::int32s("FLAGS_CNN", {0})}, "SHEAR");
    catalogue::write_flag_cards(w);
    w.commit();
  }
  ds::fits::FitsFile f(path);
  f.hdu("SHEAR");
  for (int bit = 0; bit < kFlagBits; ++bit)
    CHECK(f.key_string("FLAGBIT" + std::to_string(bit)) == describe_flags(1u << bit));
  CHECK(!f.has_key("FLAGBIT" + std::to_string(kFlagBits)));
  CHECK(describe_flags(kFlagEdge | kFlagCut) == "edge|cut");
  CHECK(describe_flags(0) == "ok");
}
