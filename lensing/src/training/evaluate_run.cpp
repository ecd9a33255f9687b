#include "deepshear/lensing/training/evaluate_run.hpp"

#include <cmath>
#include <cstdio>

#include "deepshear/engine/data_path.hpp"
#include "deepshear/engine/error.hpp"
#include "deepshear/engine/progress.hpp"
#include "deepshear/engine/ranks.hpp"
#include "deepshear/lensing/estimators/across_ranks.hpp"
#include "deepshear/lensing/estimators/metacal.hpp"
#include "deepshear/imaging/noise.hpp"

namespace ds::lens {

void add_evaluation_params(Config& cfg) {
  StampSetConfig test_defaults;
  test_defaults.seed = 2;
  test_defaults.n = 4000;
  add_stamp_set_params(cfg, "", test_defaults);
  cfg.add_string("estimators", "cnn,rrg", "estimators to compare: any of " + known_estimators());
  cfg.add_string("model", data_path_or_empty("model_default.dsm"), "CNN model file");
  cfg.add_bool("symmetrise", true, "8-fold symmetrised CNN estimate");
  cfg.add_int("calibration_n", 4000, "stamps in the calibration set (disjoint sources)");
  cfg.add_int("nboot", 100, "bootstrap resamplings for errors");
  cfg.add_int("mag_bins", 5, "magnitude bins (Figure 10, bias by population)");
  cfg.add_string("fig10_models", "", "extra models, comma separated, one per fig10_noise_scales value");
  cfg.add_doubles("fig10_noise_scales", {}, "noise scales of the extra models (paper: 0.5, 0.25)");
  cfg.add_doubles("fig11_fractions", {0, 0.25, 0.5, 0.75, 1.0}, "centroid perturbations, fractions of r_half");
  cfg.add_int("sweep_n", 1000, "stamps per point of the centroid and background sweeps");
  cfg.add_doubles("backgrounds", {0, 0.001, 0.003, 0.01}, "constant background offsets");
  cfg.add_string("out", "", "output folder (required)");
  cfg.range("calibration_n", 0, 1e10).range("nboot", 1, 1e6).range("mag_bins", 1, 100).range("sweep_n", 1, 1e9);
  cfg.range("fig11_fractions", 0, 10).range("backgrounds", -1e30, 1e30);
}

EvaluationConfig evaluation_config(const Config& cfg) {
  EvaluationConfig c;
  c.test = stamp_set_from_config(cfg, "");
  c.test.split = Split::Test;
  c.calibration_n = cfg.get_int("calibration_n");
  c.estimators.clear();
  for (const auto& name : split_list(cfg.get_string("estimators"))) c.estimators.push_back(trim(name));
  check_estimator_names(c.estimators, "estimators");
  c.model = cfg.get_string("model");
  c.symmetrise = cfg.get_bool("symmetrise");
  c.nboot = int(cfg.get_int("nboot"));
  c.mag_bins = int(cfg.get_int("mag_bins"));
  for (const auto& m : split_list(cfg.get_string("fig10_models")))
    if (!trim(m).empty()) c.fig10_models.push_back(trim(m));
  c.fig10_noise_scales = cfg.get_doubles("fig10_noise_scales");
  if (c.fig10_models.size() != c.fig10_noise_scales.size())
    throw Error::usage("fig10_models has " + std::to_string(c.fig10_models.size()) +
                       " entries but fig10_noise_scales has " + std::to_string(c.fig10_noise_scales.size()));
  c.fig11_fractions = cfg.get_doubles("fig11_fractions");
  c.sweep_n = cfg.get_int("sweep_n");
  c.backgrounds = cfg.get_doubles("backgrounds");
  return c;
}

EstimatorSetup stamp_estimator_setup(const img::StampSetup& stamps, bool symmetrise, bool model_calibration) {
  EstimatorSetup s;
  s.psf_fwhm = stamps.psf_fwhm;
  s.pixel_scale = stamps.pixel_scale;
  s.symmetrise = symmetrise;
  s.model_calibration = model_calibration;
  return s;
}

namespace {

// A rendered set's truth and every estimator's results on its stamps.
struct Sample {
  std::vector<StampTruth> truth;
  std::map<std::string, EstimateBatch> results;
  std::map<std::string, EstimateBatch> metacal_raw;  // metacal results before any response division
  const std::vector<ShearEstimate>& of(const std::string& name) const { return results.at(name).estimates; }
};

// The estimators for the set-up of the test stamps (CNN with the model's own
// calibration, as it is used).
// The metacal estimators' fixnoise draws with the stamps' own kernel.
EstimatorSet make_estimators(const std::vector<std::string>& names, const std::string& model, bool symmetrise,
                             const StampSetConfig& stamps) {
  EstimatorSetup s = stamp_estimator_setup(stamps.setup, symmetrise, true);
  s.model_path = model;
  if (stamps.noise_scale > 0)
    s.noise_kernel = img::NoiseKernel::load(stamps.noise_kernel.empty() ? default_noise_kernel_path() : stamps.noise_kernel)
                         .scaled(stamps.noise_scale)
                         .values();
  return EstimatorSet(names, s, "estimators");
}

// Metacal results become <R>^-1 e, <R> the whole set's mean response.
Sample with_ensemble_response(Sample s) {
  for (auto& [name, batch] : s.results)
    if (has_response(batch)) {
      s.metacal_raw[name] = batch;
      divide_by_mean_response(batch);
    }
  return s;
}

// Renders a set in chunks of 20,000 stamps (bounded memory) and runs the
// estimators on each. Under MPI each rank renders and measures its share
// (across_ranks.hpp), and every rank gets the whole sample in item order,
// so that every statistic is computed on the same numbers as on one process.
Sample render_and_estimate(const StampSetConfig& c, EstimatorSet& est, const std::string& label) {
  const long chunk = 20000;
  const long b = rank_range(c.n).second;
  Sample mine;
  Progress p(label, share_fetched(c.n, chunk), "stamps");
  StampRenderer renderer(c);  // loads the noise kernel and any catalogue once
  const ChunkSource render = [&](long first, long m) {
    StampSet set = renderer.render(first, m, nullptr);
    mine.truth.insert(mine.truth.end(), set.truth.begin(), set.truth.begin() + std::min(m, b - first));
    return std::move(set.stamps);
  };
  mine.results = estimate_share(est, c.n, chunk, render, {}, &p);
  p.finish();
  if (ranks().size == 1) return with_ensemble_response(std::move(mine));
  Sample all;
  all.truth = gather_vector_to_all(mine.truth);
  all.results = gather_results(mine.results, true);
  return with_ensemble_response(std::move(all));
}

std::vector<double> column(const std::vector<StampTruth>& t, double StampTruth::*f) {
  std::vector<double> v;
  for (const auto& x : t) v.push_back(x.*f);
  return v;
}

// (c, m) in bins of a per-galaxy quantity qa, from the unflagged stamps with finite qa.
BinnedCalibration per_galaxy_calibration(const std::string& what, const std::vector<double>& qa,
                                         const std::vector<StampTruth>& truth,
                                         const std::vector<ShearEstimate>& est, int nbins) {
  std::vector<double> q, t1, t2, o1, o2;
  for (std::size_t i = 0; i < truth.size(); ++i)
    if (!est[i].flags && std::isfinite(qa[i]))
      q.push_back(qa[i]), t1.push_back(truth[i].g1), t2.push_back(truth[i].g2), o1.push_back(est[i].g1),
          o2.push_back(est[i].g2);
  return BinnedCalibration::fit(what, q, t1, t2, o1, o2, nbins);
}

// The calibration set: the global (c, m) and the per-galaxy calibrations in
// magnitude and S/N, per estimator.
void calibrate_on(const Sample& cal, const EvaluationConfig& cfg, EvaluationReport& r) {
  auto mag = column(cal.truth, &StampTruth::magnitude), snr = column(cal.truth, &StampTruth::snr);
  for (const auto& n : r.estimators) {
    // A self-calibrated (metacal) estimator gets no fitted global calibration: its
    // "globally calibrated" figures show it as it is, divided by <R> only.
    r.calibration[n] = estimator_kind(n).self_calibrated ? Calibration{} : bias_report(cal.truth, cal.of(n), nullptr, 0).applied;
    r.calibration_magnitude[n] = per_galaxy_calibration("magnitude", mag, cal.truth, cal.of(n), cfg.mag_bins);
    r.calibration_snr[n] = per_galaxy_calibration("snr", snr, cal.truth, cal.of(n), cfg.mag_bins);
  }
}

// Edges of 16 equal bins of the true shear over [-range, range].
std::vector<double> shear_edges(double range) {
  std::vector<double> e;
  for (int b = 0; b <= 16; ++b) e.push_back(-range + 2 * range * b / 16.0 + (b == 16 ? 1e-12 : 0));
  return e;
}

// S/N bins holding equal numbers, or none when no stamp has a finite S/N.
std::vector<double> snr_edges(const std::vector<double>& snr, int nbins) {
  for (double v : snr)
    if (std::isfinite(v)) return quantile_edges(snr, nbins);
  return {};
}

// binned_stats, with a metacal estimator's e divided by each bin's own mean
// response (each bin is its own ensemble) instead of the whole set's.
std::vector<BinStats> binned(const Sample& t, const std::string& n, const std::vector<double>& q,
                             const std::vector<double>& edges, const Calibration& cal) {
  const auto raw = t.metacal_raw.find(n);
  if (raw == t.metacal_raw.end()) return binned_stats(q, edges, t.truth, t.of(n), cal);
  std::vector<int> bin(q.size(), -1);
  for (std::size_t i = 0; i < q.size(); ++i)
    for (std::size_t b = 0; b + 1 < edges.size(); ++b)
      if (q[i] >= edges[b] && q[i] < edges[b + 1]) bin[i] = int(b);
  const auto e = divided_by_bin_response(raw->second, bin, int(edges.size()) - 1);
  return binned_stats(q, edges, t.truth, e, cal);
}

// The test set: Table 4, Figure 10 and 12 data and bias by population.
void test_on(const Sample& t, const EvaluationConfig& cfg, const std::vector<double>& mag_edges,
             EvaluationReport& r) {
  const auto mag = column(t.truth, &StampTruth::magnitude), snr = column(t.truth, &StampTruth::snr);
  const auto g1 = column(t.truth, &StampTruth::g1), g2 = column(t.truth, &StampTruth::g2);
  const auto s_edges = snr_edges(snr, cfg.mag_bins), g_edges = shear_edges(cfg.test.shear_range);
  for (const auto& n : r.estimators) {
    const auto& e = t.of(n);
    const auto& cal = r.calibration[n];
    auto self = r.table4_self[n] = bias_report(t.truth, e, nullptr, cfg.nboot, cfg.test.seed);
    r.table4_calibrated[n] = bias_report(t.truth, e, &cal, cfg.nboot, cfg.test.seed);
    r.figure10[n] = binned(t, n, mag, mag_edges, self.applied);
    r.bias_magnitude_global[n] = binned(t, n, mag, mag_edges, cal);
    r.bias_magnitude_per_galaxy[n] = binned_stats(mag, mag_edges, t.truth, e, cal, &r.calibration_magnitude[n], &mag);
    r.figure12_g1[n] = binned(t, n, g1, g_edges, self.applied);
    r.figure12_g2[n] = binned(t, n, g2, g_edges, self.applied);
    if (s_edges.empty()) continue;
    r.bias_snr_global[n] = binned(t, n, snr, s_edges, cal);
    r.bias_snr_per_galaxy[n] = binned_stats(snr, s_edges, t.truth, e, cal, &r.calibration_snr[n], &snr);
  }
}

// Figure 10 at other noise levels: CNN (one model each) and RRG, each
// self-calibrated, in the test set's magnitude bins.
void figure10_noise_levels(const EvaluationConfig& cfg, const std::vector<double>& mag_edges, EvaluationReport& r) {
  for (std::size_t k = 0; k < cfg.fig10_models.size(); ++k) {
    const double scale = cfg.fig10_noise_scales[k];
    StampSetConfig c = cfg.test;
    c.noise_scale = cfg.test.noise_scale * scale;
    EstimatorSet est = make_estimators({"cnn", "rrg"}, cfg.fig10_models[k], cfg.symmetrise, c);
    Sample s = render_and_estimate(c, est, "noise x" + std::to_string(scale));
    const auto mag = column(s.truth, &StampTruth::magnitude);
    for (const auto& n : est.names()) {
      auto self = bias_report(s.truth, s.of(n), nullptr, 0);
      char key[64];
      std::snprintf(key, sizeof key, "%s x%g", n.c_str(), scale);
      r.figure10[key] = binned_stats(mag, mag_edges, s.truth, s.of(n), self.applied);
    }
  }
}

// One point per value of a perturbation (the centroid fraction or the
// background) of sweep_n test stamps, calibrated with the calibration set's (c, m).
BinSeries sweep(const EvaluationConfig& cfg, EstimatorSet& est, const std::map<std::string, Calibration>& cal,
                const std::string& what, const std::vector<double>& values) {
  BinSeries curves;
  for (double v : values) {
    StampSetConfig c = cfg.test;
    c.n = cfg.sweep_n;
    (what == "centroid" ? c.centroid_fraction : c.background) = v;
    Sample s = render_and_estimate(c, est, what + " " + std::to_string(v));
    for (const auto& n : est.names()) {
      BinStats point = binned_stats(std::vector<double>(s.truth.size(), 0.0), {0.0, 1.0}, s.truth, s.of(n),
                                    cal.at(n))[0];
      point.lo = point.hi = point.centre = v;
      curves[n].push_back(point);
    }
  }
  return curves;
}

// RRG's susceptibility G as the report always printed it (six decimals).
double printed_G(ShearEstimator& rrg) {
  for (const auto& [key, value] : rrg.parameters())
    if (key == "G") return std::stod(std::to_string(value));
  throw Error("evaluation: the rrg estimator reports no G");
}

}  // namespace

EvaluationReport run_evaluation(const EvaluationConfig& cfg) {
  EvaluationReport r;
  r.estimators = cfg.estimators;
  EstimatorSet est = make_estimators(cfg.estimators, cfg.model, cfg.symmetrise, cfg.test);
  StampSetConfig calib = cfg.test;
  calib.split = Split::Calibration;
  calib.n = cfg.calibration_n;
  calibrate_on(render_and_estimate(calib, est, "calibration set"), cfg, r);

  Sample test = render_and_estimate(cfg.test, est, "test set");
  r.test_n = long(test.truth.size());
  r.test_seed = cfg.test.seed;
  r.test_source = cfg.test.source;
  const auto mag_edges = quantile_edges(column(test.truth, &StampTruth::magnitude), cfg.mag_bins);
  test_on(test, cfg, mag_edges, r);
  if (est.has("rrg")) r.rrg_G = printed_G(est["rrg"]);
  figure10_noise_levels(cfg, mag_edges, r);
  r.figure11_centroid = sweep(cfg, est, r.calibration, "centroid", cfg.fig11_fractions);
  r.background_offset = sweep(cfg, est, r.calibration, "background", cfg.backgrounds);
  return r;
}

EvaluationReport run_evaluation(const Config& cfg) {
  EvaluationReport r = run_evaluation(evaluation_config(cfg));
  r.config = Json::parse(cfg.to_json());
  r.config_file = cfg.dump();
  return r;
}

}  // namespace ds::lens
