// RMSProp, SGD and the reduce-on-plateau schedule.
#include "deepshear/nn/optim.hpp"

#include <algorithm>

#include "deepshear/engine/error.hpp"

namespace ds::nn {

Optimizer::Optimizer(OptimizerConfig cfg, long n) : cfg_(std::move(cfg)), n_(n) {
  require(cfg_.kind == "rmsprop" || cfg_.kind == "sgd",
          "optimizer: unknown kind '" + cfg_.kind + "' (rmsprop or sgd)");
  require(cfg_.lr > 0, "optimizer: learning rate must be positive");
  if (cfg_.kind == "rmsprop") state_.resize(std::size_t(n));
}

void Optimizer::step(float* p, const float* g, double lr) {
  const float flr = float(lr);
  if (cfg_.kind == "sgd") {
    for (long i = 0; i < n_; ++i) p[i] -= flr * g[i];
    return;
  }
  const float rho = float(cfg_.rho), one_m = 1.0f - rho, eps = float(cfg_.eps);
  float* a = state_.data();
#pragma omp simd
  for (long i = 0; i < n_; ++i) {
    float ai = rho * a[i] + one_m * g[i] * g[i];
    a[i] = ai;
    p[i] -= flr * g[i] / (std::sqrt(ai) + eps);
  }
}

bool PlateauSchedule::update(double loss, double& lr) {
  if (loss < best) {
    best = loss;
    wait = 0;
    return true;
  }
  if (++wait >= patience) {
    if (lr > min_lr) lr = std::max(lr * factor, min_lr);
    wait = 0;
  }
  return false;
}

}  // namespace ds::nn
