// The paper's final stage (sec. 4.2, appendix B): freeze the network, refit
// its last affine layer by linear least squares (double precision, with a
// bias) from the penultimate features to the targets, then undo regression
// attenuation by scaling output j of that layer (weights and bias) by
// [1 - L_j / Var(g_j)]^-1, L_j the mean squared residual of the fit.
#pragma once
#include <vector>

#include "deepshear/nn/model_file.hpp"
#include "deepshear/nn/network.hpp"

namespace ds::nn {

struct RefitResult {
  std::vector<double> residual;  // L_j: mean squared residual of the least-squares fit, per output
  std::vector<double> variance;  // Var(g_j) of the targets
  std::vector<double> factor;    // the attenuation factors applied (1 when not applied)
};

// features[n][d] (d = inputs of the last layer), targets[n][k] (k = outputs).
// Rank-deficient features (e.g. dead ReLUs) get the minimum-norm solution.
RefitResult refit_last_layer(Network& net, const float* features, const float* targets, long n,
                             bool attenuation = true);
// The same from raw stamps x[n][input] (features computed without dropout).
RefitResult refit_last_layer_from_inputs(Network& net, const float* x, const float* targets, long n,
                                         InputNorm norm, bool attenuation = true);

}  // namespace ds::nn
