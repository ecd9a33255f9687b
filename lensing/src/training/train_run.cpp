#include "deepshear/lensing/training/train_run.hpp"

#include <cmath>
#include <filesystem>
#include <memory>

#include "deepshear/engine/build_info.hpp"
#include "deepshear/engine/log.hpp"
#include "deepshear/engine/parallel.hpp"
#include "deepshear/engine/progress.hpp"
#include "deepshear/engine/random.hpp"
#include "deepshear/engine/ranks.hpp"
#include "deepshear/lensing/training/evaluate_run.hpp"
#include "deepshear/lensing/training/evaluation.hpp"
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
  c.add_bool("resume_with_changes", false,
             "resume from the checkpoint although training settings differ from its (else an error naming them)");
  c.add_string("out", "model.dsm", "model file to write");
  c.range("val_n", 1, 1e9).range("refit_n", 0, 1e9).range("calibration_n", 0, 1e10).range("epochs", 1, 1e6);
  c.range("max_steps", 0, 1e12).range("batch", 1, 1e6).range("lr", 0, 10).range("patience", 1, 1e6);
  c.range("lr_floor", 0, 10).range("checkpoint_every", 1, 1e12);
}

Json TrainingReport::to_json() const {
  Json h = Json::array();
  for (const auto& e : history)
    h.push_back({{"epoch", e.epoch},
                 {"step", e.step},
                 {"train_loss", json_printed(e.train_loss)},
                 {"val_loss", json_printed(std::isfinite(e.val_loss) ? e.val_loss : -1.0)},
                 {"lr", json_printed(e.lr, "%.3g")},
                 {"samples_per_s", static_cast<long long>(std::nearbyint(e.samples_per_s))}});
  Json factors = Json::array();
  for (double f : refit_factor) factors.push_back(json_printed(f, "%f"));
  return Json{{"history", h},
              {"attenuation_factors", factors},
              {"calibration", calibration_json(calibration)},
              {"calibration_set",
               {{"cnn_g1", bias_fit_json(cal_fit1)},
                {"cnn_g2", bias_fit_json(cal_fit2)},
                {"rrg_g1", bias_fit_json(rrg_fit1)},
                {"rrg_g2", bias_fit_json(rrg_fit2)}}}};
}

Config training_evaluation_params(const Config& train_cfg, long n, const std::string& folder) {
  Config e;
  add_evaluation_params(e);
  const std::pair<const char*, std::string> values[] = {
      {"model", train_cfg.get_string("out")},
      {"estimators", "cnn,rrg"},
      {"n", std::to_string(n)},
      {"calibration_n", std::to_string(n)},
      {"source", train_cfg.get_string("train.source")},
      {"noise_scale", train_cfg.text("train.noise_scale")},
      {"noise_kernel", train_cfg.get_string("train.noise_kernel")},
      {"out", folder}};
  for (const auto& [key, value] : values) e.set(key, value, std::string("--") + key);
  return e;
}

