// Network: parameters, Glorot initialisation, the forward pass on a tape.
#include "deepshear/nn/network.hpp"

#include <cmath>
#include <cstring>

#include "deepshear/engine/random.hpp"

namespace ds::nn {

Network::Network(Architecture arch) : arch_(std::move(arch)), plans_(arch_.plan()) {
  params_.resize(std::size_t(arch_.param_count()));
  grads_.resize(params_.size());
}

void Network::zero_grads() {
  if (!grads_.empty()) std::memset(grads_.data(), 0, grads_.size() * sizeof(float));
}

void Network::init_glorot(std::uint64_t seed) {
  for (std::size_t l = 0; l < plans_.size(); ++l) {
    const auto& p = plans_[l];
    const auto& spec = arch_.layers[l];
    double fan_in, fan_out;
    if (spec.kind == LayerSpec::Kind::Conv) {
      fan_in = double(spec.k * spec.k * p.in_c);
      fan_out = double(spec.k * spec.k * p.out_c);
    } else {
      fan_in = double(p.in_c);
      fan_out = double(p.out_c);
    }
    const double sigma = std::sqrt(2.0 / (fan_in + fan_out));
    RandomStream r(seed, "nn.init", l);
    float* w = params_.data() + p.w_offset;
    for (long j = 0; j < p.w_count; ++j) {
      double z;
      do z = r.normal();
      while (std::fabs(z) > 2.0);
      w[j] = float(sigma * z);
    }
    std::memset(params_.data() + p.b_offset, 0, sizeof(float) * std::size_t(p.b_count));
  }
}

std::uint64_t Network::dropout_purpose(std::size_t layer) { return purpose_hash("nn.dropout") + layer; }

Tape::Id Network::forward(Tape& tape, const float* x, long n, const Pass& pass, Tape::Id* features) {
  Tape::Id h = tape.input(x, {n, arch_.in_h, arch_.in_w, arch_.in_c});
  for (std::size_t l = 0; l < plans_.size(); ++l) {
    const auto& p = plans_[l];
    const auto& spec = arch_.layers[l];
    float* pv = params_.data();
    float* pg = pass.grads ? pass.grads : grads_.data();
    if (spec.kind == LayerSpec::Kind::Conv) {
      auto w = tape.param(pv + p.w_offset, pg + p.w_offset, {spec.k, spec.k, p.in_c, p.out_c});
      auto b = tape.param(pv + p.b_offset, pg + p.b_offset, {p.out_c});
      h = tape.conv2d(h, w, b, spec.stride, spec.act);
    } else {
      if (tape.shape(h).size() != 2) h = tape.flatten(h);
      if (l + 1 == plans_.size() && features) *features = h;
      auto w = tape.param(pv + p.w_offset, pg + p.w_offset, {p.in_c, p.out_c});
      auto b = tape.param(pv + p.b_offset, pg + p.b_offset, {p.out_c});
      h = tape.affine(h, w, b, spec.act);
    }
    if (spec.dropout > 0 && pass.training)
      h = tape.dropout(h, spec.dropout, true, pass.seed, dropout_purpose(l), pass.dropout_first_item());
  }
  return h;
}

}  // namespace ds::nn
