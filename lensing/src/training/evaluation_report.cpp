#include <cstdio>
#include <filesystem>

#include "deepshear/engine/atomic_file.hpp"
#include "deepshear/engine/provenance.hpp"
#include "deepshear/lensing/training/evaluate_run.hpp"
#include "deepshear/lensing/training/report_figures.hpp"

namespace ds::lens {

namespace {

// {name: bins} for the estimators in their order (those without bins are left out).
Json by_estimator(const std::vector<std::string>& names, const BinSeries& series) {
  Json out = Json::object();
  for (const auto& n : names)
    if (series.count(n)) out[n] = bins_to_json(series.at(n));
  return out;
}

// {name: bins} for every series, in name order (extra Figure 10 models included).
Json by_name(const BinSeries& series) {
  Json out = Json::object();
  for (const auto& [n, bins] : series) out[n] = bins_to_json(bins);
  return out;
}

Json table4_json(const std::vector<std::string>& names, const std::map<std::string, BiasReport>& t) {
  Json out = Json::object();
  for (const auto& n : names) out[n] = t.at(n).to_json();
  return out;
}

}  // namespace

Json EvaluationReport::to_json() const {
  Json j;
  j["test_set"] = Json{{"n", test_n}, {"seed", test_seed}, {"source", test_source}};
  j["note"] =
      "table4_self: (c, m) fitted on the test set itself and applied (the paper's way); "
      "table4_calibrated: (c, m) fitted on the disjoint calibration set and applied to the test set";
  if (rrg_G) j["rrg_G"] = *rrg_G;
  j["table4_self"] = table4_json(estimators, table4_self);
  j["table4_calibrated"] = table4_json(estimators, table4_calibrated);
  j["bias_by_magnitude_global"] = by_estimator(estimators, bias_magnitude_global);
  j["bias_by_magnitude_per_galaxy"] = by_estimator(estimators, bias_magnitude_per_galaxy);
  j["bias_by_snr_global"] = by_estimator(estimators, bias_snr_global);
  j["bias_by_snr_per_galaxy"] = by_estimator(estimators, bias_snr_per_galaxy);
  Json fig12 = Json::object();
  for (const auto& n : estimators)
    fig12[n] = Json{{"g1", bins_to_json(figure12_g1.at(n))}, {"g2", bins_to_json(figure12_g2.at(n))}};
  j["figure12"] = fig12;
  j["figure10"] = by_name(figure10);
  j["figure11_centroid"] = by_name(figure11_centroid);
  j["background_offset"] = by_name(background_offset);
  j["config"] = config;
  return j;
}

std::string EvaluationReport::to_csv() const {
  std::string csv = "estimator,quantity,lo,hi,n,rms,rms_err,m1,m1_err,c1,c1_err,m2,m2_err,c2,c2_err\n";
  for (const auto& n : estimators) {
    if (bias_snr_global.count(n))
      csv += bins_to_csv(n, "snr", bias_snr_global.at(n)) + bins_to_csv(n + "/percal", "snr", bias_snr_per_galaxy.at(n));
    csv += bins_to_csv(n, "magnitude", figure10.at(n)) +
           bins_to_csv(n + "/percal", "magnitude", bias_magnitude_per_galaxy.at(n)) +
           bins_to_csv(n, "g1_true", figure12_g1.at(n)) + bins_to_csv(n, "g2_true", figure12_g2.at(n));
  }
  for (const auto& [n, b] : figure11_centroid) csv += bins_to_csv(n, "centroid_fraction", b);
  for (const auto& [n, b] : background_offset) csv += bins_to_csv(n, "background", b);
  return csv;
}

void write_evaluation(const EvaluationReport& r, const std::string& folder) {
  std::filesystem::create_directories(folder);
  for (const auto& n : r.estimators) {
    // RRG and KSB keep their calibration in a file (the CNN's is in its model);
    // the per-galaxy one in magnitude is for catalogues (deepshear cluster).
    r.calibration.at(n).save(folder + "/calibration_" + n + ".cfg", n);
    r.calibration_magnitude.at(n).save(folder + "/calibration_" + n + "_magnitude.cfg", n);
  }
  write_text_atomic(folder + "/evaluation.json", report_text(r.to_json()));
  write_text_atomic(folder + "/evaluation.csv", r.to_csv());
  write_text_atomic(folder + "/config.cfg", config_text(r.config_file));
  save_evaluation_figures(r, folder);
}

std::string table4_text(const EvaluationReport& r) {
  char line[256];
  std::snprintf(line, sizeof line, "%-5s %9s %9s %9s %9s %9s %9s   (test set calibrated on itself)\n", "", "c1",
                "m1", "c2", "m2", "sigma1", "sigma2");
  std::string out = line;
  for (const auto& n : r.estimators) {
    const auto& t = r.table4_self.at(n);
    std::snprintf(line, sizeof line, "%-5s %9.4f %9.4f %9.4f %9.4f %9.4f %9.4f\n", n.c_str(), t.fit1.c, t.fit1.m,
                  t.fit2.c, t.fit2.m, t.rms1, t.rms2);
    out += line;
  }
  return out;
}

}  // namespace ds::lens
