// deepshear evaluate: the paper's evaluation on simulations (sec. 5). Renders a
// calibration set and a test set once, runs every estimator on the same
// stamps, and writes Table 4, Figures 10-12, bias by population and the
// background-offset test as JSON, CSV and SVG into one folder.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <sstream>

#include "cli.hpp"
#include "deepshear/engine/atomic_file.hpp"
#include "deepshear/engine/data_path.hpp"
#include "deepshear/engine/error.hpp"
#include "deepshear/engine/log.hpp"
#include "deepshear/engine/plot.hpp"
#include "deepshear/engine/progress.hpp"
#include "deepshear/lensing/estimators/cnn.hpp"
#include "deepshear/lensing/estimators/ksb.hpp"
#include "deepshear/lensing/estimators/rrg.hpp"
#include "deepshear/lensing/estimators/stamp_psf.hpp"
#include "deepshear/lensing/training/evaluation.hpp"

namespace {

using namespace ds;
using namespace ds::lens;
using Results = std::map<std::string, std::vector<ShearEstimate>>;

// The estimators, set up once for one PSF.
struct Estimators {
  std::vector<std::string> names;
  std::unique_ptr<CnnEstimator> cnn;
  StampPsf psf;  // the Gaussian PSF and the pixel
  RrgOptions rrg;

  Estimators(const std::string& list, const std::string& model, bool symmetrise, const img::StampSetup& setup) {
    std::stringstream ss(list);
    std::string name;
    while (std::getline(ss, name, ',')) {
      name = trim(name);
      if (name != "cnn" && name != "rrg" && name != "ksb")
        throw Error::usage("estimators: unknown estimator '" + name + "' (known: cnn, rrg, ksb)");
      names.push_back(name);
      if (name == "cnn") cnn = std::make_unique<CnnEstimator>(CnnEstimator::load(model, symmetrise, true));
    }
    psf = StampPsf::gaussian(setup.psf_fwhm, setup.pixel_scale);
  }

