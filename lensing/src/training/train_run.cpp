#include "deepshear/lensing/training/train_run.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "deepshear/engine/build_info.hpp"
#include "deepshear/engine/error.hpp"
#include "deepshear/engine/log.hpp"
#include "deepshear/engine/parallel.hpp"
#include "deepshear/engine/progress.hpp"
#include "deepshear/engine/random.hpp"
#include "deepshear/lensing/estimators/cnn.hpp"
#include "deepshear/lensing/estimators/rrg.hpp"
#include "deepshear/lensing/estimators/stamp_psf.hpp"
#include "deepshear/lensing/training/stamp_set.hpp"
#include "deepshear/lensing/training/stamp_stream.hpp"
#include "deepshear/nn/inference.hpp"
#include "deepshear/nn/refit.hpp"

namespace ds::lens {

void add_training_params(Config& c) {
  StampSetConfig train;
  train.split = Split::Train;
  train.n = 100000;
  train.seed = 1;
  train.size_jitter = 0.15;  // (ii)
  train.shift_range = 3.5;   // (iii): the original code's +-3.5 px ((u - 0.5) * 7); the paper says +-7
  add_stamp_set_params(c, "train.", train);
  c.add_int("val_n", 5000, "validation stamps (train split sources, fixed noise)");
  c.add_int("refit_n", 20000, "stamps of the (iv)-only set for the final least-squares refit");
  c.add_int("calibration_n", 20000, "stamps of the calibration set (disjoint sources) for (c, m)");
  c.add_string("arch", "", "network architecture in text form ('' = springer2018)");
  c.add_int("epochs", 25, "training epochs");
  c.add_int("max_steps", 0, "stop after this many steps in total (0 = no limit)");
  c.add_int("batch", 100, "minibatch size");
  c.add_double("lr", 3e-4, "RMSProp learning rate");
  c.add_int("patience", 10, "epochs without validation improvement before the learning rate drops");
  c.add_double("lr_floor", 2e-6, "lowest learning rate");
  c.add_bool("fresh_noise", true, "draw new noise for the training stamps every epoch");
  c.add_bool("stream", false,
             "render new training stamps for every step on a background thread into a bounded queue "
             "(an epoch is then train.n fresh stamps) instead of one fixed set with fresh noise");
  c.add_bool("symmetrise", true, "calibrate the symmetrised estimate (as it is used)");
  c.add_string("checkpoint", "", "checkpoint file ('' = out + '.ckpt'); a run resumes from it");
  c.add_int("checkpoint_every", 500, "steps between checkpoints");
  c.add_string("out", "model.dsm", "model file to write");
}

std::string TrainingReport::to_json() const {
  std::string h = "[";
  for (std::size_t i = 0; i < history.size(); ++i) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "%s{\"epoch\": %ld, \"step\": %ld, \"train_loss\": %.6g, \"val_loss\": %.6g, \"lr\": %.3g, \"samples_per_s\": %.0f}",
                  i ? ", " : "", history[i].epoch, history[i].step, history[i].train_loss,
                  std::isfinite(history[i].val_loss) ? history[i].val_loss : -1.0, history[i].lr,
                  history[i].samples_per_s);
    h += buf;
  }
  h += "]";
  std::string f = "[";
  for (std::size_t i = 0; i < refit_factor.size(); ++i) f += (i ? ", " : "") + std::to_string(refit_factor[i]);
  f += "]";
  auto fit = [](const BiasFit& b) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "{\"c\": %.6g, \"c_err\": %.3g, \"m\": %.6g, \"m_err\": %.3g, \"rms\": %.6g, \"n\": %ld}", b.c,
                  b.c_err, b.m, b.m_err, b.rms, b.n);
    return std::string(buf);
  };
  return "{\"history\": " + h + ", \"attenuation_factors\": " + f + ", \"calibration\": " + calibration.to_json() +
         ", \"calibration_set\": {\"cnn_g1\": " + fit(cal_fit1) + ", \"cnn_g2\": " + fit(cal_fit2) +
         ", \"rrg_g1\": " + fit(rrg_fit1) + ", \"rrg_g2\": " + fit(rrg_fit2) + "}}";
}

