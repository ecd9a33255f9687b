// The end-to-end training path on a tiny run: a model file with its
// calibration, configuration and history, which the CNN estimator loads.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>

#include "deepshear/lensing/estimators/cnn.hpp"
#include "deepshear/lensing/estimators/estimator.hpp"
#include "deepshear/lensing/estimators/rrg.hpp"
#include "deepshear/lensing/estimators/stamp_psf.hpp"
#include "deepshear/lensing/training/evaluate_run.hpp"
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
  ds::Config cfg = tiny_training(tmp / "new/m.dsm", 400, 200, 1);  // the folder is made first
  auto report = train_shear_model(cfg);
  REQUIRE(report.history.size() == 1);
  CHECK(report.history[0].step == 4);  // 400 stamps in batches of 100
  CHECK(std::isfinite(report.history[0].val_loss));
  REQUIRE(report.refit_factor.size() == 2);
  CHECK(report.refit_factor[0] >= 1.0);  // attenuation is undone by scaling up
  auto est = CnnEstimator::load(tmp / "new/m.dsm");
  REQUIRE(est.model().cal_m.size() == 2);
  CHECK(est.model().cal_m[0] == doctest::Approx(report.calibration.m1));
  CHECK(est.model().provenance.at("config").find("train.n = 400") != std::string::npos);
  CHECK(est.model().provenance.count("report") == 1);
  CHECK(std::filesystem::exists(tmp / "new/m.dsm.ckpt"));
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

TEST_CASE("the training report is JSON with the history, attenuation factors and calibration fits") {
  TrainingReport r;
  r.history.push_back({});
  r.history[0].epoch = 1, r.history[0].step = 4, r.history[0].train_loss = 0.01234567, r.history[0].lr = 3e-4;
  r.history[0].val_loss = std::nan("");
  r.refit_factor = {1.5, 2.25};
  r.calibration = {0.001, -0.1, 0.002, -0.2};
  r.cal_fit1.m = -0.1, r.cal_fit1.n = 200;
  const auto j = r.to_json();
  CHECK(j["history"][0]["step"] == 4);
  CHECK(j["history"][0]["train_loss"].get<double>() == 0.0123457);  // 6 digits
  CHECK(j["history"][0]["val_loss"].get<double>() == -1.0);        // none
  CHECK(j["attenuation_factors"][1].get<double>() == 2.25);
  CHECK(j["calibration"]["m2"].get<double>() == -0.2);
  CHECK(j["calibration_set"]["cnn_g1"]["n"] == 200);
  CHECK(j["calibration_set"].contains("rrg_g2"));
}

TEST_CASE("the evaluation after training: CNN and RRG on a test set of the training set-up") {
  ds::Config cfg = tiny_training("/tmp/m.dsm", 400, 200, 1);
  cfg.set("train.noise_scale", "0.5");
  const ds::Config e = training_evaluation_params(cfg, 300, "/tmp/m.dsm.report/evaluation");
  const EvaluationConfig c = evaluation_config(e);
  CHECK(c.model == "/tmp/m.dsm");
  CHECK(c.estimators == std::vector<std::string>{"cnn", "rrg"});
  CHECK(c.test.n == 300);
  CHECK(c.calibration_n == 300);
  CHECK(c.test.seed == 2);  // the test defaults otherwise
  CHECK(c.test.split == Split::Test);
  CHECK(c.test.noise_scale == 0.5);
  CHECK(e.get_string("out") == "/tmp/m.dsm.report/evaluation");
  CHECK(e.source("calibration_n") == "--calibration_n");  // as the evaluate command records it
}

TEST_CASE("the registry's CNN (uncalibrated) and RRG give the direct calls' numbers bit for bit") {
  StampSetConfig sc;
  sc.n = 64;
  sc.noise_scale = 1;
  const StampSet s = make_stamp_set(sc);
  ds::nn::Model model;
  model.net = ds::nn::Network(ds::nn::Architecture::parse("input 32 32 1; conv 4 5 3 relu; affine 2 none 0"));
  model.net.init_glorot(3);
  model.norm = ds::nn::InputNorm::MeanStd;
  model.cal_c = {0.1, 0.1}, model.cal_m = {0.5, 0.5};  // present but not applied
  EstimatorSetup setup;
  setup.psf_fwhm = sc.setup.psf_fwhm;
  setup.pixel_scale = sc.setup.pixel_scale;
  setup.model = std::make_shared<const ds::nn::Model>(model);
  setup.model_calibration = false;
  auto batches = EstimatorSet({"cnn", "rrg"}, setup).estimate(s.stamps);
  const auto cnn = CnnEstimator(model, true, false).estimate(s.stamps);
  const auto rrg = rrg_estimate(s.stamps, StampPsf::gaussian(sc.setup.psf_fwhm, sc.setup.pixel_scale).moments, {});
  for (std::size_t i = 0; i < cnn.size(); ++i) {
    CHECK(batches["cnn"].estimates[i].g1 == cnn[i].g1);
    CHECK(batches["cnn"].estimates[i].g2 == cnn[i].g2);
    CHECK(batches["rrg"].estimates[i].g1 == rrg[i].g1);
    CHECK(batches["rrg"].estimates[i].g2 == rrg[i].g2);
    CHECK(batches["rrg"].estimates[i].flags == rrg[i].flags);
  }
}

TEST_CASE("resuming with other training settings is an error naming them; more epochs are fine") {
  ds::test::TempDir tmp;
  ds::Config first = tiny_training(tmp / "m.dsm", 200, 100, 1);
  train_shear_model(first);
  REQUIRE(std::filesystem::exists(tmp / "m.dsm.ckpt"));
  ds::Config changed = tiny_training(tmp / "m.dsm", 300, 100, 1);
  changed.set("lr", "0.003");
  try {
    train_shear_model(changed);
    FAIL("resumed with other settings");
  } catch (const ds::Error& e) {
    const std::string m = e.what();
    CHECK(e.exit_code() == 2);
    CHECK(m.find("train.n 200 -> 300") != std::string::npos);
    CHECK(m.find("lr 0.0003 -> 0.003") != std::string::npos);
  }
  ds::Config longer = tiny_training(tmp / "m.dsm", 200, 100, 2);  // the same run, one epoch more
  CHECK(train_shear_model(longer).history.size() == 2);
}
