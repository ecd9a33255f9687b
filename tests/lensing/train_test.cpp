// The end-to-end training path on a tiny run: a model file with its
// calibration, configuration and history, which the CNN estimator loads.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>

#include "deepshear/lensing/estimators/cnn.hpp"
#include "deepshear/lensing/training/train_run.hpp"
#include "test_support.hpp"

using namespace ds::lens;

namespace {

// A training run small enough for a test: a tiny network, few stamps.
ds::Config tiny_training(const std::string& out, long train_n, long small_n, long epochs) {
  ds::Config cfg;
  add_training_params(cfg);
  cfg.set("train.n", std::to_string(train_n));
  cfg.set("val_n", "100");
  cfg.set("refit_n", std::to_string(small_n));
  cfg.set("calibration_n", std::to_string(small_n));
  cfg.set("epochs", std::to_string(epochs));
  cfg.set("arch", "input 32 32 1; conv 8 5 3 relu; affine 16 relu 0.1; affine 2 none 0");
  cfg.set("out", out);
  return cfg;
}

}  // namespace

TEST_CASE("a tiny training run writes a calibrated model that the estimator loads") {
  ds::test::TempDir tmp;
  ds::Config cfg = tiny_training(tmp / "m.dsm", 400, 200, 1);
  auto report = train_shear_model(cfg);
  REQUIRE(report.history.size() == 1);
  CHECK(report.history[0].step == 4);  // 400 stamps in batches of 100
  CHECK(std::isfinite(report.history[0].val_loss));
  REQUIRE(report.refit_factor.size() == 2);
  CHECK(report.refit_factor[0] >= 1.0);  // attenuation is undone by scaling up
  auto est = CnnEstimator::load(tmp / "m.dsm");
  REQUIRE(est.model().cal_m.size() == 2);
  CHECK(est.model().cal_m[0] == doctest::Approx(report.calibration.m1));
  CHECK(est.model().provenance.at("config").find("train.n = 400") != std::string::npos);
  CHECK(est.model().provenance.count("report") == 1);
  CHECK(std::filesystem::exists(tmp / "m.dsm.ckpt"));
}

TEST_CASE("the whole training path runs on the BlendingToolKit COSMOS real-galaxy catalogue") {
  DS_REQUIRE_SHARED(cat, "BlendingToolKit/data/cosmos/real_galaxy_catalog_26_extension_example.fits");
  ds::test::TempDir tmp;
  ds::Config cfg = tiny_training(tmp / "real.dsm", 200, 100, 1);
  cfg.set("train.source", cat);
  cfg.set("train.magnitude_segments", "true");
  auto report = train_shear_model(cfg);
  CHECK(report.history.size() == 1);
  CHECK(std::isfinite(report.calibration.m1));
  CHECK(std::filesystem::exists(tmp / "real.dsm"));
}

TEST_CASE("training from the stream runs and writes a model") {
  ds::test::TempDir tmp;
  ds::Config cfg = tiny_training(tmp / "s.dsm", 200, 100, 2);
  cfg.set("stream", "true");
  auto report = train_shear_model(cfg);
  REQUIRE(report.history.size() == 2);
  CHECK(report.history[1].step == 4);
  CHECK(std::isfinite(report.history[1].val_loss));
}
