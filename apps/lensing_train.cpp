// deepshear train: trains the shear CNN end to end on rendered stamps (paper
// sec. 3-4) and writes a model file with its calibration, configuration and
// history, plus a report (loss curves as SVG, JSON).
#include <cstdio>
#include <filesystem>
#include <string>

#include "cli.hpp"
#include "deepshear/engine/atomic_file.hpp"
#include "deepshear/engine/log.hpp"
#include "deepshear/engine/provenance.hpp"
#include "deepshear/engine/ranks.hpp"
#include "deepshear/lensing/training/evaluate_run.hpp"
#include "deepshear/lensing/training/report_figures.hpp"
#include "deepshear/lensing/training/train_run.hpp"

namespace {

int run(int argc, char** argv) {
  ds::Config cfg;
  ds::lens::add_training_params(cfg);
  cfg.add_string("report", "", "folder for the training report ('' = out + '.report')");
  cfg.add_int("evaluate_n", 4000, "test stamps of the evaluation run into the report (0 = none)");
  ds::app::Args args("deepshear train [--config FILE] [--KEY=VALUE ...]",
                     "Trains the shear CNN on stamps rendered in memory: augmentations (i)-(iv), fresh noise each\n"
                     "epoch, RMSProp with the reduce-on-plateau schedule and the best validation weights, then the\n"
                     "final stage (least-squares refit of the last layer on a (iv)-only set, attenuation factor,\n"
                     "symmetrised (c, m) from a disjoint calibration set). Checkpoints every checkpoint_every steps;\n"
                     "rerunning the same command resumes from the checkpoint.");
  args.config(cfg);
  if (!args.parse(argc, argv)) return 0;
  std::string report_dir = cfg.get_string("report");
  if (report_dir.empty()) report_dir = cfg.get_string("out") + ".report";
  auto report = ds::lens::train_shear_model(cfg);  // data parallel over MPI ranks; rank 0 writes the model
  ds::barrier();                                    // the model is on disk before any rank reads it
  if (!ds::ranks().root()) {  // the other ranks take their share of the evaluation only
    if (const long n = cfg.get_int("evaluate_n"); n > 0)
      ds::lens::run_evaluation(ds::lens::training_evaluation_params(cfg, n, report_dir + "/evaluation"));
    return 0;
  }
  std::filesystem::create_directories(report_dir);
  ds::write_text_atomic(report_dir + "/training.json", ds::report_text(report.to_json()));
  ds::write_text_atomic(report_dir + "/config.cfg", ds::config_text(cfg.dump()));
  ds::lens::save_loss_figure(report.history, report_dir + "/loss.svg");
  std::printf("model %s: CNN on the calibration set m1 %.4f m2 %.4f c1 %.4f c2 %.4f, RMS %.4f %.4f; "
              "RRG RMS %.4f %.4f\n",
              cfg.get_string("out").c_str(), report.cal_fit1.m, report.cal_fit2.m, report.cal_fit1.c,
              report.cal_fit2.c, report.cal_fit1.rms, report.cal_fit2.rms, report.rrg_fit1.rms, report.rrg_fit2.rms);
  // The evaluation figures of the new model against RRG on a test set of the
  // same set-up, as `deepshear evaluate` writes and prints them.
  if (const long n = cfg.get_int("evaluate_n"); n > 0) {
    const std::string folder = report_dir + "/evaluation";
    const auto evaluation = ds::lens::run_evaluation(ds::lens::training_evaluation_params(cfg, n, folder));
    ds::lens::write_evaluation(evaluation, folder);
    std::fputs(ds::lens::table4_text(evaluation).c_str(), stdout);
    ds::info("evaluation written to " + folder + "/ (evaluation.json, evaluation.csv, figures as SVG and PNG, config.cfg)");
  }
  ds::info("report written to " + report_dir + "/");
  return 0;
}

ds::app::Register reg("train", "train the shear CNN end to end on rendered stamps", run);

}  // namespace
