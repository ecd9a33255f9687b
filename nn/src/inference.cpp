// Tape-free inference, normalisation and symmetrisation (see inference.hpp).
#include "deepshear/nn/inference.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "deepshear/engine/error.hpp"
#include "deepshear/engine/parallel.hpp"
#include "deepshear/nn/ops.hpp"
#include "fused_conv.hpp"

namespace ds::nn {

void normalise_stamp(const float* in, long m, float* out) {
  // Sums in double over 8 independent lanes (vectorisable, no long
  // dependency chain); the order is fixed, so results do not depend on threads.
  double s[8] = {0, 0, 0, 0, 0, 0, 0, 0}, s2[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  long j = 0;
  for (; j + 8 <= m; j += 8)
    for (int k = 0; k < 8; ++k) s[k] += double(in[j + k]);
  double sum = 0;
  for (; j < m; ++j) sum += double(in[j]);
  for (int k = 0; k < 8; ++k) sum += s[k];
  const double mean = m ? sum / double(m) : 0.0;
  for (j = 0; j + 8 <= m; j += 8)
    for (int k = 0; k < 8; ++k) {
      double d = double(in[j + k]) - mean;
      s2[k] += d * d;
    }
  double ss = 0;
  for (; j < m; ++j) ss += (double(in[j]) - mean) * (double(in[j]) - mean);
  for (int k = 0; k < 8; ++k) ss += s2[k];
  const double sd = m ? std::sqrt(ss / double(m)) : 0.0;
  if (!(sd > 0) || !std::isfinite(sd)) {
    for (j = 0; j < m; ++j) out[j] = 0.0f;
    return;
  }
  const float fm = float(mean), inv = float(1.0 / sd);
  for (j = 0; j < m; ++j) out[j] = (in[j] - fm) * inv;
}

void transform_stamp(const float* in, long n, int t, float* out) {
  require(t >= 0 && t < 8, "transform_stamp: transform index must be 0..7");
  const int r = t % 4;
  const bool mirror = t >= 4;
  for (long y = 0; y < n; ++y)
    for (long x = 0; x < n; ++x) {
      long sx = mirror ? n - 1 - x : x, sy = y;  // undo the mirror first (it is applied last)
      for (int q = 0; q < r; ++q) {             // undo r quarter turns: in[x][n-1-y] per turn
        long ny = sx, nx = n - 1 - sy;
        sy = ny;
        sx = nx;
      }
      out[y * n + x] = in[sy * n + sx];
    }
}

Predictor::Predictor(const Network& net, long block, bool fused) : net_(net), block_(std::max(1L, block)) {
  if (fused && FusedConvStack::applicable(net)) fused_ = std::make_shared<FusedConvStack>();
  plan();
}

void Predictor::plan() {
  long max_act = net_.arch().input_size(), max_cols = 1;
  for (std::size_t l = 0; l < net_.plans().size(); ++l) {
    const auto& p = net_.plans()[l];
    const auto& spec = net_.arch().layers[l];
    max_act = std::max(max_act, p.out_size());
    if (spec.kind == LayerSpec::Kind::Conv && !(spec.k == 1 && spec.stride == 1))
      max_cols = std::max(max_cols, p.out_h * p.out_w * spec.k * spec.k * p.in_c);
  }
  scratch_.resize(std::size_t(ds::threads()));
  for (auto& s : scratch_) {
    s.in.resize(std::size_t(block_ * net_.arch().input_size()));
    s.a.resize(std::size_t(block_ * max_act));
    s.b.resize(std::size_t(block_ * max_act));
    s.cols.resize(std::size_t(block_ * max_cols));
  }
}

// Layout NHWC as everywhere in nn/: s.in[m][H][W][C]; each layer writes
// [m][out_h][out_w][out_c] into s.a or s.b alternately.
const float* Predictor::run_block(Scratch& s, long m, long stop) const {
  const float* x = s.in.data();
  float* bufs[2] = {s.a.data(), s.b.data()};
  const float* params = net_.params();
  long l0 = 0;
  if (fused_ && stop >= fused_->layers()) {
    l0 = fused_->layers();
    fused_->run(x, m, bufs[(l0 - 1) % 2]);
    x = bufs[(l0 - 1) % 2];
  }
  for (long l = l0; l < stop; ++l) {
    const auto& p = net_.plans()[std::size_t(l)];
    const auto& spec = net_.arch().layers[std::size_t(l)];
    float* y = bufs[l % 2];
    if (spec.kind == LayerSpec::Kind::Conv)
      conv2d_forward(x, m, p.in_h, p.in_w, p.in_c, params + p.w_offset, params + p.b_offset, spec.k, spec.stride,
                     p.out_c, s.cols.data(), y);
    else
      affine_forward(x, m, p.in_c, params + p.w_offset, params + p.b_offset, p.out_c, y);
    const long count = m * p.out_size();
    if (spec.act == Activation::ReLU) {
#pragma omp simd
      for (long j = 0; j < count; ++j) y[j] = y[j] > 0.0f ? y[j] : 0.0f;
    } else if (spec.act == Activation::Tanh) {
      tanh_forward(y, count, y);
    }
    x = y;
  }
  return x;
}

void Predictor::run(const float* x, long n, float* y, InputNorm norm, long stop, long out_size) {
  if (long(scratch_.size()) < ds::threads()) plan();
  if (fused_) fused_->pack(net_);
  const long in = net_.arch().input_size();
  const long blocks = (n + block_ - 1) / block_;
  parallel_for(blocks, [&](long bi, int t) {
    Scratch& s = scratch_[std::size_t(t)];
    const long first = bi * block_, m = std::min(block_, n - first);
    for (long i = 0; i < m; ++i) {
      if (norm == InputNorm::MeanStd) normalise_stamp(x + (first + i) * in, in, s.in.data() + i * in);
      else std::memcpy(s.in.data() + i * in, x + (first + i) * in, sizeof(float) * std::size_t(in));
    }
    // A short block is padded with zero samples to a full one, so that every
    // sample goes through the same kernels (a matrix product's edge rows take
    // other code) and its outputs do not depend on where it sits in the batch.
    std::fill(s.in.begin() + m * in, s.in.begin() + block_ * in, 0.0f);
    const float* r = stop == 0 ? s.in.data() : run_block(s, block_, stop);
    std::memcpy(y + first * out_size, r, sizeof(float) * std::size_t(m * out_size));
  });
}

void Predictor::predict(const float* x, long n, float* y, InputNorm norm) {
  run(x, n, y, norm, long(net_.plans().size()), net_.arch().outputs());
}

void Predictor::features(const float* x, long n, float* f, InputNorm norm) {
  const long L = long(net_.plans().size());
  run(x, n, f, norm, L - 1, net_.plans().back().in_c);
}

void Predictor::predict_symmetrised(const float* x, long n, float* y, const OutputMap& map, InputNorm norm) {
  const Architecture& a = net_.arch();
  require(a.in_h == a.in_w && a.in_c == 1, "symmetrised inference needs square single-channel inputs");
  require(block_ >= 8, "symmetrised inference needs a block of at least 8 samples");
  if (long(scratch_.size()) < ds::threads()) plan();
  if (fused_) fused_->pack(net_);
  const long in = a.input_size(), side = a.in_h, k = a.outputs(), per = block_ / 8;
  const long blocks = (n + per - 1) / per;
  // The eight transforms as gather tables: out[j] = in[perm[t][j]].
  std::vector<int> perm(static_cast<std::size_t>(8 * in));
  {
    std::vector<float> idx(static_cast<std::size_t>(in)), out(static_cast<std::size_t>(in));
    for (long j = 0; j < in; ++j) idx[std::size_t(j)] = float(j);  // exact for in < 2^24
    for (int tt = 0; tt < 8; ++tt) {
      transform_stamp(idx.data(), side, tt, out.data());
      for (long j = 0; j < in; ++j) perm[std::size_t(tt * in + j)] = int(out[std::size_t(j)]);
    }
  }
  parallel_for(blocks, [&](long bi, int t) {
    Scratch& s = scratch_[std::size_t(t)];
    const long first = bi * per, g = std::min(per, n - first);
    std::vector<float> stamp(static_cast<std::size_t>(in));
    for (long i = 0; i < g; ++i) {
      const float* src = x + (first + i) * in;
      if (norm == InputNorm::MeanStd) normalise_stamp(src, in, stamp.data());
      else std::memcpy(stamp.data(), src, sizeof(float) * std::size_t(in));
      for (int tt = 0; tt < 8; ++tt) {
        const int* pt = perm.data() + tt * in;
        float* dst = s.in.data() + (i * 8 + tt) * in;
        for (long j = 0; j < in; ++j) dst[j] = stamp[std::size_t(pt[j])];
      }
    }
    std::fill(s.in.begin() + g * 8 * in, s.in.begin() + block_ * in, 0.0f);  // a full block, as in run()
    const float* r = run_block(s, block_, long(net_.plans().size()));
    std::vector<float> one(static_cast<std::size_t>(k));
    for (long i = 0; i < g; ++i) {
      std::vector<double> acc(std::size_t(k), 0.0);
      for (int tt = 0; tt < 8; ++tt) {
        std::memcpy(one.data(), r + (i * 8 + tt) * k, sizeof(float) * std::size_t(k));
        map(tt, one.data());
        for (long j = 0; j < k; ++j) acc[std::size_t(j)] += one[std::size_t(j)];
      }
      for (long j = 0; j < k; ++j) y[(first + i) * k + j] = float(acc[std::size_t(j)] / 8.0);
    }
  });
}

}  // namespace ds::nn
