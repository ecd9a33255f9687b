// Internal to nn/: a layer's activation applied in place, forward and
// backward, shared by the tape (tape.cpp) and the training pass (train_pass.cpp).
#pragma once
#include "deepshear/nn/architecture.hpp"
#include "deepshear/nn/ops.hpp"

namespace ds::nn {

// y[m] = act(y[m]) in place.
inline void activate(Activation act, float* y, long m) {
  if (act == Activation::ReLU) relu_forward(y, m, y);
  else if (act == Activation::Tanh) tanh_forward(y, m, y);
}

// In place: g[m], the gradient w.r.t. the activation's output y[m], becomes
// the gradient w.r.t. its input.
inline void activation_backward(Activation act, const float* y, long m, float* g) {
  if (act == Activation::ReLU) {
    for (long j = 0; j < m; ++j) g[j] = y[j] > 0.0f ? g[j] : 0.0f;
  } else if (act == Activation::Tanh) {
    for (long j = 0; j < m; ++j) g[j] *= 1.0f - y[j] * y[j];
  }
}

}  // namespace ds::nn