namespace {

// The four stamp sets of a run: training (split Train, stamps [0, train.n)),
// validation (the same split, the next val_n stamps, fixed noise), refit
// ((iv) only, the next refit_n stamps) and calibration ((iv) only, split
// Calibration, calibration_n stamps from 0, disjoint sources).
struct TrainingSets {
  StampSetConfig train, val, refit, calib;
};

TrainingSets training_sets(const Config& cfg) {
  TrainingSets s;
  s.train = stamp_set_from_config(cfg, "train.");
  s.train.split = Split::Train;
  s.val = s.train;
  s.val.first = s.train.n;
  s.val.n = cfg.get_int("val_n");
  s.refit = s.train;  // the final-stage sets: (iv) only, as the test sets
  s.refit.size_jitter = s.refit.shift_range = s.refit.mu_range = 0;
  s.refit.magnitude_segments = false;
  s.refit.first = s.train.n + s.val.n;
  s.refit.n = cfg.get_int("refit_n");
  s.calib = s.refit;
  s.calib.split = Split::Calibration;
  s.calib.first = 0;
  s.calib.n = cfg.get_int("calibration_n");
  return s;
}

// A set rendered with a progress line, split over the ranks of an MPI job;
// rank 0 gets it (to_all: every rank).
StampSet render(const StampSetConfig& c, const std::string& label, bool to_all = false) {
  const auto [first, last] = rank_range(c.n);  // this rank's share
  Progress p(label, last - first, "stamps");
  StampSet s = render_across_ranks(c, &p, to_all);
  p.finish();
  return s;
}

// Normalised network inputs x (n, ny * nx) and shear targets y (n, 2) of a rendered set.
void inputs_of(const StampSet& s, std::vector<float>& x, std::vector<float>& y) {
  const long n = s.stamps.dim(0);
  x.resize(std::size_t(s.stamps.size()));
  y.resize(std::size_t(n * 2));
  network_inputs(s, 0, n, x.data(), y.data());
}

// The training stamps the trainer reads. By default train.n stamps (n, ny, nx)
// in pixels rendered once without noise, correlated noise (the kernel, scaled
// by train.noise_scale) drawn afresh for every epoch; without fresh_noise the
// noisy set as rendered; with `stream`, new stamps for every step from a
// background thread (the set then holds one stamp, for its shape).
struct TrainingStamps {
  StampSetConfig config;  // the training set's
  bool fresh = false, stream = false;
  StampSet set;
  img::NoiseKernel kernel;  // loaded only for fresh noise
  std::unique_ptr<StampStream> streamer;
  long pixels() const { return set.stamps.dim(1) * set.stamps.dim(2); }
};

TrainingStamps training_stamps(const Config& cfg, const StampSetConfig& train) {
  TrainingStamps t;
  t.config = train;
  t.stream = cfg.get_bool("stream");
  t.fresh = cfg.get_bool("fresh_noise") && !t.stream;
  StampSetConfig clean = train;
  if (t.fresh) clean.noise_scale = 0;
  if (t.stream) clean.n = 1;  // only the shape is used
  if (t.stream && ranks().size > 1)
    throw Error::usage("train: --stream runs on one process (its stamps come in one sequence); across MPI ranks "
                       "train on the fixed set with fresh noise");
  t.set = render(clean, "training set", true);
  if (t.fresh && train.noise_scale > 0)
    t.kernel = img::NoiseKernel::load_text(train.noise_kernel.empty() ? default_noise_kernel_path() : train.noise_kernel)
                   .scaled(train.noise_scale);
  return t;
}

// Items idx[0..n) of the fixed set with this epoch's noise, normalised per
// stamp, into x (n, ny * nx), and their true (g1, g2) into y (n, 2). Noise is
// keyed by (seed, item, epoch): a resumed run draws the same noise.
void noisy_batch(const TrainingStamps& t, long epoch, const long* idx, long n, float* x, float* y) {
  const long ny = t.set.stamps.dim(1), nx = t.set.stamps.dim(2), m = ny * nx;
  const bool noise = t.fresh && t.config.noise_scale > 0;
  parallel_for(n, [&](long j, int) {
    const long i = idx[j];
    thread_local std::vector<float> tmp;
    tmp.assign(t.set.stamps.data() + i * m, t.set.stamps.data() + (i + 1) * m);
    if (noise) {
      RandomStream r(t.config.seed, "train.noise", std::uint64_t(i) + std::uint64_t(t.config.n) * std::uint64_t(epoch));
      img::add_correlated_noise(ImageView<float>(tmp.data(), ny, nx), t.kernel, r);
    }
    nn::normalise_stamp(tmp.data(), m, x + j * m);
    y[2 * j] = float(t.set.truth[std::size_t(i)].g1);
    y[2 * j + 1] = float(t.set.truth[std::size_t(i)].g2);
  });
}

// The trainer's data source over t (train.n items an epoch). Stream mode:
// stamps 10^9 + s of the training split, s = step * batch, so a resumed run
// continues the same sequence (and never meets the validation, refit or test
// stamps). t and trainer must outlive the source.
nn::DataSource training_source(TrainingStamps& t, const nn::Trainer& trainer, long batch) {
  nn::DataSource source;
  source.size = t.config.n;
  if (t.stream) {
    t.streamer = std::make_unique<StampStream>(t.config, 1000000000L + trainer.step() * batch);
    source.fetch = [&t](const long*, long n, float* x, float* y) { t.streamer->next(n, x, y); };
  } else {
    source.fetch = [&t, &trainer](const long* idx, long n, float* x, float* y) {
      noisy_batch(t, trainer.epoch(), idx, n, x, y);
    };
  }
  return source;
}

// The network of cfg "arch" (text form; '' = springer2018), checked against
// the task before anything is sized: (side, side, 1) stamps in, (g1, g2) out.
nn::Architecture training_architecture(const Config& cfg, long side) {
  const std::string text = cfg.get_string("arch");
  const nn::Architecture a = text.empty() ? nn::Architecture::springer2018() : nn::Architecture::parse(text, "--arch");
  if (a.in_h != side || a.in_w != side || a.in_c != 1 || a.outputs() != 2)
    throw Error::usage("--arch: the network reads " + std::to_string(a.in_h) + "x" + std::to_string(a.in_w) + "x" +
                       std::to_string(a.in_c) + " and gives " + std::to_string(a.outputs()) +
                       " outputs; shear training needs " + std::to_string(side) + "x" + std::to_string(side) +
                       "x1 stamps in and 2 outputs (g1, g2)");
  return a;
}

// The untrained network of training_architecture, Glorot initialised with
// `seed`, stamps normalised to mean 0 and std 1 each.
nn::Model initial_model(const Config& cfg, long side, std::uint64_t seed) {
  nn::Model model;
  model.net = nn::Network(training_architecture(cfg, side));
  model.net.init_glorot(seed);
  model.norm = nn::InputNorm::MeanStd;
  return model;
}

// The keys a resumed run must share with its checkpoint, as "key = value"
// lines: the training set and the optimisation. Epochs, max_steps and the
// checkpoint cadence may change (to run longer, or in parts).
std::string resume_settings(const Config& cfg) {
  std::string s;
  for (const auto& k : cfg.keys()) {
    const bool data = k.rfind("train.", 0) == 0 || k == "val_n";
    const bool optimisation = k == "arch" || k == "batch" || k == "lr" || k == "patience" || k == "lr_floor" ||
                              k == "fresh_noise" || k == "stream";
    if (data || optimisation) s += k + " = " + cfg.text(k) + "\n";
  }
  return s;
}

// RMSProp with the reduce-on-plateau schedule from cfg (learning rates per
// step, patience in epochs), minibatches ordered by `seed`, checkpoints to ckpt.
nn::TrainOptions train_options(const Config& cfg, std::uint64_t seed, const std::string& ckpt) {
  nn::TrainOptions opt;
  opt.batch = cfg.get_int("batch");
  opt.epochs = cfg.get_int("epochs");
  opt.max_steps = cfg.get_int("max_steps");
  opt.optimizer.lr = cfg.get_double("lr");
  opt.schedule.patience = int(cfg.get_int("patience"));
  opt.schedule.min_lr = cfg.get_double("lr_floor");
  opt.seed = seed;
  opt.checkpoint = ckpt;
  opt.checkpoint_every = cfg.get_int("checkpoint_every");
  opt.settings = resume_settings(cfg);
  opt.resume_with_changes = cfg.get_bool("resume_with_changes");
  opt.progress = !quiet();
  return opt;
}

// The checkpoint file: cfg "checkpoint", or the model file + ".ckpt".
std::string checkpoint_path(const Config& cfg) {
  const std::string ckpt = cfg.get_string("checkpoint");
  return ckpt.empty() ? cfg.get_string("out") + ".ckpt" : ckpt;
}

// Final stage: least-squares refit of the last layer on the (iv)-only set,
// undoing the attenuation; returns the factors applied (one per output, >= 1).
std::vector<double> refit_last_layer(nn::Network& net, const StampSet& rs) {
  std::vector<float> rx, ry;
  inputs_of(rs, rx, ry);
  return nn::refit_last_layer_from_inputs(net, rx.data(), ry.data(), long(rs.truth.size()), nn::InputNorm::None, true)
      .factor;
}

// Calibration (c, m) of the estimate as it is used (the CNN through the
// estimator registry, symmetrised when asked, no calibration yet) fitted on
// the calibration set's unflagged stamps against the true shears, stored in
// the model; RRG on the same stamps for comparison.
void calibrate(nn::Model& model, const StampSet& cs, const StampSetConfig& calib, bool symmetrise,
               TrainingReport& report) {
  EstimatorSetup setup = stamp_estimator_setup(calib.setup, symmetrise, false);  // the fit is before calibration
  setup.model = std::make_shared<const nn::Model>(model);
  auto batches = EstimatorSet({"cnn", "rrg"}, setup, "training calibration").estimate(cs.stamps);
  const BiasReport cnn = bias_report(cs.truth, batches.at("cnn").estimates, nullptr, 0);
  const BiasReport rrg = bias_report(cs.truth, batches.at("rrg").estimates, nullptr, 0);
  report.cal_fit1 = cnn.fit1, report.cal_fit2 = cnn.fit2;
  report.rrg_fit1 = rrg.fit1, report.rrg_fit2 = rrg.fit2;
  report.calibration = cnn.applied;  // the set's own fit
  model.cal_c = {report.calibration.c1, report.calibration.c2};
  model.cal_m = {report.calibration.m1, report.calibration.m2};
}

}  // namespace

