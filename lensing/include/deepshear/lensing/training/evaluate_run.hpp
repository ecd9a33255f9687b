// The paper's evaluation on simulations (sec. 5) as one call: renders a
// calibration set and a test set once, runs every estimator (through the
// estimator registry) on the same stamps, and returns Table 4 with bootstrap
// errors, the data of Figures 10-12, bias by magnitude and S/N under a global
// and a per-galaxy calibration, and the background-offset test.
// write_evaluation() puts it into a folder as `deepshear evaluate` does.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "deepshear/engine/config.hpp"
#include "deepshear/lensing/calibration.hpp"
#include "deepshear/lensing/estimators/estimator.hpp"
#include "deepshear/lensing/training/evaluation.hpp"
#include "deepshear/lensing/training/report_json.hpp"
#include "deepshear/lensing/training/stamp_set.hpp"

namespace ds::lens {

struct EvaluationConfig {
  StampSetConfig test;                      // the test set (split Test); the calibration set is this with split Calibration
  long calibration_n = 4000;                // stamps of the calibration set
  std::vector<std::string> estimators = {"cnn", "rrg"};  // registry names
  std::string model;                        // CNN model file
  bool symmetrise = true;                   // 8-fold symmetrised CNN estimate
  int nboot = 100;                          // bootstrap resamplings (Table 4 errors)
  int mag_bins = 5;                         // magnitude (and S/N) bins
  std::vector<std::string> fig10_models;    // extra models for Figure 10, one per noise scale
  std::vector<double> fig10_noise_scales;   // their noise scales (x the test set's)
  std::vector<double> fig11_fractions = {0, 0.25, 0.5, 0.75, 1.0};  // centroid shifts / r_half
  long sweep_n = 1000;                      // stamps per point of the centroid and background sweeps
  std::vector<double> backgrounds = {0, 0.001, 0.003, 0.01};  // constant background offsets
};

// Declares every parameter of `deepshear evaluate` in cfg (stamp set with the
// test defaults, estimators, model, sweeps, and "out", the output folder).
void add_evaluation_params(Config& cfg);
// Reads them back; checks the estimator names and the Figure 10 lists before
// any work (usage errors naming the key).
EvaluationConfig evaluation_config(const Config& cfg);

// An estimator set-up for rendered stamps of `stamps`: their round Gaussian
// PSF FWHM (arcsec) and pixel scale (arcsec / px), and the CNN's options (the
// caller adds the model, as a path or loaded).
EstimatorSetup stamp_estimator_setup(const img::StampSetup& stamps, bool symmetrise, bool model_calibration);

// Statistics per estimator name (or "cnn x0.5" for an extra Figure 10 model).
using BinSeries = std::map<std::string, std::vector<BinStats>>;

struct EvaluationReport {
  std::vector<std::string> estimators;  // in the order given
  long test_n = 0;                      // stamps of the test set
  std::uint64_t test_seed = 0;
  std::string test_source;
  // From the calibration set: the global (c, m) and the per-galaxy ones.
  std::map<std::string, Calibration> calibration;
  std::map<std::string, BinnedCalibration> calibration_magnitude, calibration_snr;
  // Table 4 on the test set: (c, m) fitted on itself, and with the calibration set's.
  std::map<std::string, BiasReport> table4_self, table4_calibrated;
  std::optional<double> rrg_G;          // RRG's susceptibility, when RRG ran
  BinSeries figure10;                   // RMS by magnitude, self-calibrated (+ extra models)
  BinSeries bias_magnitude_global, bias_magnitude_per_galaxy;
  BinSeries bias_snr_global, bias_snr_per_galaxy;  // empty when the stamps have no finite S/N
  BinSeries figure12_g1, figure12_g2;   // in 16 bins of true g1, g2 (self-calibrated)
  BinSeries figure11_centroid;          // one point per centroid fraction (calibration set's (c, m))
  BinSeries background_offset;          // one point per background
  Json config;                          // the run's configuration (Config::to_json)
  std::string config_file;              // the same as Config::dump, for config.cfg

  // evaluation.json's object (test_set, note, rrg_G, table4_self, ...).
  Json to_json() const;
  // evaluation.csv: estimator,quantity,lo,hi,n,rms,rms_err,m1,...,c2_err lines.
  std::string to_csv() const;
};

// Runs the whole evaluation. The Config overload records cfg in the report.
EvaluationReport run_evaluation(const EvaluationConfig& cfg);
EvaluationReport run_evaluation(const Config& cfg);

// Writes evaluation.json, evaluation.csv, calibration_<est>.cfg,
// calibration_<est>_magnitude.cfg, config.cfg and the figures (SVG and PNG)
// into `folder` (created when missing).
void write_evaluation(const EvaluationReport& report, const std::string& folder);

// Table 4 (test set calibrated on itself) as the terminal shows it.
std::string table4_text(const EvaluationReport& report);

}  // namespace ds::lens
