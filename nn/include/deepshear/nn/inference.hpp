// Tape-free batched inference: buffers planned once per block size and
// thread, blocks of stamps run through all layers while they sit in cache,
// blocks spread over threads. Also the stamp normalisation and the generic
// 8-fold symmetrised estimator.
//
//   ds::nn::Predictor p(model.net);
//   p.predict(stamps, n, out, InputNorm::MeanStd);   // stamps[n][H*W*C] -> out[n][outputs]
#pragma once
#include <functional>
#include <memory>
#include <vector>

#include "deepshear/engine/aligned.hpp"
#include "deepshear/nn/model_file.hpp"
#include "deepshear/nn/network.hpp"

namespace ds::nn {

// Per-stamp normalisation: out = (in - mean) / std over the m values (std
// with divisor m). A flat stamp (std == 0, or not finite) gives all zeros.
void normalise_stamp(const float* in, long m, float* out);

// The eight symmetries of a square n x n stamp ([y][x], row-major, C = 1):
// t = 4 f + r, r in 0..3 quarter turns, then (f = 1) a mirror of x:
//   quarter turn:  out[y][x] = in[x][n-1-y]
//   mirror:        out[y][x] = in[y][n-1-x]
// t = 0 is the identity.
void transform_stamp(const float* in, long n, int t, float* out);

// Maps the outputs y[outputs] of the network on transform t of a stamp back to
// the frame of the original stamp, in place. The caller supplies it (for shear:
// lensing/).
using OutputMap = std::function<void(int t, float* y)>;

class FusedConvStack;

class Predictor {
 public:
  // Plans per-thread buffers for blocks of `block` samples. Keeps a reference
  // to net: it must outlive the predictor (weights may change between calls;
  // they are re-read on every call). `fused`: use the fused convolution stack
  // (fused_conv.cpp) when the network fits it; otherwise, or when false, each
  // layer is one Eigen matrix product over the block. Blocks always run full
  // (a short one is padded), so a sample's outputs are the same bits in any
  // batch, at any position, on any number of threads.
  explicit Predictor(const Network& net, long block = 32, bool fused = true);
  // Whether the fused convolution path runs.
  bool fused() const { return bool(fused_); }

  // x[n][input_size] raw inputs -> y[n][outputs]. norm: the input stage.
  void predict(const float* x, long n, float* y, InputNorm norm = InputNorm::MeanStd);
  // The same, stopping before the last layer: f[n][features] (the input of
  // the last affine layer, after its activation).
  void features(const float* x, long n, float* f, InputNorm norm = InputNorm::MeanStd);
  // 8-fold symmetrised estimate (square single-channel inputs): the average
  // over t = 0..7 of map(t, network(transform_stamp(x, t))).
  void predict_symmetrised(const float* x, long n, float* y, const OutputMap& map,
                           InputNorm norm = InputNorm::MeanStd);

  long block() const { return block_; }

 private:
  struct Scratch {
    AlignedBuffer<float> in, a, b, cols;
  };
  void plan();
  // Runs layers [0, stop) on m <= block normalised samples in s.in; returns
  // the pointer to the result ([m][size of layer stop-1's output]).
  const float* run_block(Scratch& s, long m, long stop) const;
  void run(const float* x, long n, float* y, InputNorm norm, long stop, long out_size);
  const Network& net_;
  long block_;
  std::shared_ptr<FusedConvStack> fused_;
  std::vector<Scratch> scratch_;
};

}  // namespace ds::nn
