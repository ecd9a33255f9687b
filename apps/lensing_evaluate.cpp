// deepshear evaluate: the paper's evaluation on simulations (sec. 5). Renders a
// calibration set and a test set once, runs every estimator on the same
// stamps, and writes Table 4, Figures 10-12, bias by population and the
// background-offset test as JSON, CSV and SVG into one folder
// (lens::run_evaluation and lens::write_evaluation do the work).
#include <cstdio>

#include "cli.hpp"
#include "deepshear/engine/error.hpp"
#include "deepshear/engine/log.hpp"
#include "deepshear/engine/ranks.hpp"
#include "deepshear/lensing/training/evaluate_run.hpp"

namespace {

int run(int argc, char** argv) {
  ds::Config cfg;
  ds::lens::add_evaluation_params(cfg);
  ds::app::Args args("deepshear evaluate [--estimators cnn,rrg,ksb] [--model M] [--n N] [--seed S] "
                     "[--noise-scale F] [--config FILE] --out DIR",
                     "The paper's evaluation on simulations (sec. 5): renders a calibration set and a test set,\n"
                     "runs every estimator on the same stamps, and writes Table 4 (c, m, RMS with bootstrap\n"
                     "errors), Figures 10-12, bias by magnitude under a global and a per-galaxy calibration,\n"
                     "and the background-offset test, as JSON, CSV and SVG.");
  args.config(cfg);
  if (!args.parse(argc, argv)) return 0;
  const std::string out = cfg.get_string("out");
  if (out.empty()) throw ds::Error::usage("evaluate: --out DIR is required");
  const auto report = ds::lens::run_evaluation(cfg);  // split over MPI ranks, the same report on each
  if (!ds::ranks().root()) return 0;
  ds::lens::write_evaluation(report, out);
  std::fputs(ds::lens::table4_text(report).c_str(), stdout);
  ds::info("evaluation written to " + out + "/ (evaluation.json, evaluation.csv, figures as SVG and PNG, config.cfg)");
  return 0;
}

ds::app::Register reg("evaluate", "the paper's evaluation on simulations: CNN, RRG, KSB side by side", run);

}  // namespace
