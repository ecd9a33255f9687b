// The training loop and its checkpoints (see train.hpp).
#include "deepshear/nn/train.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <sstream>

#include "deepshear/engine/build_info.hpp"
#include "deepshear/engine/config.hpp"
#include "deepshear/engine/error.hpp"
#include "deepshear/engine/parallel.hpp"
#include "deepshear/engine/progress.hpp"
#include "deepshear/engine/random.hpp"
#include "deepshear/engine/ranks.hpp"
#include "deepshear/nn/blob_file.hpp"
#include "deepshear/nn/inference.hpp"
#include "deepshear/nn/ops.hpp"
#include "train_pass.hpp"

namespace ds::nn {

DataSource DataSource::from_memory(const float* x, const float* y, long size, long in, long out) {
  DataSource d;
  d.size = size;
  d.fetch = [x, y, in, out](const long* idx, long n, float* bx, float* by) {
    for (long i = 0; i < n; ++i) {
      std::memcpy(bx + i * in, x + idx[i] * in, sizeof(float) * std::size_t(in));
      std::memcpy(by + i * out, y + idx[i] * out, sizeof(float) * std::size_t(out));
    }
  };
  return d;
}

Trainer::Trainer(Network& net, TrainOptions opt)
    : net_(net), opt_(std::move(opt)), optim_(opt_.optimizer, net.num_params()), schedule_(opt_.schedule),
      lr_(opt_.optimizer.lr) {
  require(opt_.batch > 0, "train: batch must be positive");
  require(opt_.loss == "mse" || opt_.loss == "gaussian_nll",
          "train: unknown loss '" + opt_.loss + "' (mse or gaussian_nll)");
}

std::vector<long> Trainer::permutation(long epoch, long size) const {
  std::vector<long> p(static_cast<std::size_t>(size));
  for (long i = 0; i < size; ++i) p[std::size_t(i)] = i;
  RandomStream r(opt_.seed, "nn.shuffle", std::uint64_t(epoch));
  for (long i = size - 1; i > 0; --i) std::swap(p[std::size_t(i)], p[std::size_t(r.integer(0, i))]);
  return p;
}

// Shards of a batch of n: their count, and this rank's [s0, s1).
struct ShardRange {
  long shards, s0, s1;
};
static ShardRange my_shards(long n) {
  const long shards = (n + Trainer::kShard - 1) / Trainer::kShard;
  const auto [s0, s1] = rank_range(shards);
  return {shards, s0, s1};
}

std::pair<long, long> Trainer::shard_share(long n) {
  const ShardRange r = my_shards(n);
  return {std::min(n, r.s0 * kShard), std::min(n, r.s1 * kShard)};
}

// Splits the batch into shards of kShard and runs forward/backward of this
// rank's shards [s0, s1) (all of them on one rank) in parallel, each on its
// thread's TrainPass (or on its own tape for networks TrainPass does not
// cover); then sums the shard gradients in shard order into net_.grads()
// (sum_shard_gradients). Returns the batch mean loss, summed in shard order.
double Trainer::batch_loss_and_grads(const float* x, const float* y, long n, bool training) {
  const auto [shards, s0, s1] = my_shards(n);
  const long in = net_.arch().input_size(), outs = net_.arch().outputs();
  const long targets = opt_.loss == "gaussian_nll" ? outs / 2 : outs;
  const bool pass_path = training && TrainPass::applicable(net_);
  if (long(shard_grads_.size()) < s1 - s0) shard_grads_.resize(std::size_t(s1 - s0));
  if (pass_path) {
    // One pass (its buffers) per thread, reused for each shard the thread runs.
    while (long(shard_passes_.size()) < std::max(1, ds::threads()))
      shard_passes_.push_back(std::make_shared<TrainPass>());
  } else if (long(shard_tapes_.size()) < s1 - s0) {
    shard_tapes_.resize(std::size_t(s1 - s0));
  }
  std::vector<double> losses(static_cast<std::size_t>(s1 - s0));
  parallel_for(s1 - s0, [&](long k, int thread) {
    const long s = s0 + k, first = s * kShard, m = std::min(kShard, n - first);
    auto& g = shard_grads_[std::size_t(k)];
    Network::Pass pass;
    pass.training = training;
    pass.seed = opt_.seed;
    pass.step = std::uint64_t(step_);
    pass.first_item = first;
    const float scale = float(double(m) / double(n));
    if (pass_path) {  // overwrites every gradient: nothing to zero
      if (long(g.size()) != net_.num_params()) g.resize(std::size_t(net_.num_params()));
      TrainPass& tp = *shard_passes_[std::size_t(thread)];
      losses[std::size_t(k)] =
          tp.run(net_, x + first * in, y + first * targets, m, pass, opt_.loss == "gaussian_nll", scale, g.data());
      return;
    }
    if (training) {
      if (long(g.size()) != net_.num_params()) g.resize(std::size_t(net_.num_params()));
      else std::memset(g.data(), 0, g.size() * sizeof(float));
    }
    Tape& tape = shard_tapes_[std::size_t(k)];
    tape.reset();
    pass.grads = training ? g.data() : nullptr;
    auto out = net_.forward(tape, x + first * in, m, pass);
    auto t = tape.input(y + first * targets, {m, targets});
    auto loss = opt_.loss == "mse" ? tape.mse(out, t) : tape.gaussian_nll(out, t);
    losses[std::size_t(k)] = tape.loss(loss);
    if (training) tape.backward(loss, scale);
  });
  const std::vector<double> all = ranks().size > 1 ? gather_vector_to_all(losses) : losses;
  double total = 0;
  for (long s = 0; s < shards; ++s) total += all[std::size_t(s)] * double(std::min(kShard, n - s * kShard));
  if (training) sum_shard_gradients(s0, s1, shards);
  return total / double(n);
}

// g = shard 0, then g += shard 1, 2, ... in shard order, element by element.
// Across ranks the partial sum travels along the chain of ranks 0, 1, ...
// (each adds its shards), in segments so that the hops overlap, and the last
// rank holding shards broadcasts the result: every element sees the same
// additions in the same order as on one rank, so the bits are the same.
void Trainer::sum_shard_gradients(long s0, long s1, long shards) {
  constexpr long kSegment = 32768;  // floats per message (128 KiB)
  float* g = net_.grads();
  const long np = net_.num_params();
  const int rank = ranks().rank, last = int(std::min<long>(ranks().size, shards)) - 1;
  if (rank <= last)
    for (long a = 0; a < np; a += kSegment) {
      const long len = std::min(kSegment, np - a);
      long k = 0;
      if (rank == 0) std::memcpy(g + a, shard_grads_[std::size_t(k++)].data() + a, sizeof(float) * std::size_t(len));
      else receive_from(rank - 1, g + a, sizeof(float) * std::size_t(len));
      for (; k < s1 - s0; ++k) {
        const float* gs = shard_grads_[std::size_t(k)].data() + a;
        for (long i = 0; i < len; ++i) g[a + i] += gs[i];
      }
      if (rank < last) send_to(rank + 1, g + a, sizeof(float) * std::size_t(len));
    }
  if (last > 0) broadcast(g, sizeof(float) * std::size_t(np), last);
}

double Trainer::train_step(const float* x, const float* y, long n) {
  double loss = batch_loss_and_grads(x, y, n, true);
  optim_.step(net_.params(), net_.grads(), lr_);
  ++step_;
  return loss;
}

// Validation runs on the tape-free Predictor (no dropout); per-sample outputs
// do not depend on the thread count, and the loss is summed in item order.
double Trainer::evaluate(const DataSource& data) {
  const long in = net_.arch().input_size(), outs = net_.arch().outputs();
  const long targets = opt_.loss == "gaussian_nll" ? outs / 2 : outs;
  const long B = std::max(1L, opt_.eval_batch);
  std::vector<float> x(static_cast<std::size_t>(B * in)), y(static_cast<std::size_t>(B * targets)),
      out(static_cast<std::size_t>(B * outs));
  std::vector<long> idx(static_cast<std::size_t>(B));
  Predictor predictor(net_);
  const long batches = (data.size + B - 1) / B;
  const auto [b0, b1] = rank_range(batches);  // under MPI each rank a share, summed in batch order below
  std::vector<double> sums;
  for (long start = b0 * B; start < std::min(data.size, b1 * B); start += B) {
    long n = std::min(B, data.size - start);
    for (long i = 0; i < n; ++i) idx[std::size_t(i)] = start + i;
    data.fetch(idx.data(), n, x.data(), y.data());
    predictor.predict(x.data(), n, out.data(), InputNorm::None);
    double l = opt_.loss == "mse" ? mse_forward(out.data(), y.data(), n * targets)
                                  : gaussian_nll_forward(out.data(), y.data(), n, targets);
    sums.push_back(l * double(n));
  }
  double sum = 0;
  for (double v : ranks().size > 1 ? gather_vector_to_all(sums) : sums) sum += v;
  return data.size ? sum / double(data.size) : NAN;
}

void Trainer::restore_best() {
  if (!best_params_.empty())
    if (!best_params_.empty()) std::memcpy(net_.params(), best_params_.data(), sizeof(float) * best_params_.size());
}

void Trainer::run(const DataSource& train, const DataSource* validation) {
  require(train.size > 0, "train: the training set is empty");
  const long in = net_.arch().input_size(), outs = net_.arch().outputs();
  const long targets = opt_.loss == "gaussian_nll" ? outs / 2 : outs;
  require(opt_.loss != "gaussian_nll" || outs % 2 == 0, "train: gaussian_nll needs an even number of outputs");
  const long B = opt_.batch;
  const long steps_per_epoch = (train.size + B - 1) / B;
  long end_step = opt_.epochs * steps_per_epoch;
  if (opt_.max_steps > 0) end_step = std::min(end_step, opt_.max_steps);
  std::vector<float> x(std::size_t(B * in)), y(std::size_t(B * targets));
  std::vector<long> perm = permutation(epoch_, train.size);
  std::unique_ptr<Progress> progress;
  if (opt_.progress) progress = std::make_unique<Progress>("train", std::max(0L, end_step - step_), "steps");
  auto t0 = std::chrono::steady_clock::now();
  long samples = 0;
  while (step_ < end_step && epoch_ < opt_.epochs) {
    const long n = std::min(B, train.size - pos_);
    const auto [i0, i1] = shard_share(n);  // this rank's samples of the batch (all on one rank)
    if (i1 > i0) train.fetch(perm.data() + pos_ + i0, i1 - i0, x.data() + i0 * in, y.data() + i0 * targets);
    double loss = train_step(x.data(), y.data(), n);
    epoch_loss_sum_ += loss * double(n);
    epoch_loss_count_ += n;
    pos_ += n;
    samples += n;
    if (opt_.progress) {
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      char note[160];
      std::snprintf(note, sizeof note, "epoch %ld loss %.5g val %.5g lr %.3g %.0f samples/s", epoch_ + 1,
                    epoch_loss_sum_ / double(std::max(1L, epoch_loss_count_)),
                    history_.empty() ? NAN : history_.back().val_loss, lr_, secs > 0 ? double(samples) / secs : 0.0);
      progress->set_note(note);
      progress->tick();
    }
    if (pos_ >= train.size) {  // end of an epoch
      EpochRecord rec;
      rec.epoch = epoch_ + 1;
      rec.step = step_;
      rec.train_loss = epoch_loss_sum_ / double(std::max(1L, epoch_loss_count_));
      rec.lr = lr_;
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      rec.samples_per_s = secs > 0 ? double(samples) / secs : 0;
      double monitored = rec.train_loss;
      if (validation && validation->size > 0) {
        rec.val_loss = evaluate(*validation);
        monitored = rec.val_loss;
      }
      if (schedule_.update(monitored, lr_) && opt_.keep_best)
        best_params_.assign(net_.params(), net_.params() + net_.num_params());
      history_.push_back(rec);
      if (on_epoch) on_epoch(rec);
      ++epoch_;
      pos_ = 0;
      epoch_loss_sum_ = 0;
      epoch_loss_count_ = 0;
      perm = permutation(epoch_, train.size);
    }
    if (!opt_.checkpoint.empty() && opt_.checkpoint_every > 0 && step_ % opt_.checkpoint_every == 0 && ranks().root())
      save_checkpoint(opt_.checkpoint);
  }
  if (progress) progress->finish();
  if (!opt_.checkpoint.empty() && ranks().root()) save_checkpoint(opt_.checkpoint);
  if (epoch_ >= opt_.epochs && opt_.keep_best) restore_best();
}

std::map<std::string, std::string> Trainer::provenance() const {
  std::map<std::string, std::string> p;
  p["seed"] = std::to_string(opt_.seed);
  p["config"] = "batch = " + std::to_string(opt_.batch) + "\nepochs = " + std::to_string(opt_.epochs) +
                "\nmax_steps = " + std::to_string(opt_.max_steps) + "\noptimizer = " + opt_.optimizer.kind +
                "\nlr = " + exact(opt_.optimizer.lr) + "\nrho = " + exact(opt_.optimizer.rho) +
                "\neps = " + exact(opt_.optimizer.eps) + "\nplateau.factor = " + exact(opt_.schedule.factor) +
                "\nplateau.patience = " + std::to_string(opt_.schedule.patience) +
                "\nplateau.min_lr = " + exact(opt_.schedule.min_lr) +
                "\nkeep_best = " + (opt_.keep_best ? "true" : "false") + "\nloss = " + opt_.loss +
                "\narchitecture = " + net_.arch().to_text();
  p["code_version"] = ds::build_info().version;
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  p["date"] = buf;
  std::string m = "{\"steps\": " + std::to_string(step_) + ", \"epochs\": " + std::to_string(epoch_);
  if (!history_.empty())
    m += ", \"train_loss\": " + exact(history_.back().train_loss) +
         (std::isnan(history_.back().val_loss) ? "" : ", \"val_loss\": " + exact(history_.back().val_loss));
  if (std::isfinite(schedule_.best)) m += ", \"best_monitored_loss\": " + exact(schedule_.best);
  p["metrics"] = m + "}";
  return p;
}

// ---------------------------------------------------------------- checkpoints
// A blob of kind "DSNNCKPT" v1: counters and schedule in the header (doubles
// exactly as %.17g), arrays params, optimizer, best, history.

void Trainer::save_checkpoint(const std::string& path) const {
  Blob b;
  b.magic = "DSNNCKPT";
  b.version = 1;
  b.header["architecture"] = net_.arch().to_text();
  b.header["optimizer"] = opt_.optimizer.kind;
  b.header["seed"] = std::to_string(opt_.seed);
  b.header["batch"] = std::to_string(opt_.batch);
  b.header["settings"] = opt_.settings;
  b.header["step"] = std::to_string(step_);
  b.header["epoch"] = std::to_string(epoch_);
  b.header["position"] = std::to_string(pos_);
  b.header["lr"] = exact(lr_);
  b.header["schedule.best"] = exact(schedule_.best);
  b.header["schedule.wait"] = std::to_string(schedule_.wait);
  b.header["epoch_loss_sum"] = exact(epoch_loss_sum_);
  b.header["epoch_loss_count"] = std::to_string(epoch_loss_count_);
  std::string hist;
  for (const auto& h : history_)
    hist += std::to_string(h.epoch) + " " + std::to_string(h.step) + " " + exact(h.train_loss) + " " +
            exact(h.val_loss) + " " + exact(h.lr) + " " + exact(h.samples_per_s) + ";";
  b.header["history"] = hist;
  b.arrays.emplace_back("params", std::vector<float>(net_.params(), net_.params() + net_.num_params()));
  b.arrays.emplace_back("optimizer", std::vector<float>(optim_.state().begin(), optim_.state().end()));
  b.arrays.emplace_back("best", best_params_);
  write_blob(path, b);
}

// "key = value" lines (Config's file format) as a map.
static std::map<std::string, std::string> settings_map(const std::string& text) {
  std::map<std::string, std::string> m;
  for (const auto& l : Config::parse_lines(text, "checkpoint settings")) m[l.key] = l.value;
  return m;
}

// The checkpoint's settings against this run's: every difference named.
void Trainer::check_same_settings(const std::string& stored, const std::string& file) const {
  const auto was = settings_map(stored), now = settings_map(opt_.settings);
  std::string diff;
  for (const auto& [k, v] : now) {
    auto it = was.find(k);
    const std::string old = it == was.end() ? "(unset)" : it->second;
    if (old != v) diff += (diff.empty() ? "" : ", ") + k + " " + old + " -> " + v;
  }
  for (const auto& [k, v] : was)
    if (!now.count(k)) diff += (diff.empty() ? "" : ", ") + k + " " + v + " -> (unset)";
  if (!diff.empty())
    throw Error(file + ": this run's settings differ from the checkpoint's: " + diff +
                    " (remove the checkpoint to start afresh, or resume with changes explicitly)",
                Error::Kind::Usage);
}

void Trainer::load_checkpoint(const std::string& path) {
  Blob b = read_blob(path, "DSNNCKPT", 1, "checkpoint");
  const std::string file = "checkpoint '" + path + "'";
  require(b.get("architecture", file) == net_.arch().to_text(),
          file + ": architecture '" + b.get("architecture", file) + "' differs from the network's");
  require(b.get("optimizer", file) == opt_.optimizer.kind, file + ": optimizer '" + b.get("optimizer", file) +
                                                               "' differs from '" + opt_.optimizer.kind + "'");
  require(b.get("seed", file) == std::to_string(opt_.seed), file + ": seed differs from the run's");
  require(b.get("batch", file) == std::to_string(opt_.batch), file + ": batch size differs from the run's");
  if (b.header.count("settings") && !opt_.resume_with_changes) check_same_settings(b.header.at("settings"), file);
  const auto& p = b.array("params", file);
  require(long(p.size()) == net_.num_params(), file + ": parameter count differs");
  std::memcpy(net_.params(), p.data(), sizeof(float) * p.size());
  const auto& o = b.array("optimizer", file);
  require(o.size() == optim_.state().size(), file + ": optimizer state size differs");
  if (!o.empty()) std::memcpy(optim_.state().data(), o.data(), sizeof(float) * o.size());
  best_params_ = b.array("best", file);
  step_ = std::stol(b.get("step", file));
  epoch_ = std::stol(b.get("epoch", file));
  pos_ = std::stol(b.get("position", file));
  lr_ = parse_double(b.get("lr", file), file + " lr");
  schedule_.best = parse_double(b.get("schedule.best", file), file + " schedule.best");
  schedule_.wait = int(std::stol(b.get("schedule.wait", file)));
  epoch_loss_sum_ = parse_double(b.get("epoch_loss_sum", file), file + " epoch_loss_sum");
  epoch_loss_count_ = std::stol(b.get("epoch_loss_count", file));
  history_.clear();
  std::string hist = b.get("history", file);
  std::size_t start = 0;
  while (start < hist.size()) {
    std::size_t end = hist.find(';', start);
    if (end == std::string::npos) break;
    EpochRecord r;
    char tl[40], vl[40], lr[40], sp[40];
    if (std::sscanf(hist.substr(start, end - start).c_str(), "%ld %ld %39s %39s %39s %39s", &r.epoch, &r.step, tl,
                    vl, lr, sp) == 6) {
      r.train_loss = parse_double(tl, file);
      r.val_loss = parse_double(vl, file);
      r.lr = parse_double(lr, file);
      r.samples_per_s = parse_double(sp, file);
      history_.push_back(r);
    }
    start = end + 1;
  }
}

}  // namespace ds::nn
