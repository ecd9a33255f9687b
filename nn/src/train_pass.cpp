// The tape-free training pass (see train_pass.hpp).
// The vector types are internal to nn/ (float_vectors.hpp): -Wpsabi does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"
// GCC 12 reports false "may be used uninitialized" warnings inside Eigen's
// AVX-512 product kernels; they are not ours.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// Products run serially (see ops.cpp): threads split the batch, not a product.
#define EIGEN_DONT_PARALLELIZE
#include "train_pass.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstring>

#include "activation.hpp"
#include "deepshear/nn/ops.hpp"
#include "float_vectors.hpp"

namespace ds::nn {

namespace {
using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MapM = Eigen::Map<RowMat>;
using CMapM = Eigen::Map<const RowMat>;

// ---- register-blocked products for the shapes of these layers (a few
// hundred pixels or 25 samples of rows, widths of tens of channels). Eigen
// reaches about 65-80 GFLOP/s on these on one AVX-512 core, these about
// 100-115. A width o fits when o % 4 == 0; it is cut into chunks of at most
// 64 floats, each held as NF 16-float vectors, H (0 or 1) 8-float halves and
// Q (0 or 1) 4-float quarters. Written with GCC/Clang vector extensions, like
// fused_conv.
using namespace simd;

bool fits(long o) { return o > 0 && o % 4 == 0; }

// One chunk of a row: NF + H + Q vectors (16, 8 and 4 floats).
template <int NF, int H, int Q>
struct Chunk {
  static constexpr int NA = NF > 0 ? NF : 1;
  static constexpr long width = 16 * NF + 8 * H + 4 * Q;
  static constexpr int regs = NF + H + Q;
  v16 f[NA];
  v8 h;
  v4 q;
  void zero() {
    for (int v = 0; v < NF; ++v) f[v] = v16{};
    h = v8{};
    q = v4{};
  }
  void load(const float* p) {
    for (int v = 0; v < NF; ++v) f[v] = load16(p + 16 * v);
    if (H) h = load8(p + 16 * NF);
    if (Q) q = load4(p + 16 * NF + 8 * H);
  }
  void store(float* p) const {
    for (int v = 0; v < NF; ++v) store16(p + 16 * v, f[v]);
    if (H) store8(p + 16 * NF, h);
    if (Q) store4(p + 16 * NF + 8 * H, q);
  }
  void fma(float x, const Chunk& w) {  // += x w
    for (int v = 0; v < NF; ++v) f[v] += (x - v16{}) * w.f[v];
    if (H) h += (x - v8{}) * w.h;
    if (Q) q += (x - v4{}) * w.q;
  }
  void add(const float* p) {
    for (int v = 0; v < NF; ++v) f[v] += load16(p + 16 * v);
    if (H) h += load8(p + 16 * NF);
    if (Q) q += load4(p + 16 * NF + 8 * H);
  }
  void relu() {
    for (int v = 0; v < NF; ++v) f[v] = f[v] > v16{} ? f[v] : v16{};
    h = h > v8{} ? h : v8{};
    q = q > v4{} ? q : v4{};
  }
  void keep_positive(const float* m) {  // zero where m <= 0
    for (int v = 0; v < NF; ++v) f[v] = load16(m + 16 * v) > v16{} ? f[v] : v16{};
    if (H) h = load8(m + 16 * NF) > v8{} ? h : v8{};
    if (Q) q = load4(m + 16 * NF + 8 * H) > v4{} ? q : v4{};
  }
};

// Calls f.template operator()<NF, H, Q>(col, width) for each chunk of a width o.
#define DS_CHUNK_CASE(n) \
  case n: f(Tag<(n) / 4, ((n) % 4) / 2, (n) % 2>{}, col); break;
template <int NF, int H, int Q>
struct Tag {
  static constexpr int nf = NF, h = H, q = Q;
};
template <class F>
void for_chunks(long o, F&& f) {
  long col = 0;
  for (; o - col >= 64; col += 64) f(Tag<4, 0, 0>{}, col);
  switch ((o - col) / 4) {
    DS_CHUNK_CASE(1) DS_CHUNK_CASE(2) DS_CHUNK_CASE(3) DS_CHUNK_CASE(4) DS_CHUNK_CASE(5) DS_CHUNK_CASE(6)
    DS_CHUNK_CASE(7) DS_CHUNK_CASE(8) DS_CHUNK_CASE(9) DS_CHUNK_CASE(10) DS_CHUNK_CASE(11) DS_CHUNK_CASE(12)
    DS_CHUNK_CASE(13) DS_CHUNK_CASE(14) DS_CHUNK_CASE(15)
    default: break;
  }
}
#undef DS_CHUNK_CASE

// About 24 accumulators in registers: enough independent FMA chains.
template <class C>
constexpr int block_of() {
  return 24 / C::regs > 12 ? 12 : 24 / C::regs;
}

// What happens to a product's rows before they are stored.
enum class Epilogue { None, ReLU, PositiveMask };

// P rows of one chunk: out[p][0..width) = epi(b + sum_i a[p][i] w[i][:])
// (b null: 0); rows of w, out and mask are ld floats apart. PositiveMask
// keeps a value where mask[p][j] > 0 (the ReLU derivative taken from the
// layer's output), else stores 0.
template <class C, int P>
inline void rows_block(const float* a, long lda, long ni, const float* w, long ld, const float* b, Epilogue epi,
                       const float* mask, float* out) {
  C acc[P];
  for (int p = 0; p < P; ++p) {
    if (b) acc[p].load(b);
    else acc[p].zero();
  }
  for (long i = 0; i < ni; ++i) {
    C wi;
    wi.load(w + i * ld);
    for (int p = 0; p < P; ++p) acc[p].fma(a[p * lda + i], wi);
  }
  for (int p = 0; p < P; ++p) {
    if (epi == Epilogue::ReLU) acc[p].relu();
    else if (epi == Epilogue::PositiveMask) acc[p].keep_positive(mask + p * ld);
    acc[p].store(out + p * ld);
  }
}

// out[rows][o] = epi(b + a[rows][ni] (row stride lda) w[ni][o]); o must fit.
void rows_product(const float* a, long lda, long rows, long ni, const float* w, long o, const float* b,
                  Epilogue epi, const float* mask, float* out) {
  for_chunks(o, [&](auto tag, long col) {
    using C = Chunk<decltype(tag)::nf, decltype(tag)::h, decltype(tag)::q>;
    constexpr int P = block_of<C>();
    const float* bc = b ? b + col : nullptr;
    const float* mc = mask ? mask + col : nullptr;
    long r = 0;
    for (; r + P <= rows; r += P)
      rows_block<C, P>(a + r * lda, lda, ni, w + col, o, bc, epi, mc ? mc + r * o : nullptr, out + r * o + col);
    for (; r < rows; ++r)
      rows_block<C, 1>(a + r * lda, lda, ni, w + col, o, bc, epi, mc ? mc + r * o : nullptr, out + r * o + col);
  });
}

// RI rows i0.. of a weight gradient, one chunk: dw[q][0..width) (= or +=)
// sum_r a[r][q] d[r][:]; rows of d and dw are ld floats apart.
template <class C, int RI>
inline void wgrad_block(const float* a, long lda, long rows, const float* d, long ld, float* dw, bool accumulate) {
  C acc[RI];
  for (int q = 0; q < RI; ++q) {
    if (accumulate) acc[q].load(dw + q * ld);
    else acc[q].zero();
  }
  for (long r = 0; r < rows; ++r) {
    C dr;
    dr.load(d + r * ld);
    const float* ar = a + r * lda;
    for (int q = 0; q < RI; ++q) acc[q].fma(ar[q], dr);
  }
  for (int q = 0; q < RI; ++q) acc[q].store(dw + q * ld);
}

// dw[ni][o] (= or +=) a[rows][ni]^T d[rows][o]; o must fit.
void wgrad_product(const float* a, long rows, long ni, const float* d, long o, float* dw, bool accumulate) {
  for_chunks(o, [&](auto tag, long col) {
    using C = Chunk<decltype(tag)::nf, decltype(tag)::h, decltype(tag)::q>;
    constexpr int RI = block_of<C>();
    long i = 0;
    for (; i + RI <= ni; i += RI) wgrad_block<C, RI>(a + i, ni, rows, d + col, o, dw + i * o + col, accumulate);
    for (; i < ni; ++i) wgrad_block<C, 1>(a + i, ni, rows, d + col, o, dw + i * o + col, accumulate);
  });
}

// db[0..o) (= or +=) the column sums of d[rows][o], in registers (a loop
// over memory would wait on its own stores).
void colsum(const float* d, long rows, long o, float* db, bool accumulate) {
  if (fits(o)) {
    for_chunks(o, [&](auto tag, long col) {
      using C = Chunk<decltype(tag)::nf, decltype(tag)::h, decltype(tag)::q>;
      C acc;
      if (accumulate) acc.load(db + col);
      else acc.zero();
      for (long r = 0; r < rows; ++r) acc.add(d + r * o + col);
      acc.store(db + col);
    });
    return;
  }
  if (!accumulate) std::memset(db, 0, sizeof(float) * std::size_t(o));
  for (long r = 0; r < rows; ++r)
    for (long j = 0; j < o; ++j) db[j] += d[r * o + j];
}

// Output pixels per conv sub-block (a few samples' worth).
constexpr long kBlockPixels = 512;

void grow(AlignedBuffer<float>& b, long m) {
  if (long(b.size()) < m) b.resize(std::size_t(m));
}

// y[rows][o] = b (each row), then y += a[rows][i] w[i][o].
void affine_rows(const float* a, long rows, long i, const float* w, const float* b, long o, float* y) {
  for (long r = 0; r < rows; ++r)
    for (long j = 0; j < o; ++j) y[r * o + j] = b[j];
  MapM(y, rows, o).noalias() += CMapM(a, rows, i) * CMapM(w, i, o);
}

// dw[i][o] (=, or += when accumulate) a[rows][i]^T dz[rows][o];
// db[o] (= or +=) the column sums of dz.
void weight_grads(const float* a, long rows, long i, const float* dz, long o, float* dw, float* db, bool accumulate) {
  if (fits(o)) {
    wgrad_product(a, rows, i, dz, o, dw, accumulate);
  } else {
    MapM DW(dw, i, o);
    if (accumulate) DW.noalias() += CMapM(a, rows, i).transpose() * CMapM(dz, rows, o);
    else DW.noalias() = CMapM(a, rows, i).transpose() * CMapM(dz, rows, o);
  }
  colsum(dz, rows, o, db, accumulate);
}
}  // namespace

bool TrainPass::applicable(const Network& net) {
  const auto& layers = net.arch().layers;
  if (layers.empty()) return false;
  bool dense = false;
  for (const auto& s : layers) {
    if (s.kind == LayerSpec::Kind::Conv) {
      if (dense || s.dropout > 0) return false;
    } else {
      dense = true;
    }
  }
  return true;
}

void TrainPass::plan(const Network& net, long m) {
  const auto& plans = net.plans();
  const auto& layers = net.arch().layers;
  const std::size_t nl = plans.size();
  cols_.resize(nl);
  act_.resize(nl);
  mask_.resize(nl);
  out_.resize(nl);
  wt_.resize(nl);
  wtg_.resize(nl);
  inputs_.assign(nl, nullptr);
  conv_layers_ = 0;
  while (conv_layers_ < long(nl) && layers[std::size_t(conv_layers_)].kind == LayerSpec::Kind::Conv) ++conv_layers_;
  block_ = 1;
  if (conv_layers_ > 0) {
    const long px = plans[0].out_h * plans[0].out_w;
    block_ = std::max(1L, std::min(m, kBlockPixels / std::max(1L, px)));
  }
  long gmax = 0, dcmax = 0, dmax = 0;
  for (std::size_t l = 0; l < nl; ++l) {
    const auto& p = plans[l];
    const auto& s = layers[l];
    if (long(l) < conv_layers_) {
      const long px = p.out_h * p.out_w, kkc = s.k * s.k * p.in_c;
      const bool direct = s.k == 1 && s.stride == 1;
      if (!direct) grow(cols_[l], m * px * kkc);
      if (l > 0) grow(wt_[l], kkc * p.out_c);
      if (!fits(p.out_c) && fits(kkc)) grow(wtg_[l], kkc * p.out_c);
      grow(act_[l], m * px * p.out_c);
      gmax = std::max({gmax, block_ * p.out_size(), block_ * p.in_size()});
      if (!direct && l > 0) dcmax = std::max(dcmax, block_ * px * kkc);
    } else {
      grow(act_[l], m * p.out_c);
      if (s.dropout > 0) {
        grow(mask_[l], m * p.out_c);
        grow(out_[l], m * p.out_c);
      }
      dmax = std::max({dmax, m * p.out_c, m * p.in_size()});
    }
  }
  if (conv_layers_ > 0) grow(dfeat_, m * plans[std::size_t(conv_layers_ - 1)].out_size());
  grow(ga_, gmax);
  grow(gb_, gmax);
  grow(dcols_, dcmax);
  grow(dense_a_, dmax);
  grow(dense_b_, dmax);
  grow(dout_, m * plans.back().out_size());
  planned_m_ = m;
  planned_arch_ = net.arch().to_text();
}

double TrainPass::run(const Network& net, const float* x, const float* y, long m, const Network::Pass& pass,
                      bool gaussian_nll, float scale, float* g) {
  if (m > planned_m_ || net.arch().to_text() != planned_arch_) plan(net, m);
  const auto& plans = net.plans();
  const auto& layers = net.arch().layers;
  const long nl = long(plans.size()), lc = conv_layers_;
  const float* params = net.params();
  auto W = [&](long l) { return params + plans[std::size_t(l)].w_offset; };
  auto B = [&](long l) { return params + plans[std::size_t(l)].b_offset; };
  auto act_of = [&](long l) { return layers[std::size_t(l)].act; };
  const bool use_dropout = pass.training;

  // ---- forward: the conv stack, one sub-block of samples at a time
  for (long b0 = 0; b0 < m; b0 += block_) {
    const long nb = std::min(block_, m - b0);
    for (long l = 0; l < lc; ++l) {
      const auto& p = plans[std::size_t(l)];
      const auto& s = layers[std::size_t(l)];
      const long px = p.out_h * p.out_w, kkc = s.k * s.k * p.in_c, rows = nb * px, row0 = b0 * px;
      const float* in = l == 0 ? x + b0 * p.in_size() : act_[std::size_t(l - 1)].data() + b0 * p.in_size();
      const float* a = in;
      if (!(s.k == 1 && s.stride == 1)) {
        float* cols = cols_[std::size_t(l)].data() + row0 * kkc;
        im2col(in, nb, p.in_h, p.in_w, p.in_c, s.k, s.stride, cols);
        a = cols;
      }
      float* out = act_[std::size_t(l)].data() + row0 * p.out_c;
      if (fits(p.out_c)) {
        const Epilogue epi = s.act == Activation::ReLU ? Epilogue::ReLU : Epilogue::None;
        rows_product(a, kkc, rows, kkc, W(l), p.out_c, B(l), epi, nullptr, out);
        if (s.act == Activation::Tanh) activate(s.act, out, rows * p.out_c);
      } else {
        affine_rows(a, rows, kkc, W(l), B(l), p.out_c, out);
        activate(s.act, out, rows * p.out_c);
      }
    }
  }

  // ---- forward: the affine layers over the whole shard
  const float* h = lc > 0 ? act_[std::size_t(lc - 1)].data() : x;
  std::vector<const float*>& inputs = inputs_;
  for (long l = lc; l < nl; ++l) {
    const auto& p = plans[std::size_t(l)];
    const auto& s = layers[std::size_t(l)];
    inputs[std::size_t(l)] = h;
    float* a = act_[std::size_t(l)].data();
    if (fits(p.out_c)) {
      rows_product(h, p.in_size(), m, p.in_size(), W(l), p.out_c, B(l),
                   s.act == Activation::ReLU ? Epilogue::ReLU : Epilogue::None, nullptr, a);
      if (s.act == Activation::Tanh) activate(s.act, a, m * p.out_c);
    } else {
      affine_rows(h, m, p.in_size(), W(l), B(l), p.out_c, a);
      activate(s.act, a, m * p.out_c);
    }
    h = a;
    if (s.dropout > 0 && use_dropout) {
      // The masks of the tape's dropout (Network::forward): the same streams.
      float* mask = mask_[std::size_t(l)].data();
      float* o = out_[std::size_t(l)].data();
      dropout_mask(s.dropout, pass.seed, Network::dropout_purpose(std::size_t(l)), pass.dropout_first_item(), m,
                   p.out_c, mask);
      mask_forward(a, mask, m * p.out_c, o);
      h = o;
    }
  }

  // ---- loss
  const long outs = plans.back().out_c, targets = gaussian_nll ? outs / 2 : outs;
  float* dout = dout_.data();
  std::memset(dout, 0, sizeof(float) * std::size_t(m * outs));
  double loss;
  if (gaussian_nll) {
    loss = gaussian_nll_forward(h, y, m, targets);
    gaussian_nll_backward(h, y, m, targets, double(scale), dout);
  } else {
    loss = mse_forward(h, y, m * targets);
    mse_backward(h, y, m * targets, double(scale), dout);
  }

  // ---- backward: the affine layers
  float* dy = dout;
  for (long l = nl - 1; l >= lc; --l) {
    const auto& p = plans[std::size_t(l)];
    const auto& s = layers[std::size_t(l)];
    const long o = p.out_c, i = p.in_size(), cnt = m * o;
    const float* a = act_[std::size_t(l)].data();
    if (s.dropout > 0 && use_dropout) {
      const float* mask = mask_[std::size_t(l)].data();
      if (s.act == Activation::ReLU) {
        for (long j = 0; j < cnt; ++j) dy[j] = a[j] > 0.0f ? dy[j] * mask[j] : 0.0f;
      } else {
        for (long j = 0; j < cnt; ++j) dy[j] *= mask[j];
        activation_backward(s.act, a, cnt, dy);
      }
    } else {
      activation_backward(s.act, a, cnt, dy);
    }
    weight_grads(inputs[std::size_t(l)], m, i, dy, o, g + p.w_offset, g + p.b_offset, false);
    if (l > lc || lc > 0) {
      float* dx = l > lc ? (dy == dense_a_.data() ? dense_b_.data() : dense_a_.data()) : dfeat_.data();
      MapM(dx, m, i).noalias() = CMapM(dy, m, o) * CMapM(W(l), i, o).transpose();
      dy = dx;
    }
  }

  // ---- backward: the conv stack, sub-block by sub-block (the first
  // sub-block overwrites the weight gradients, the others add). A product
  // into a gradient w.r.t. a ReLU layer's output applies that ReLU's
  // derivative as it stores (PositiveMask), so d then already is the
  // gradient w.r.t. the pre-activation.
  if (lc > 0) {
    for (long l = 1; l < lc; ++l) {  // W^T [o][k*k*c] for the input gradients
      const auto& p = plans[std::size_t(l)];
      const long kkc = layers[std::size_t(l)].k * layers[std::size_t(l)].k * p.in_c, o = p.out_c;
      float* wt = wt_[std::size_t(l)].data();
      const float* w = W(l);
      for (long i = 0; i < kkc; ++i)
        for (long j = 0; j < o; ++j) wt[j * kkc + i] = w[i * o + j];
    }
    const long feat = plans[std::size_t(lc - 1)].out_size();
    for (long b0 = 0; b0 < m; b0 += block_) {
      const long nb = std::min(block_, m - b0);
      float* d = dfeat_.data() + b0 * feat;
      bool is_dz = false;
      for (long l = lc - 1; l >= 0; --l) {
        const auto& p = plans[std::size_t(l)];
        const auto& s = layers[std::size_t(l)];
        const bool direct = s.k == 1 && s.stride == 1;
        const long px = p.out_h * p.out_w, kkc = s.k * s.k * p.in_c, rows = nb * px, row0 = b0 * px, o = p.out_c;
        if (!is_dz) activation_backward(act_of(l), act_[std::size_t(l)].data() + row0 * o, rows * o, d);
        const float* a = direct ? (l == 0 ? x + b0 * p.in_size() : act_[std::size_t(l - 1)].data() + b0 * p.in_size())
                                : cols_[std::size_t(l)].data() + row0 * kkc;
        const bool acc = b0 > 0;
        if (fits(o)) {
          wgrad_product(a, rows, kkc, d, o, g + p.w_offset, acc);
        } else if (fits(kkc)) {  // dW^T [o][kkc], transposed into g after the last sub-block
          wgrad_product(d, rows, o, a, kkc, wtg_[std::size_t(l)].data(), acc);
        } else {
          MapM DW(g + p.w_offset, kkc, o);
          if (acc) DW.noalias() += CMapM(a, rows, kkc).transpose() * CMapM(d, rows, o);
          else DW.noalias() = CMapM(a, rows, kkc).transpose() * CMapM(d, rows, o);
        }
        colsum(d, rows, o, g + p.b_offset, acc);
        if (l == 0) break;  // the input needs no gradient
        float* dx = d == ga_.data() ? gb_.data() : ga_.data();
        float* prod = direct ? dx : dcols_.data();  // [rows][kkc]
        const bool fuse = direct && act_of(l - 1) == Activation::ReLU && fits(kkc);
        if (fits(kkc)) {
          rows_product(d, o, rows, o, wt_[std::size_t(l)].data(), kkc, nullptr,
                       fuse ? Epilogue::PositiveMask : Epilogue::None,
                       fuse ? act_[std::size_t(l - 1)].data() + b0 * p.in_size() : nullptr, prod);
        } else {
          MapM(prod, rows, kkc).noalias() = CMapM(d, rows, o) * CMapM(W(l), kkc, o).transpose();
        }
        if (!direct) {
          std::memset(dx, 0, sizeof(float) * std::size_t(nb * p.in_size()));
          col2im_add(dcols_.data(), nb, p.in_h, p.in_w, p.in_c, s.k, s.stride, dx);
        }
        is_dz = fuse;
        d = dx;
      }
    }
    for (long l = 0; l < lc; ++l) {  // the transposed weight gradients
      const auto& p = plans[std::size_t(l)];
      const long kkc = layers[std::size_t(l)].k * layers[std::size_t(l)].k * p.in_c, o = p.out_c;
      if (fits(o) || !fits(kkc)) continue;
      const float* t = wtg_[std::size_t(l)].data();
      float* dw = g + p.w_offset;
      for (long i = 0; i < kkc; ++i)
        for (long j = 0; j < o; ++j) dw[i * o + j] = t[j * kkc + i];
    }
  }
  return loss;
}

}  // namespace ds::nn