namespace {

// Normalised network inputs and shear targets of a rendered set.
void inputs_of(const StampSet& s, std::vector<float>& x, std::vector<float>& y) {
  const long n = s.stamps.dim(0);
  x.resize(std::size_t(s.stamps.size()));
  y.resize(std::size_t(n * 2));
  network_inputs(s, 0, n, x.data(), y.data());
}

StampSet render(const StampSetConfig& c, const std::string& label) {
  Progress p(label, c.n, "stamps");
  StampSet s = make_stamp_set(c, &p);
  p.finish();
  return s;
}

}  // namespace

TrainingReport train_shear_model(const Config& cfg) {
  StampSetConfig train = stamp_set_from_config(cfg, "train.");
  train.split = Split::Train;
  const std::string out = cfg.get_string("out");
  std::string ckpt = cfg.get_string("checkpoint");
  if (ckpt.empty()) ckpt = out + ".ckpt";

  // Validation: same sources' split, other stamps, fixed noise.
  StampSetConfig val = train;
  val.first = train.n;
  val.n = cfg.get_int("val_n");
  // Final-stage sets: (iv) only, as the test sets.
  StampSetConfig refit = train;
  refit.size_jitter = refit.shift_range = refit.mu_range = 0;
  refit.magnitude_segments = false;
  refit.first = train.n + val.n;
  refit.n = cfg.get_int("refit_n");
  StampSetConfig calib = refit;
  calib.split = Split::Calibration;
  calib.first = 0;
  calib.n = cfg.get_int("calibration_n");

  // Training stamps: by default rendered once without noise, noise drawn per
  // epoch in fetch(); with `stream`, rendered afresh in the background instead.
  const bool stream_mode = cfg.get_bool("stream");
  const bool fresh = cfg.get_bool("fresh_noise") && !stream_mode;
  StampSetConfig clean = train;
  if (fresh) clean.noise_scale = 0;
  if (stream_mode) clean.n = 1;  // only the shape is used
  StampSet tr = render(clean, "training set");
  StampSet vs = render(val, "validation set");
  img::NoiseKernel kernel;
  if (fresh && train.noise_scale > 0)
    kernel = img::NoiseKernel::load_text(train.noise_kernel.empty() ? default_noise_kernel_path() : train.noise_kernel)
                 .scaled(train.noise_scale);

  nn::Model model;
  std::string arch = cfg.get_string("arch");
  model.net = nn::Network(arch.empty() ? nn::Architecture::springer2018() : nn::Architecture::parse(arch, "arch"));
  model.net.init_glorot(train.seed);
  model.norm = nn::InputNorm::MeanStd;

  nn::TrainOptions opt;
  opt.batch = cfg.get_int("batch");
  opt.epochs = cfg.get_int("epochs");
  opt.max_steps = cfg.get_int("max_steps");
  opt.optimizer.lr = cfg.get_double("lr");
  opt.schedule.patience = int(cfg.get_int("patience"));
  opt.schedule.min_lr = cfg.get_double("lr_floor");
  opt.seed = train.seed;
  opt.checkpoint = ckpt;
  opt.checkpoint_every = cfg.get_int("checkpoint_every");
  opt.progress = !quiet();
  nn::Trainer trainer(model.net, opt);
  if (std::filesystem::exists(ckpt)) {
    trainer.load_checkpoint(ckpt);
    info("resuming from " + ckpt + " at step " + std::to_string(trainer.step()));
  }

  const long m = tr.stamps.dim(1) * tr.stamps.dim(2);
  nn::DataSource source;
  source.size = train.n;
  std::vector<float> buf;
  source.fetch = [&](const long* idx, long n, float* x, float* y) {
    // Noise keyed by (seed, item, epoch): a resumed run draws the same noise.
    const long epoch = trainer.epoch();
    parallel_for(n, [&](long j, int) {
      const long i = idx[j];
      thread_local std::vector<float> tmp;
      tmp.assign(tr.stamps.data() + i * m, tr.stamps.data() + (i + 1) * m);
      if (fresh && train.noise_scale > 0) {
        RandomStream r(train.seed, "train.noise", std::uint64_t(i) + std::uint64_t(train.n) * std::uint64_t(epoch));
        img::add_correlated_noise(ImageView<float>(tmp.data(), tr.stamps.dim(1), tr.stamps.dim(2)), kernel, r);
      }
      nn::normalise_stamp(tmp.data(), m, x + j * m);
      y[2 * j] = float(tr.truth[std::size_t(i)].g1);
      y[2 * j + 1] = float(tr.truth[std::size_t(i)].g2);
    });
  };
  // Stream mode: stamps 10^9 + s of the training split, s = step * batch, so a
  // resumed run continues the same sequence (and never meets the validation,
  // refit or test stamps).
  std::unique_ptr<StampStream> stream;
  if (stream_mode) {
    stream = std::make_unique<StampStream>(train, 1000000000L + trainer.step() * opt.batch);
    source.fetch = [&](const long*, long n, float* x, float* y) { stream->next(n, x, y); };
  }
  std::vector<float> vx, vy;
  inputs_of(vs, vx, vy);
  nn::DataSource vsrc = nn::DataSource::from_memory(vx.data(), vy.data(), val.n, m, 2);
  trainer.run(source, &vsrc);
  trainer.restore_best();

  TrainingReport report;
  report.history = trainer.history();

  // Final stage: refit of the last layer with the attenuation correction.
  {
    StampSet rs = render(refit, "refit set");
    std::vector<float> rx, ry;
    inputs_of(rs, rx, ry);
    auto r = nn::refit_last_layer_from_inputs(model.net, rx.data(), ry.data(), refit.n, nn::InputNorm::None, true);
    report.refit_factor = r.factor;
  }
  // Calibration (c, m) of the estimate as it is used, on disjoint sources;
  // RRG on the same stamps for comparison.
  {
    StampSet cs = render(calib, "calibration set");
    std::vector<double> t1, t2, o1, o2, r1, r2, q1, q2;
    CnnEstimator cnn(model, cfg.get_bool("symmetrise"), false);
    auto g = cnn.estimate(cs.stamps);
    auto rrg = rrg_estimate(cs.stamps, StampPsf::gaussian(calib.setup.psf_fwhm, calib.setup.pixel_scale).moments,
                            RrgOptions{});
    for (std::size_t i = 0; i < g.size(); ++i) {
      const auto& t = cs.truth[i];
      if (!g[i].flags) t1.push_back(t.g1), t2.push_back(t.g2), o1.push_back(g[i].g1), o2.push_back(g[i].g2);
      if (!rrg[i].flags) q1.push_back(t.g1), q2.push_back(t.g2), r1.push_back(rrg[i].g1), r2.push_back(rrg[i].g2);
    }
    report.cal_fit1 = fit_bias(t1, o1);
    report.cal_fit2 = fit_bias(t2, o2);
    report.rrg_fit1 = fit_bias(q1, r1);
    report.rrg_fit2 = fit_bias(q2, r2);
    report.calibration = {report.cal_fit1.c, report.cal_fit1.m, report.cal_fit2.c, report.cal_fit2.m};
    model.cal_c = {report.calibration.c1, report.calibration.c2};
    model.cal_m = {report.calibration.m1, report.calibration.m2};
  }
  model.provenance = trainer.provenance();
  model.provenance["config"] = cfg.dump();
  model.provenance["report"] = report.to_json();
  model.provenance["code_version"] = build_info().version;
  nn::save_model(model, out);
  return report;
}

}  // namespace ds::lens
