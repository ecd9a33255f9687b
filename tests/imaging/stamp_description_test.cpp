// The stamp description of deepshear render: one key table for flags and JSON
// (a stamp from flags equals the stamp from the same JSON), strict JSON (unknown,
// misspelt and repeated keys, malformed numbers, bad escapes and wrong types are
// errors naming the file and the key).
#include <doctest/doctest.h>

#include <string>

#include "deepshear/engine/atomic_file.hpp"
#include "deepshear/engine/fits.hpp"
#include "deepshear/imaging/stamp_description.hpp"
#include "test_support.hpp"

using namespace ds::img;

namespace {

// The description the flags `sets` (key=value pairs) give.
StampDescription from_flags(const std::vector<std::pair<std::string, std::string>>& sets) {
  ds::Config c;
  declare_stamp_description(c);
  for (const auto& [k, v] : sets) c.set(k, v);
  return stamp_description_from_config(c);
}

// The error message of applying JSON `text` (as file "s.json") to the defaults.
std::string json_error(const std::string& text) {
  StampDescription d = from_flags({});
  return ds::test::error_of([&] { apply_stamp_json(d, text, "s.json"); });
}

bool same_pixels(const ds::ImageF& a, const ds::ImageF& b) {
  if (a.nx() != b.nx() || a.ny() != b.ny()) return false;
  for (long i = 0; i < a.size(); ++i)
    if (a.data()[i] != b.data()[i]) return false;
  return true;
}

}  // namespace

TEST_CASE("render description: every key is declared once, with a flag and at most one JSON place") {
  std::set<std::string> flags, places;
  for (const auto& k : stamp_description_keys()) {
    CHECK_MESSAGE(flags.insert(k.flag).second, k.flag);
    if (*k.json) CHECK_MESSAGE(places.insert(k.json).second, k.json);
  }
  ds::Config c;
  declare_stamp_description(c);
  CHECK(c.keys().size() == stamp_description_keys().size());
}

TEST_CASE("render description: a stamp from flags is the stamp from the same JSON, bit for bit") {
  StampDescription f = from_flags({{"galaxy", "sersic"}, {"n", "1.5"}, {"hlr", "0.25"}, {"flux", "40"},
                                   {"g1", "0.1"}, {"g2", "-0.05"}, {"psf", "moffat"}, {"psf_fwhm", "0.15"},
                                   {"psf_beta", "3"}, {"psf_g1", "0.02"}, {"pixel_scale", "0.05"}, {"nx", "40"},
                                   {"ny", "36"}, {"offset_x", "0.2"}, {"offset_y", "-0.1"}, {"noise", "default"},
                                   {"noise_scale", "0.5"}, {"noise_seed", "4"}, {"noise_index", "3"}});
  StampDescription j = from_flags({});
  apply_stamp_json(j, R"({"galaxy": {"kind": "sersic", "n": 1.5, "hlr": 0.25, "flux": 40, "g1": 0.1, "g2": -0.05},
      "psf": {"kind": "moffat", "fwhm": 0.15, "beta": 3, "g1": 0.02}, "pixel_scale": 0.05, "nx": 40, "ny": 36,
      "offset": [0.2, -0.1], "noise": {"kernel": "default", "scale": 0.5, "seed": 4, "index": 3}})",
                   "s.json");
  const RenderedStamp a = render_described_stamp(f), b = render_described_stamp(j);
  CHECK(same_pixels(a.image, b.image));
  CHECK(a.image.sum() == doctest::Approx(40).epsilon(0.05));  // the flux, noise aside
  // A \u escape is the character it names.
  StampDescription e = from_flags({});
  apply_stamp_json(e, R"({"galaxy": {"kind": "\u0067aussian"}})", "s.json");
  CHECK(e.kind == "gaussian");
}

