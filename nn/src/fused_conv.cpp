// The fused convolution stack (see fused_conv.hpp).
// The vector types are internal to nn/ (float_vectors.hpp): -Wpsabi does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"
#include "fused_conv.hpp"

#include <cmath>
#include <cstring>

#include "deepshear/engine/error.hpp"
#include "float_vectors.hpp"

namespace ds::nn {

namespace {

using namespace simd;

inline v16 splat(float x) {  // x - 0 folds to x, so this is one broadcast
  return x - v16{};
}

// P pixels through one layer: out[p][width] = act(b + sum_i in[p][i] W[i][:]),
// width = 16 NF + 8 H (a half vector covers a tail of <= 8 channels, e.g. 40 =
// 16 + 16 + 8, so no multiply-adds are wasted on padding). P x (NF + H)
// accumulators stay in registers (compile-time constants): enough independent
// FMA chains to hide the FMA latency.
template <int NF, int H, int P>
inline void pixels(const float* in, long in_stride, long nin, const float* W, const float* b, Activation act,
                   float* out, long out_stride) {
  constexpr int NA = NF > 0 ? NF : 1;
  constexpr long width = 16 * NF + 8 * H;
  v16 acc[P][NA];
  v8 acch[P];
  for (int v = 0; v < NF; ++v) {
    const v16 bv = load16(b + 16 * v);
    for (int p = 0; p < P; ++p) acc[p][v] = bv;
  }
  if (H)
    for (int p = 0; p < P; ++p) acch[p] = load8(b + 16 * NF);
  for (long i = 0; i < nin; ++i) {
    const float* wi = W + i * width;
    v16 w[NA];
    for (int v = 0; v < NF; ++v) w[v] = load16(wi + 16 * v);
    v8 wh = H ? load8(wi + 16 * NF) : v8{};
    for (int p = 0; p < P; ++p) {
      const float xs = in[p * in_stride + i];
      if (NF) {
        const v16 x = splat(xs);
        for (int v = 0; v < NF; ++v) acc[p][v] += x * w[v];
      }
      if (H) acch[p] += (xs - v8{}) * wh;
    }
  }
  for (int p = 0; p < P; ++p) {
    for (int v = 0; v < NF; ++v) {
      v16 a = acc[p][v];
      if (act == Activation::ReLU) a = a > v16{} ? a : v16{};
      std::memcpy(out + p * out_stride + 16 * v, &a, sizeof a);
    }
    if (H) {
      v8 a = acch[p];
      if (act == Activation::ReLU) a = a > v8{} ? a : v8{};
      std::memcpy(out + p * out_stride + 16 * NF, &a, sizeof a);
    }
  }
  if (act == Activation::Tanh)
    for (int p = 0; p < P; ++p)
      for (long j = 0; j < width; ++j) out[p * out_stride + j] = std::tanh(out[p * out_stride + j]);
}

// All n pixels of one layer, 4 at a time, the rest one by one.
template <int NF, int H>
void layer_pixels(long n, const float* in, long in_stride, long nin, const float* W, const float* b, Activation act,
                  float* out, long out_stride) {
  long p = 0;
  for (; p + 4 <= n; p += 4)
    pixels<NF, H, 4>(in + p * in_stride, in_stride, nin, W, b, act, out + p * out_stride, out_stride);
  for (; p < n; ++p) pixels<NF, H, 1>(in + p * in_stride, in_stride, nin, W, b, act, out + p * out_stride, out_stride);
}

void layer_any(long nf, long h, long n, const float* in, long in_stride, long nin, const float* W, const float* b,
               Activation act, float* out, long out_stride) {
  switch (nf * 2 + h) {
    case 1: layer_pixels<0, 1>(n, in, in_stride, nin, W, b, act, out, out_stride); break;
    case 2: layer_pixels<1, 0>(n, in, in_stride, nin, W, b, act, out, out_stride); break;
    case 3: layer_pixels<1, 1>(n, in, in_stride, nin, W, b, act, out, out_stride); break;
    case 4: layer_pixels<2, 0>(n, in, in_stride, nin, W, b, act, out, out_stride); break;
    case 5: layer_pixels<2, 1>(n, in, in_stride, nin, W, b, act, out, out_stride); break;
    case 6: layer_pixels<3, 0>(n, in, in_stride, nin, W, b, act, out, out_stride); break;
    case 7: layer_pixels<3, 1>(n, in, in_stride, nin, W, b, act, out, out_stride); break;
    default: layer_pixels<4, 0>(n, in, in_stride, nin, W, b, act, out, out_stride); break;
  }
}

}  // namespace

bool FusedConvStack::applicable(const Network& net) {
  const auto& a = net.arch();
  if (a.layers.empty() || a.in_c != 1) return false;
  const auto& l0 = a.layers[0];
  if (l0.kind != LayerSpec::Kind::Conv || l0.out > kMaxChannels) return false;
  for (std::size_t l = 1; l < a.layers.size(); ++l) {
    const auto& s = a.layers[l];
    if (s.kind != LayerSpec::Kind::Conv) break;
    if (s.k != 1 || s.stride != 1 || s.out > kMaxChannels) return false;
  }
  return true;
}

void FusedConvStack::pack(const Network& net) {
  require(applicable(net), "fused conv stack: network does not fit");
  const auto& a = net.arch();
  h_ = a.in_h, w_ = a.in_w, k_ = a.layers[0].k, s_ = a.layers[0].stride;
  ho_ = net.plans()[0].out_h, wo_ = net.plans()[0].out_w;
  layers_.clear();
  for (std::size_t l = 0; l < a.layers.size() && a.layers[l].kind == LayerSpec::Kind::Conv; ++l) {
    const auto& p = net.plans()[l];
    Layer L;
    L.in_c = l == 0 ? k_ * k_ : p.in_c;
    L.out_c = p.out_c;
    L.nf = p.out_c / 16;
    L.h = (p.out_c % 16 == 0) ? 0 : (p.out_c % 16 <= 8 ? 1 : 0);
    if (p.out_c % 16 > 8) ++L.nf;  // a tail of 9..15 channels takes a full (padded) vector
    L.act = a.layers[l].act;
    const long width = L.nf * 16 + L.h * 8;
    L.width = width;
    L.w.resize(std::size_t(L.in_c * width));  // zero padded
    L.b.resize(std::size_t(width));
    const float* W = net.weights(int(l));  // [k][k][c][o] = [in][o] (c = 1 for layer 0)
    for (long i = 0; i < L.in_c; ++i)
      for (long o = 0; o < p.out_c; ++o) L.w[std::size_t(i * width + o)] = W[i * p.out_c + o];
    for (long o = 0; o < p.out_c; ++o) L.b[std::size_t(o)] = net.bias(int(l))[o];
    layers_.push_back(std::move(L));
  }
}

// Per stamp, layer by layer over its ho*wo pixels (the stamp's activations,
// at most ho*wo*64 floats per layer, stay in L1/L2):
//   patches[px][k*k] -> h[px][16*nv_1] -> ... -> y[px][c_last] (NHWC).
void FusedConvStack::run(const float* x, long m, float* y) const {
  const long npx = ho_ * wo_, kk = k_ * k_;
  const long nl = long(layers_.size());
  const long c_last = layers_.back().out_c;
  thread_local AlignedBuffer<float> patches, ha, hb;
  if (long(patches.size()) < npx * kk) patches.resize(std::size_t(npx * kk));
  if (long(ha.size()) < npx * kMaxChannels) {
    ha.resize(std::size_t(npx * kMaxChannels));
    hb.resize(std::size_t(npx * kMaxChannels));
  }
  for (long i = 0; i < m; ++i) {
    const float* img = x + i * h_ * w_;
    for (long oy = 0; oy < ho_; ++oy)
      for (long ox = 0; ox < wo_; ++ox)
        for (long ky = 0; ky < k_; ++ky) {
          float* dst = patches.data() + (oy * wo_ + ox) * kk + ky * k_;
          const float* src = img + (oy * s_ + ky) * w_ + ox * s_;
          for (long kx = 0; kx < k_; ++kx) dst[kx] = src[kx];
        }
    const float* in = patches.data();
    long in_stride = kk;
    float* bufs[2] = {ha.data(), hb.data()};
    for (long l = 0; l < nl; ++l) {
      const Layer& L = layers_[std::size_t(l)];
      float* o = bufs[l % 2];
      layer_any(L.nf, L.h, npx, in, in_stride, L.in_c, L.w.data(), L.b.data(), L.act, o, L.width);
      in = o;
      in_stride = L.width;
    }
    float* out = y + i * npx * c_last;
    for (long p = 0; p < npx; ++p)
      std::memcpy(out + p * c_last, in + p * in_stride, sizeof(float) * std::size_t(c_last));
  }
}

}  // namespace ds::nn
