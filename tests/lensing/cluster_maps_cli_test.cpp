// deepshear maps end to end on mock cluster catalogues: a tangential shear
// field, a CNN-like and an RRG-like estimator with known noise.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "deepshear/engine/atomic_file.hpp"
#include "deepshear/engine/fits.hpp"
#include "deepshear/lensing/cluster/mock_field.hpp"
#include "test_support.hpp"

using namespace ds::lens;

TEST_CASE("cluster maps command: mock catalogues in, maps, calibration, errors and an index page out") {
  ds::test::TempDir tmp;
  std::vector<MockEstimator> est = {{"cnn", 0.22}, {"rrg", 0.28}};
  std::string args = "maps";
  for (int f = 0; f < 2; ++f) {
    auto shear = tangential_shear_field(0, 0, [](double r) { return 0.1 * 60.0 / (r + 60.0); });
    MockField m = mock_field(700, 240, 240, shear, est, 5, std::uint64_t(f));
    std::vector<ds::fits::TableColumn> cols = {ds::fits::TableColumn::doubles("X", m.sources.x),
                                               ds::fits::TableColumn::doubles("Y", m.sources.y)};
    for (std::size_t e = 0; e < est.size(); ++e) {
      std::string up = e == 0 ? "CNN" : "RRG";
      cols.push_back(ds::fits::TableColumn::doubles("G1_" + up, m.sources.g1[e]));
      cols.push_back(ds::fits::TableColumn::doubles("G2_" + up, m.sources.g2[e]));
    }
    std::string path = tmp / ("field" + std::to_string(f) + ".fits");
    ds::fits::FitsWriter w(path);
    w.write_table(cols, "SHEAR");
    w.commit();
    args += " '" + path + "'";
  }
  auto r = ds::test::run_cli(args + " --pixel-scale 1 --centre 0,0 --nboot 20 --nsplit 4 --lambdas 19.5,40 --quiet --out '" +
                             (tmp / "out") + "'");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  for (const char* f : {"index.html", "maps.json", "config.cfg", "field0_maps.fits", "field0_components.png",
                        "field0_whisker_cnn.png", "field0_kappa_rrg.png", "field0_kappa_cnn.fits", "field1_profile.png", "sigma_vs_lambda.png",
                        "calibration_cnn_g1.png"})
    CHECK_MESSAGE(std::filesystem::exists(tmp / ("out/" + std::string(f))), f);
  std::string html = ds::read_text_file(tmp / "out/index.html");
  CHECK(html.find("field1_whisker_rrg.png") != std::string::npos);
  const auto json = nlohmann::json::parse(ds::read_text_file(tmp / "out/maps.json"));
  CHECK(json["relative_calibration"]["cnn"]["g1"]["samples"].get<long>() > 3);
  CHECK(json["fields"].size() == 2);
  CHECK(json["fields"][1]["estimators"]["rrg"]["tangential_profile"].size() == 8);
  CHECK(json["config"]["out"] == tmp / "out");
  // sigma_source follows the injected noise: the CNN-like estimator's is the smaller.
  auto at = [&](const std::string& est_name) {
    for (const auto& e : json["source_errors"])
      if (e["lambda"] == 19.5 && e["estimator"] == est_name) return e["sigma_source"].get<double>();
    FAIL("no sigma_source for " << est_name);
    return 0.0;
  };
  CHECK(at("cnn") == doctest::Approx(0.22).epsilon(0.1));
  CHECK(at("rrg") == doctest::Approx(0.28).epsilon(0.1));
  // A reference the catalogues lack: one line naming the columns, before any output.
  auto ksb = ds::test::run_cli(args + " --pixel-scale 1 --reference ksb --quiet --out '" + (tmp / "o3") + "'");
  CHECK(ksb.exit_code != 0);
  CHECK(ksb.err.find("G1_KSB and G2_KSB") != std::string::npos);
  CHECK(ksb.err.find("field0.fits") != std::string::npos);
  CHECK(std::count(ksb.err.begin(), ksb.err.end(), '\n') == 1);
  CHECK_FALSE(std::filesystem::exists(tmp / "o3"));
  // Bad input names the file.
  auto bad = ds::test::run_cli("maps '" + (tmp / "out/maps.json") + "' --out '" + (tmp / "o2") + "'");
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("maps.json") != std::string::npos);
}