TEST_CASE("render description: unknown, misspelt and repeated keys are errors naming the file and the key") {
  std::string m = json_error(R"({"galaxy": {"hrl": 0.3}})");
  CHECK(m.find("s.json") != std::string::npos);
  CHECK(m.find("'galaxy.hrl'") != std::string::npos);
  CHECK(m.find("galaxy.hlr") != std::string::npos);  // the known keys are listed
  m = json_error(R"({"pixelscale": 0.1})");
  CHECK(m.find("s.json: key 'pixelscale'") != std::string::npos);
  m = json_error(R"({"psf": {"fwhm": 0.1, "fwhm": 0.2}})");
  CHECK(m.find("s.json: key 'psf.fwhm' appears twice") != std::string::npos);
  m = json_error(R"({"transforms": [{"spin": 3}]})");
  CHECK(m.find("transforms[0]") != std::string::npos);
  CHECK(m.find("spin") != std::string::npos);
}

TEST_CASE("render description: malformed numbers, bad escapes and wrong types are errors naming the file and the key") {
  for (const char* bad : {"inf", "nan", "NaN", "0x10", "+1", "1e999", "Infinity"}) {
    std::string m = json_error(std::string(R"({"galaxy": {"hlr": )") + bad + "}}");
    CHECK_MESSAGE(m.find("s.json") != std::string::npos, bad << ": " << m);
    CHECK_MESSAGE(m.find("galaxy.hlr") != std::string::npos, bad << ": " << m);
  }
  std::string m = json_error(R"({"galaxy": {"catalog": "a\qb"}})");
  CHECK(m.find("s.json") != std::string::npos);
  CHECK(m.find("galaxy.catalog") != std::string::npos);
  m = json_error(R"({"galaxy": {"hlr": "big"}})");
  CHECK(m.find("s.json: key 'galaxy.hlr' must be a number") != std::string::npos);
  m = json_error(R"({"nx": 32.5})");
  CHECK(m.find("key 'nx' must be an integer") != std::string::npos);
  m = json_error(R"({"offset": [0.1]})");
  CHECK(m.find("key 'offset' must be [x, y]") != std::string::npos);
  m = json_error(R"({"transforms": [{"lens": [0.1, 0]}]})");
  CHECK(m.find("key 'transforms[0].lens' needs a list of 3 numbers") != std::string::npos);
}

TEST_CASE("render description: deepshear render names the file and key of a bad description") {
  ds::test::TempDir tmp;
  ds::write_text_atomic(tmp / "bad.json", R"({"galaxy": {"kind": "gaussian", "hrl": 0.3}})");
  auto r = ds::test::run_cli("render --quiet --json '" + (tmp / "bad.json") + "' --out '" + (tmp / "x.fits") + "'");
  CHECK(r.exit_code != 0);
  CHECK(r.err.find(tmp / "bad.json") != std::string::npos);
  CHECK(r.err.find("galaxy.hrl") != std::string::npos);
  // Flags and JSON through the command give the same file pixels.
  ds::write_text_atomic(tmp / "ok.json", R"({"galaxy": {"kind": "exponential", "hlr": 0.4, "flux": 7},
                                            "psf": {"kind": "none"}, "pixel": false, "nx": 20, "ny": 24})");
  auto a = ds::test::run_cli("render --quiet --json '" + (tmp / "ok.json") + "' --out '" + (tmp / "a.fits") + "'");
  auto b = ds::test::run_cli("render --quiet --galaxy=exponential --hlr=0.4 --flux=7 --psf=none --pixel=false "
                             "--nx=20 --ny=24 --out '" + (tmp / "b.fits") + "'");
  REQUIRE(a.exit_code == 0);
  REQUIRE(b.exit_code == 0);
  ds::fits::FitsFile fa(tmp / "a.fits"), fb(tmp / "b.fits");
  CHECK(same_pixels(fa.read_image<float>(), fb.read_image<float>()));
}

TEST_CASE("render description: deep nesting is an error, not a stack overflow") {
  // 200,000 brackets: far past any stack a recursive parser could use.
  const std::string deep = std::string(200000, '[') + std::string(200000, ']');
  CHECK(json_error(deep).find("s.json: JSON nested deeper than 32 levels") != std::string::npos);
  const std::string objects = R"({"galaxy": )" + std::string(40, '[') + std::string(40, ']') + "}";
  CHECK(json_error(objects).find("nested deeper") != std::string::npos);
}
