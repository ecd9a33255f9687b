// The training loop: minibatches from a data-source callback (so lensing/
// can render stamps on demand), a validation set, RMSProp or SGD, the
// reduce-on-plateau schedule, keep-the-best-validation-weights, progress, and
// atomic checkpoints that resume bit-exactly.
//
// Determinism: epoch e visits the training items in a permutation drawn from
// RandomStream(seed, "nn.shuffle", e); dropout masks are keyed by (seed, step,
// item in batch) (network.hpp); a batch is split into fixed shards of at most
// kShard samples whose gradients are summed in shard order. Results are thus
// identical on 1 or N threads and on 1 or K MPI ranks (data parallel: each
// rank runs a contiguous share of every batch's shards; validation batches
// are shared likewise; rank 0 writes the checkpoints), and a checkpoint (weights, optimiser state,
// schedule, best weights, step/epoch/position counters) resumes exactly.
//
// A shard's forward and backward run on a tape-free pass (nn/src/train_pass.hpp)
// for networks of convolutions followed by affine layers, on a tape otherwise;
// both give the same gradients up to float rounding (tests/nn/train_pass_test.cpp).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <utility>
#include <memory>
#include <string>
#include <vector>

#include "deepshear/nn/network.hpp"
#include "deepshear/nn/optim.hpp"

namespace ds::nn {

class TrainPass;  // the tape-free shard pass (internal, nn/src/train_pass.hpp)

struct DataSource {
  long size = 0;
  // Fills x[n][input_size] (normalised network inputs, NHWC) and y[n][outputs]
  // (targets) for items idx[0..n) of [0, size). May be called from one thread
  // at a time only.
  std::function<void(const long* idx, long n, float* x, float* y)> fetch;

  // A source over arrays in memory (x[size][in], y[size][out]), not copied.
  static DataSource from_memory(const float* x, const float* y, long size, long in, long out);
};

struct TrainOptions {
  long batch = 100;
  long epochs = 100;
  long max_steps = 0;        // stop after this many steps in total (0: no limit)
  OptimizerConfig optimizer;
  PlateauSchedule schedule;  // factor, patience, floor
  bool keep_best = true;     // restore the best-validation weights at the end
  std::string loss = "mse";  // "mse" or "gaussian_nll" (outputs = 2 x targets)
  std::uint64_t seed = 1;
  std::string checkpoint;    // path; "" for none
  long checkpoint_every = 0; // steps between checkpoints (0: only at the end of run())
  bool progress = true;
  long eval_batch = 500;
  // The settings the run's data and optimisation depend on, as "key = value"
  // lines: stored in the checkpoint; resuming with other values is an error
  // naming them, unless resume_with_changes.
  std::string settings;
  bool resume_with_changes = false;
};

struct EpochRecord {
  long epoch = 0, step = 0;
  double train_loss = 0, val_loss = NAN, lr = 0, samples_per_s = 0;
};

class Trainer {
 public:
  static constexpr long kShard = 25;
  Trainer(Network& net, TrainOptions opt);

  // Trains until opt.epochs epochs or opt.max_steps steps (counted from the
  // very first step, so a resumed run continues towards the same end).
  void run(const DataSource& train, const DataSource* validation = nullptr);
  // One optimisation step on n samples x[n][in], y[n][targets]; returns the
  // batch loss (before the update). Under MPI (engine/ranks.hpp) every rank
  // calls it for the same batch and reads only its samples shard_share(n);
  // the weights come out the same bits on every rank and on one process.
  double train_step(const float* x, const float* y, long n);
  // Samples [first, last) of a batch of n that this rank's shards hold.
  static std::pair<long, long> shard_share(long n);
  // Mean loss over a data set, no dropout.
  double evaluate(const DataSource& data);
  void restore_best();

  void save_checkpoint(const std::string& path) const;
  void load_checkpoint(const std::string& path);
  // Throws a usage error naming every key whose value differs (settings text: TrainOptions).
  void check_same_settings(const std::string& stored, const std::string& file) const;

  // Provenance for a model file: seed, the training options, code version,
  // date (UTC), steps, epochs and final metrics (as a small JSON object).
  std::map<std::string, std::string> provenance() const;

  long step() const { return step_; }
  long epoch() const { return epoch_; }
  double lr() const { return lr_; }
  double best_validation() const { return schedule_.best; }
  const std::vector<EpochRecord>& history() const { return history_; }
  // Called after each epoch (e.g. to log).
  std::function<void(const EpochRecord&)> on_epoch;

 private:
  double batch_loss_and_grads(const float* x, const float* y, long n, bool training);
  void sum_shard_gradients(long s0, long s1, long shards);
  std::vector<long> permutation(long epoch, long size) const;
  Network& net_;
  TrainOptions opt_;
  Optimizer optim_;
  PlateauSchedule schedule_;
  double lr_;
  long step_ = 0, epoch_ = 0, pos_ = 0;
  double epoch_loss_sum_ = 0;
  long epoch_loss_count_ = 0;
  std::vector<float> best_params_;
  std::vector<EpochRecord> history_;
  std::vector<AlignedBuffer<float>> shard_grads_;  // this rank's shards, in order
  std::vector<Tape> shard_tapes_;  // reused step after step
  // Networks that TrainPass covers run their shards on these (one per
  // thread) instead of tapes.
  std::vector<std::shared_ptr<TrainPass>> shard_passes_;
};

}  // namespace ds::nn
