// Training the shear CNN end to end (paper sec. 3-4): render a training set
// (augmentations (i)-(iv)) once without noise and draw fresh correlated noise
// for every epoch; a fixed noisy validation set; RMSProp with the
// reduce-on-plateau schedule and best-validation weights (nn::Trainer); then
// the final stage: least-squares refit of the last layer on a (iv)-only set,
// the attenuation factor, and a symmetrised (c, m) calibration fitted on a
// disjoint calibration set; all written into the model file with the full
// configuration and the training history.
#pragma once
#include <string>
#include <vector>

#include "deepshear/engine/config.hpp"
#include "deepshear/lensing/calibration.hpp"
#include "deepshear/lensing/training/report_json.hpp"
#include "deepshear/nn/model_file.hpp"
#include "deepshear/nn/train.hpp"

namespace ds::lens {

// Declares every parameter of a training run in cfg, with the defaults of the
// shipped model.
void add_training_params(Config& cfg);

struct TrainingReport {
  std::vector<nn::EpochRecord> history;
  std::vector<double> refit_factor;       // attenuation factors applied
  Calibration calibration;                // stored in the model
  BiasFit cal_fit1, cal_fit2;             // fits on the calibration set (before calibration)
  BiasFit rrg_fit1, rrg_fit2;             // RRG on the same calibration stamps
  // training.json's object: {history: [{epoch, step, train_loss, val_loss
  // (-1 when none), lr, samples_per_s}], attenuation_factors, calibration,
  // calibration_set: {cnn_g1, cnn_g2, rrg_g1, rrg_g2}}; losses to 6 digits.
  Json to_json() const;
};

// Runs the whole procedure described above and writes the model file named
// by cfg "out" (atomically); checkpoints to "checkpoint" every
// "checkpoint_every" steps and resumes from it when it exists.
TrainingReport train_shear_model(const Config& cfg);

// The evaluation of the model a run with train_cfg (add_training_params)
// writes, as `deepshear evaluate` parameters (add_evaluation_params): CNN and
// RRG on n test stamps and n calibration stamps of the training set-up
// (train.source, train.noise_scale, train.noise_kernel), the test defaults
// otherwise, and `folder` as "out". Each value set names its flag as origin,
// so the report records the configuration that command would.
Config training_evaluation_params(const Config& train_cfg, long n, const std::string& folder);

}  // namespace ds::lens