  void run(const Tensor& stamps, Results& out) {
    for (const auto& n : names) {
      std::vector<ShearEstimate> g;
      if (n == "cnn") g = cnn->estimate(stamps);
      if (n == "rrg") g = rrg_estimate(stamps, psf.moments, rrg, rrg.fixed_G > 0 ? nullptr : &rrg.fixed_G);
      if (n == "ksb") g = ksb_estimate(stamps, psf.image.view());
      auto& dst = out[n];
      dst.insert(dst.end(), g.begin(), g.end());
    }
  }
};

// Renders a set in chunks (bounded memory) and runs the estimators on each.
void render_and_estimate(const StampSetConfig& c, Estimators& est, std::vector<StampTruth>& truth, Results& res,
                         const std::string& label) {
  const long chunk = 20000, total = c.n;
  Progress p(label, total, "stamps");
  StampRenderer renderer(c);  // loads the noise kernel and any catalogue once
  for (long first = 0; first < total; first += chunk) {
    StampSet set = renderer.render(first, std::min(chunk, total - first), &p);
    truth.insert(truth.end(), set.truth.begin(), set.truth.end());
    est.run(set.stamps, res);
  }
  p.finish();
}

std::vector<double> column(const std::vector<StampTruth>& t, double StampTruth::*f) {
  std::vector<double> v;
  for (const auto& x : t) v.push_back(x.*f);
  return v;
}

std::vector<double> centres(const std::vector<BinStats>& b) {
  std::vector<double> v;
  for (const auto& s : b) v.push_back(s.centre);
  return v;
}

template <class F>
std::vector<double> pick(const std::vector<BinStats>& b, F f) {
  std::vector<double> v;
  for (const auto& s : b) v.push_back(f(s));
  return v;
}

std::string default_model() {
  try {
    return data_path("model_default.dsm");
  } catch (const Error&) {
    return "";
  }
}

void line_plot(const std::string& path, const std::string& title, const std::string& xlabel,
               const std::string& ylabel, const std::map<std::string, std::vector<BinStats>>& series,
               double (*y)(const BinStats&), double (*e)(const BinStats&)) {
  plot::Figure fig(720, 460);
  auto& ax = fig.axes();
  for (const auto& [name, bins] : series) ax.errorbars(centres(bins), pick(bins, y), pick(bins, e), name);
  ax.title(title);
  ax.xlabel(xlabel);
  ax.ylabel(ylabel);
  fig.save(path + ".svg");
  fig.save(path + ".png");
}

int run(int argc, char** argv) {
  Config cfg;
  StampSetConfig test_defaults;
  test_defaults.seed = 2;
  test_defaults.n = 4000;
  add_stamp_set_params(cfg, "", test_defaults);
  cfg.add_string("estimators", "cnn,rrg", "estimators to compare: any of cnn, rrg, ksb");
  cfg.add_string("model", default_model(), "CNN model file");
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
  ds::app::Args args("deepshear evaluate [--estimators cnn,rrg,ksb] [--model M] [--n N] [--seed S] "
                     "[--noise-scale F] [--config FILE] --out DIR",
                     "The paper's evaluation on simulations (sec. 5): renders a calibration set and a test set,\n"
                     "runs every estimator on the same stamps, and writes Table 4 (c, m, RMS with bootstrap\n"
                     "errors), Figures 10-12, bias by magnitude under a global and a per-galaxy calibration,\n"
                     "and the background-offset test, as JSON, CSV and SVG.");
  args.config(cfg);
  if (!args.parse(argc, argv)) return 0;
  const std::string out = cfg.get_string("out");
  if (out.empty()) throw Error::usage("evaluate: --out DIR is required");
  std::filesystem::create_directories(out);
  StampSetConfig test = stamp_set_from_config(cfg, "");
  test.split = Split::Test;
  StampSetConfig calib = test;
  calib.split = Split::Calibration;
  calib.n = cfg.get_int("calibration_n");
  const int nboot = int(cfg.get_int("nboot"));
  Estimators est(cfg.get_string("estimators"), cfg.get_string("model"), cfg.get_bool("symmetrise"), test.setup);

  // Calibration set: global (c, m) and a per-galaxy calibration in magnitude.
  std::vector<StampTruth> ctruth;
  Results cres;
  render_and_estimate(calib, est, ctruth, cres, "calibration set");
  std::map<std::string, Calibration> cal;
  std::map<std::string, BinnedCalibration> cal_mag, cal_snr;
  auto cmag = column(ctruth, &StampTruth::magnitude), csnr = column(ctruth, &StampTruth::snr);
  for (const auto& n : est.names) {
    auto r = bias_report(ctruth, cres[n], nullptr, 0);
    cal[n] = r.applied;
    // RRG and KSB keep their calibration in a file (the CNN's is in its model).
    cal[n].save(out + "/calibration_" + n + ".cfg", n);
    auto per_galaxy = [&](const std::string& what, const std::vector<double>& qa) {
      std::vector<double> q, t1, t2, o1, o2;
      for (std::size_t i = 0; i < ctruth.size(); ++i)
        if (!cres[n][i].flags && std::isfinite(qa[i]))
          q.push_back(qa[i]), t1.push_back(ctruth[i].g1), t2.push_back(ctruth[i].g2), o1.push_back(cres[n][i].g1),
              o2.push_back(cres[n][i].g2);
      return BinnedCalibration::fit(what, q, t1, t2, o1, o2, int(cfg.get_int("mag_bins")));
    };
    cal_mag[n] = per_galaxy("magnitude", cmag);
    // The per-galaxy calibration in magnitude, for catalogues (deepshear cluster).
    cal_mag[n].save(out + "/calibration_" + n + "_magnitude.cfg", n);
    cal_snr[n] = per_galaxy("snr", csnr);
  }

  // Test set.
  std::vector<StampTruth> truth;
  Results res;
  render_and_estimate(test, est, truth, res, "test set");
  auto mag = column(truth, &StampTruth::magnitude), snr = column(truth, &StampTruth::snr);
  auto mag_edges = quantile_edges(mag, int(cfg.get_int("mag_bins")));
  std::vector<double> snr_edges;
  bool have_snr = false;
  for (double v : snr) have_snr = have_snr || std::isfinite(v);
  if (have_snr) snr_edges = quantile_edges(snr, int(cfg.get_int("mag_bins")));
  std::vector<double> g_edges;
  for (int b = 0; b <= 16; ++b) g_edges.push_back(-test.shear_range + 2 * test.shear_range * b / 16.0 + (b == 16 ? 1e-12 : 0));

  std::string json = "{\"test_set\": {\"n\": " + std::to_string(truth.size()) + ", \"seed\": " +
                     std::to_string(test.seed) + ", \"source\": \"" + json_escape(test.source) + "\"}, ";
  json += "\"note\": \"table4_self: (c, m) fitted on the test set itself and applied (the paper's way); "
          "table4_calibrated: (c, m) fitted on the disjoint calibration set and applied to the test set\", ";
  std::string t4_self, t4_cal, mag_global, mag_pergal, fig12, csv = "estimator,quantity,lo,hi,n,rms,rms_err,m1,m1_err,c1,c1_err,m2,m2_err,c2,c2_err\n";
  std::map<std::string, std::vector<BinStats>> fig10, fig12a, fig12b, bias_global, bias_pergal, snr_global,
      snr_pergal;
  std::string snr_g, snr_p;
  for (const auto& n : est.names) {
    auto self = bias_report(truth, res[n], nullptr, nboot, test.seed);
    auto calr = bias_report(truth, res[n], &cal[n], nboot, test.seed);
    t4_self += (t4_self.empty() ? "" : ", ") + ("\"" + n + "\": " + self.to_json());
    t4_cal += (t4_cal.empty() ? "" : ", ") + ("\"" + n + "\": " + calr.to_json());
    fig10[n] = binned_stats(mag, mag_edges, truth, res[n], self.applied);
    bias_global[n] = binned_stats(mag, mag_edges, truth, res[n], cal[n]);
    bias_pergal[n] = binned_stats(mag, mag_edges, truth, res[n], cal[n], &cal_mag[n], &mag);
    fig12a[n] = binned_stats(column(truth, &StampTruth::g1), g_edges, truth, res[n], self.applied);
    fig12b[n] = binned_stats(column(truth, &StampTruth::g2), g_edges, truth, res[n], self.applied);
    if (have_snr) {
      snr_global[n] = binned_stats(snr, snr_edges, truth, res[n], cal[n]);
      snr_pergal[n] = binned_stats(snr, snr_edges, truth, res[n], cal[n], &cal_snr[n], &snr);
      snr_g += (snr_g.empty() ? "" : ", ") + ("\"" + n + "\": " + bins_to_json(snr_global[n]));
      snr_p += (snr_p.empty() ? "" : ", ") + ("\"" + n + "\": " + bins_to_json(snr_pergal[n]));
      csv += bins_to_csv(n, "snr", snr_global[n]) + bins_to_csv(n + "/percal", "snr", snr_pergal[n]);
    }
    mag_global += (mag_global.empty() ? "" : ", ") + ("\"" + n + "\": " + bins_to_json(bias_global[n]));
    mag_pergal += (mag_pergal.empty() ? "" : ", ") + ("\"" + n + "\": " + bins_to_json(bias_pergal[n]));
    fig12 += (fig12.empty() ? "" : ", ") + ("\"" + n + "\": {\"g1\": " + bins_to_json(fig12a[n]) + ", \"g2\": " +
                                            bins_to_json(fig12b[n]) + "}");
    csv += bins_to_csv(n, "magnitude", fig10[n]) + bins_to_csv(n + "/percal", "magnitude", bias_pergal[n]) +
           bins_to_csv(n, "g1_true", fig12a[n]) + bins_to_csv(n, "g2_true", fig12b[n]);
    if (n == "rrg") json += "\"rrg_G\": " + std::to_string(est.rrg.fixed_G) + ", ";
  }
  json += "\"table4_self\": {" + t4_self + "}, \"table4_calibrated\": {" + t4_cal + "}, ";
  json += "\"bias_by_magnitude_global\": {" + mag_global + "}, \"bias_by_magnitude_per_galaxy\": {" + mag_pergal + "}, ";
  json += "\"bias_by_snr_global\": {" + snr_g + "}, \"bias_by_snr_per_galaxy\": {" + snr_p + "}, ";
  json += "\"figure12\": {" + fig12 + "}, ";

  // Figure 10 at other noise levels: one model each.
  std::string f10 = "";
  {
    std::vector<std::string> models;
    std::stringstream ss(cfg.get_string("fig10_models"));
    std::string m;
    while (std::getline(ss, m, ',')) if (!trim(m).empty()) models.push_back(trim(m));
    auto scales = cfg.get_doubles("fig10_noise_scales");
    if (models.size() != scales.size())
      throw Error::usage("fig10_models has " + std::to_string(models.size()) + " entries but fig10_noise_scales has " +
                         std::to_string(scales.size()));
    for (std::size_t k = 0; k < models.size(); ++k) {
      StampSetConfig c = test;
      c.noise_scale = test.noise_scale * scales[k];
      Estimators e2("cnn,rrg", models[k], cfg.get_bool("symmetrise"), test.setup);
      std::vector<StampTruth> t2;
      Results r2;
      render_and_estimate(c, e2, t2, r2, "noise x" + std::to_string(scales[k]));
      auto m2 = column(t2, &StampTruth::magnitude);
      for (const auto& n : e2.names) {
        auto self = bias_report(t2, r2[n], nullptr, 0);
        char key[64];
        std::snprintf(key, sizeof key, "%s x%g", n.c_str(), scales[k]);
        fig10[key] = binned_stats(m2, mag_edges, t2, r2[n], self.applied);
      }
    }
    for (const auto& [n, b] : fig10) f10 += (f10.empty() ? "" : ", ") + ("\"" + n + "\": " + bins_to_json(b));
  }
  json += "\"figure10\": {" + f10 + "}, ";

  // Figure 11 (centroid perturbation) and the background offset test.
  auto sweep = [&](const std::string& what, const std::vector<double>& values) {
    std::map<std::string, std::vector<BinStats>> curves;
    for (double v : values) {
      StampSetConfig c = test;
      c.n = cfg.get_int("sweep_n");
      (what == "centroid" ? c.centroid_fraction : c.background) = v;
      std::vector<StampTruth> t2;
      Results r2;
      render_and_estimate(c, est, t2, r2, what + " " + std::to_string(v));
      for (const auto& n : est.names) {
        BinStats s;
        s.lo = s.hi = s.centre = v;
        auto all = binned_stats(std::vector<double>(t2.size(), 0.0), {0.0, 1.0}, t2, r2[n], cal[n]);
        s = all[0];
        s.lo = s.hi = s.centre = v;
        curves[n].push_back(s);
      }
    }
    return curves;
  };
  auto fig11 = sweep("centroid", cfg.get_doubles("fig11_fractions"));
  auto bg = sweep("background", cfg.get_doubles("backgrounds"));
  std::string f11, fbg;
  for (const auto& [n, b] : fig11) f11 += (f11.empty() ? "" : ", ") + ("\"" + n + "\": " + bins_to_json(b));
  for (const auto& [n, b] : bg) fbg += (fbg.empty() ? "" : ", ") + ("\"" + n + "\": " + bins_to_json(b));
  json += "\"figure11_centroid\": {" + f11 + "}, \"background_offset\": {" + fbg + "}, ";
  json += "\"config\": " + cfg.to_json() + "}\n";
  for (const auto& [n, b] : fig11) csv += bins_to_csv(n, "centroid_fraction", b);
  for (const auto& [n, b] : bg) csv += bins_to_csv(n, "background", b);

  write_text_atomic(out + "/evaluation.json", json);
  write_text_atomic(out + "/evaluation.csv", csv);
  write_text_atomic(out + "/config.cfg", cfg.dump());
  auto rms = [](const BinStats& s) { return s.rms; };
  auto rms_err = [](const BinStats& s) { return s.rms_err; };
  auto m1 = [](const BinStats& s) { return s.m1; };
  auto m1_err = [](const BinStats& s) { return s.m1_err; };
  line_plot(out + "/figure10_rms_by_magnitude", "RMS error per magnitude bin", "magnitude", "RMS(g - g_true)",
            fig10, rms, rms_err);
  line_plot(out + "/figure11_centroid", "RMS against centroid perturbation", "perturbation / r_half",
            "RMS(g - g_true)", fig11, rms, rms_err);
  line_plot(out + "/figure12_rms_by_g1", "RMS in bins of true g1", "g1 (true)", "RMS(g - g_true)", fig12a, rms,
            rms_err);
  line_plot(out + "/figure12_bias_by_g1", "multiplicative bias in bins of true g1", "g1 (true)", "m1", fig12a,
            m1, m1_err);
  line_plot(out + "/bias_by_magnitude_global", "m1 per magnitude bin, global calibration", "magnitude", "m1",
            bias_global, m1, m1_err);
  line_plot(out + "/bias_by_magnitude_per_galaxy", "m1 per magnitude bin, per-galaxy calibration", "magnitude",
            "m1", bias_pergal, m1, m1_err);
  if (have_snr) {
    line_plot(out + "/bias_by_snr_global", "m1 per S/N bin, global calibration", "S/N", "m1", snr_global, m1, m1_err);
    line_plot(out + "/bias_by_snr_per_galaxy", "m1 per S/N bin, per-galaxy calibration", "S/N", "m1", snr_pergal,
              m1, m1_err);
  }
  line_plot(out + "/background_offset", "RMS against a constant background", "background", "RMS(g - g_true)", bg,
            rms, rms_err);
  // Table 4 on the terminal.
  std::printf("%-5s %9s %9s %9s %9s %9s %9s   (test set calibrated on itself)\n", "", "c1", "m1", "c2", "m2",
              "sigma1", "sigma2");
  for (const auto& n : est.names) {
    auto r = bias_report(truth, res[n], nullptr, 0);
    std::printf("%-5s %9.4f %9.4f %9.4f %9.4f %9.4f %9.4f\n", n.c_str(), r.fit1.c, r.fit1.m, r.fit2.c, r.fit2.m,
                r.rms1, r.rms2);
  }
  info("evaluation written to " + out + "/ (evaluation.json, evaluation.csv, figures as SVG and PNG, config.cfg)");
  return 0;
}

ds::app::Register reg("evaluate", "the paper's evaluation on simulations: CNN, RRG, KSB side by side", run);

}  // namespace
