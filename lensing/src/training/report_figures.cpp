#include "deepshear/lensing/training/report_figures.hpp"

#include "deepshear/engine/plot.hpp"
#include "deepshear/lensing/training/evaluate_run.hpp"

namespace ds::lens {

namespace {

double rms(const BinStats& s) { return s.rms; }
double rms_err(const BinStats& s) { return s.rms_err; }
double m1(const BinStats& s) { return s.m1; }
double m1_err(const BinStats& s) { return s.m1_err; }

std::vector<double> pick(const std::vector<BinStats>& bins, double (*f)(const BinStats&)) {
  std::vector<double> v;
  for (const auto& s : bins) v.push_back(f(s));
  return v;
}

double centre(const BinStats& s) { return s.centre; }

// One series per name: y(bin) with error bars e(bin) at the bins' centres (each series
// shifted by a tenth of a bin so none hides another), one marker shape per series; a dashed line at y = 0 labelled `zero_label` when it is not empty
// (the bias plots: m = 0); written as path.svg and path.png.
void line_plot(const std::string& path, const std::string& title, const std::string& xlabel,
               const std::string& ylabel, const BinSeries& series, double (*y)(const BinStats&),
               double (*e)(const BinStats&), const std::string& zero_label = "") {
  plot::Figure fig(720, 460);
  auto& ax = fig.axes();
  const plot::Marker marks[4] = {plot::Marker::Circle, plot::Marker::Square, plot::Marker::OpenCircle,
                                 plot::Marker::OpenSquare};
  int i = 0;
  for (const auto& [name, bins] : series) {
    std::vector<double> x = pick(bins, centre);
    const double step = x.size() > 1 ? (x.back() - x.front()) / double(x.size() - 1) : 0;
    for (auto& v : x) v += 0.12 * step * (i - 0.5 * double(series.size() - 1));  // side by side, not on top
    ax.errorbars(x, pick(bins, y), pick(bins, e), name, i, marks[i % 4]), ++i;
  }
  if (!zero_label.empty()) ax.hline(0, 7, zero_label);
  ax.title(title);
  ax.xlabel(xlabel);
  ax.ylabel(ylabel);
  fig.save(path + ".svg");
  fig.save(path + ".png");
}

}  // namespace

void save_evaluation_figures(const EvaluationReport& r, const std::string& folder) {
  const std::string f = folder + "/", rms_label = "RMS(g - g_true)";
  line_plot(f + "figure10_rms_by_magnitude", "RMS error per magnitude bin", "magnitude", rms_label, r.figure10, rms,
            rms_err);
  line_plot(f + "figure11_centroid", "RMS against centroid perturbation", "perturbation / r_half", rms_label,
            r.figure11_centroid, rms, rms_err);
  line_plot(f + "figure12_rms_by_g1", "RMS in bins of true g1", "g1 (true)", rms_label, r.figure12_g1, rms, rms_err);
  line_plot(f + "figure12_bias_by_g1", "multiplicative bias in bins of true g1", "g1 (true)", "m1", r.figure12_g1,
            m1, m1_err, "m = 0 (unbiased)");
  line_plot(f + "bias_by_magnitude_global", "m1 per magnitude bin, global calibration", "magnitude", "m1",
            r.bias_magnitude_global, m1, m1_err, "m = 0 (unbiased)");
  line_plot(f + "bias_by_magnitude_per_galaxy", "m1 per magnitude bin, per-galaxy calibration", "magnitude", "m1",
            r.bias_magnitude_per_galaxy, m1, m1_err, "m = 0 (unbiased)");
  if (!r.bias_snr_global.empty()) {
    line_plot(f + "bias_by_snr_global", "m1 per S/N bin, global calibration", "S/N", "m1", r.bias_snr_global, m1,
              m1_err, "m = 0 (unbiased)");
    line_plot(f + "bias_by_snr_per_galaxy", "m1 per S/N bin, per-galaxy calibration", "S/N", "m1",
              r.bias_snr_per_galaxy, m1, m1_err, "m = 0 (unbiased)");
  }
  line_plot(f + "background_offset", "RMS against a constant background", "background", rms_label,
            r.background_offset, rms, rms_err);
}

void save_loss_figure(const std::vector<nn::EpochRecord>& history, const std::string& path) {
  std::vector<double> ep, tl, vl;
  for (const auto& h : history) ep.push_back(double(h.epoch)), tl.push_back(h.train_loss), vl.push_back(h.val_loss);
  plot::Figure fig(720, 460);
  auto& ax = fig.axes();
  ax.line(ep, tl, "training loss");
  ax.line(ep, vl, "validation loss");
  ax.xlabel("epoch");
  ax.ylabel("mean squared error");
  ax.title("training history");
  fig.save(path);
}

}  // namespace ds::lens