TrainingReport train_shear_model(const Config& cfg) {
  const TrainingSets sets = training_sets(cfg);
  training_architecture(cfg, sets.train.setup.stamp_size);  // before any stamp is rendered
  const std::string ckpt = checkpoint_path(cfg);
  for (const std::string& file : {cfg.get_string("out"), ckpt}) {  // before any work, not at the first checkpoint
    const auto folder = std::filesystem::path(file).parent_path();
    if (!folder.empty()) std::filesystem::create_directories(folder);
  }
  TrainingStamps stamps = training_stamps(cfg, sets.train);
  std::vector<float> vx, vy;
  inputs_of(render(sets.val, "validation set", true), vx, vy);

  nn::Model model = initial_model(cfg, sets.train.setup.stamp_size, sets.train.seed);
  const nn::TrainOptions opt = train_options(cfg, sets.train.seed, ckpt);
  nn::Trainer trainer(model.net, opt);
  if (std::filesystem::exists(ckpt)) {
    trainer.load_checkpoint(ckpt);
    info("resuming from " + ckpt + " at step " + std::to_string(trainer.step()));
  }
  nn::DataSource source = training_source(stamps, trainer, opt.batch);
  nn::DataSource vsrc = nn::DataSource::from_memory(vx.data(), vy.data(), sets.val.n, stamps.pixels(), 2);
  trainer.run(source, &vsrc);
  trainer.restore_best();

  TrainingReport report;
  report.history = trainer.history();
  const StampSet refit_set = render(sets.refit, "refit set"), calib_set = render(sets.calib, "calibration set");
  if (!ranks().root()) return report;  // rank 0 finishes and writes the model
  report.refit_factor = refit_last_layer(model.net, refit_set);
  calibrate(model, calib_set, sets.calib, cfg.get_bool("symmetrise"), report);
  model.provenance = trainer.provenance();
  model.provenance["config"] = cfg.dump();
  model.provenance["report"] = report.to_json().dump();
  model.provenance["code_version"] = build_info().version;
  nn::save_model(model, cfg.get_string("out"));
  return report;
}

}  // namespace ds::lens
