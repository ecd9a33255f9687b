// Least-squares refit of the last layer + attenuation correction.
// GCC 12 reports false 'may be used uninitialized' warnings inside Eigen's
// AVX-512 kernels (first included through the headers below).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "deepshear/nn/refit.hpp"

#include <Eigen/Dense>
#include <cmath>

#include "deepshear/engine/error.hpp"
#include "deepshear/nn/inference.hpp"

namespace ds::nn {

RefitResult refit_last_layer(Network& net, const float* f, const float* g, long n, bool attenuation) {
  const auto& last = net.plans().back();
  require(net.arch().layers.back().kind == LayerSpec::Kind::Affine, "refit: the last layer must be affine");
  require(net.arch().layers.back().act == Activation::None, "refit: the last layer must be linear (activation none)");
  const long d = last.in_c, k = last.out_c;
  require(n > d + 1, "refit: needs more samples (" + std::to_string(n) + ") than features + 1 (" +
                         std::to_string(d + 1) + ")");
  // Normal equations in double, accumulated row by row: A = [f, 1].
  Eigen::MatrixXd AtA = Eigen::MatrixXd::Zero(d + 1, d + 1), AtG = Eigen::MatrixXd::Zero(d + 1, k);
  Eigen::VectorXd row(d + 1);
  Eigen::VectorXd mean_g = Eigen::VectorXd::Zero(k);
  for (long i = 0; i < n; ++i) {
    for (long j = 0; j < d; ++j) row[j] = f[i * d + j];
    row[d] = 1.0;
    AtA.selfadjointView<Eigen::Lower>().rankUpdate(row);
    for (long c = 0; c < k; ++c) {
      AtG.col(c) += row * double(g[i * k + c]);
      mean_g[c] += g[i * k + c];
    }
  }
  AtA.triangularView<Eigen::StrictlyUpper>() = AtA.transpose();
  mean_g /= double(n);
  Eigen::MatrixXd W = AtA.completeOrthogonalDecomposition().solve(AtG);  // (d+1) x k
  RefitResult r;
  r.residual.assign(std::size_t(k), 0.0);
  r.variance.assign(std::size_t(k), 0.0);
  r.factor.assign(std::size_t(k), 1.0);
  for (long i = 0; i < n; ++i) {
    for (long j = 0; j < d; ++j) row[j] = f[i * d + j];
    row[d] = 1.0;
    for (long c = 0; c < k; ++c) {
      double e = row.dot(W.col(c)) - g[i * k + c], v = g[i * k + c] - mean_g[c];
      r.residual[std::size_t(c)] += e * e / double(n);
      r.variance[std::size_t(c)] += v * v / double(n);
    }
  }
  float* w = net.weights(int(net.plans().size()) - 1);
  float* b = net.bias(int(net.plans().size()) - 1);
  for (long c = 0; c < k; ++c) {
    double s = 1.0;
    if (attenuation) {
      require(r.variance[std::size_t(c)] > 0, "refit: the targets of output " + std::to_string(c) + " do not vary");
      double q = 1.0 - r.residual[std::size_t(c)] / r.variance[std::size_t(c)];
      require(q > 0, "refit: output " + std::to_string(c) + " is not predicted at all (residual >= variance)");
      s = 1.0 / q;
    }
    r.factor[std::size_t(c)] = s;
    for (long j = 0; j < d; ++j) w[j * k + c] = float(s * W(j, c));
    b[c] = float(s * W(d, c));
  }
  return r;
}

RefitResult refit_last_layer_from_inputs(Network& net, const float* x, const float* targets, long n, InputNorm norm,
                                         bool attenuation) {
  const long d = net.plans().back().in_c;
  std::vector<float> f(static_cast<std::size_t>(n * d));
  Predictor p(net);
  p.features(x, n, f.data(), norm);
  return refit_last_layer(net, f.data(), targets, n, attenuation);
}

}  // namespace ds::nn
