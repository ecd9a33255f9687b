// RMSProp, SGD and the reduce-on-plateau schedule.
// GCC 12's AVX-512 intrinsics (_mm512_sqrt_ps) trip a false "may be used
// uninitialized" warning inside the compiler's own header.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "deepshear/nn/optim.hpp"

#include <algorithm>
#include <cmath>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

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
  long i = 0;
#if defined(__AVX512F__)
  // The loop below does not vectorise (std::sqrt may set errno), so 16 at a
  // time by hand: the same formula in float32 (rho a + (1 - rho) g^2 as one
  // fused multiply-add), correctly rounded sqrt and division. Which elements
  // take this path depends only on n, so results do not depend on threads.
  const __m512 vrho = _mm512_set1_ps(rho), vone_m = _mm512_set1_ps(one_m), veps = _mm512_set1_ps(eps),
               vlr = _mm512_set1_ps(flr);
  for (; i + 16 <= n_; i += 16) {
    const __m512 gi = _mm512_loadu_ps(g + i);
    const __m512 ai = _mm512_fmadd_ps(vrho, _mm512_loadu_ps(a + i), _mm512_mul_ps(_mm512_mul_ps(vone_m, gi), gi));
    _mm512_storeu_ps(a + i, ai);
    const __m512 step = _mm512_div_ps(_mm512_mul_ps(vlr, gi), _mm512_add_ps(_mm512_sqrt_ps(ai), veps));
    _mm512_storeu_ps(p + i, _mm512_sub_ps(_mm512_loadu_ps(p + i), step));
  }
#endif
  for (; i < n_; ++i) {
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
