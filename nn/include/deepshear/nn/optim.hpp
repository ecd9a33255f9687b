// Optimisers over a flat float32 parameter vector, and the reduce-on-plateau
// learning-rate schedule (Keras 2 semantics).
#pragma once
#include <cmath>
#include <string>

#include "deepshear/engine/aligned.hpp"

namespace ds::nn {

struct OptimizerConfig {
  std::string kind = "rmsprop";  // "rmsprop" or "sgd"
  double lr = 3e-4;              // initial learning rate
  double rho = 0.9;              // RMSProp decay of the mean square
  double eps = 1e-7;             // RMSProp epsilon (added to sqrt(mean square))
};

// RMSProp: a <- rho a + (1 - rho) g^2;  p <- p - lr g / (sqrt(a) + eps).
// SGD:     p <- p - lr g.
// Arithmetic in float32 (as Keras/TensorFlow), element by element.
class Optimizer {
 public:
  Optimizer() = default;
  Optimizer(OptimizerConfig cfg, long n);
  void step(float* params, const float* grads, double lr);
  const OptimizerConfig& config() const { return cfg_; }
  // Per-parameter state (RMSProp mean squares; empty for SGD).
  AlignedBuffer<float>& state() { return state_; }
  const AlignedBuffer<float>& state() const { return state_; }

 private:
  OptimizerConfig cfg_;
  AlignedBuffer<float> state_;
  long n_ = 0;
};

// Reduce the learning rate when the monitored loss stops improving: after
// `patience` epochs without a new best, lr <- max(lr * factor, min_lr), and
// the count restarts.
struct PlateauSchedule {
  double factor = std::sqrt(0.1);
  int patience = 10;
  double min_lr = 2e-6;
  double best = INFINITY;
  int wait = 0;
  // Feeds one epoch's loss; returns true when it is a new best. Updates lr.
  bool update(double loss, double& lr);
};

}  // namespace ds::nn
