// Internal to nn/: the tape-free forward and backward pass that Trainer runs
// on each shard of a batch (the tape stays the reference: a test checks that
// both give the same loss and gradients).
//
// For networks made of convolutions (without dropout) followed by affine
// layers, which covers springer2018. Buffers are planned once for a shard
// size and reused step after step (FFTW style); Trainer keeps one pass per
// thread. Where the time goes and what this does about it:
//   - the convolutions run over sub-blocks of a few samples (about 512 output
//     pixels), forward through the whole conv stack and later backward
//     through it, so a sub-block's activations and gradients stay in L1/L2
//     between layers; weight gradients accumulate over the sub-blocks in a
//     fixed order (the first overwrites, so nothing is zeroed);
//   - the products whose output width is a multiple of 4 (all but a few
//     small ones of springer2018) use register-blocked kernels (about 24
//     vector accumulators, ~1.4x Eigen's rate on these shapes): bias and ReLU
//     folded into the forward product, the ReLU derivative of the layer below
//     folded into the input-gradient product, no gradient for the network's
//     input, weight gradients written without a zeroing pass;
//   - dropout masks are the tape's (same streams, same order).
// The results do not depend on the thread count: a shard's arithmetic is the
// same whichever thread runs it.
// Buffers (per shard of m samples; conv layer l: rows_l = m * ho_l * wo_l):
//   cols_l  [rows_l][k*k*c]  im2col of the layer's input (k > 1 or stride > 1)
//   act_l   [rows_l][o]      conv outputs after the activation
//   dense:  act_l [m][o] after the activation, mask_l [m][o], out_l [m][o]
//           = act_l * mask_l (the next layer's input; act_l without dropout)
#pragma once
#include <string>
#include <vector>

#include "deepshear/engine/aligned.hpp"
#include "deepshear/nn/network.hpp"

namespace ds::nn {

class TrainPass {
 public:
  // True when the network fits (at least one layer; convolutions, without
  // dropout, before all affine layers).
  static bool applicable(const Network& net);

  // Forward and backward of m samples x[m][in] with targets y[m][targets]
  // (targets = outputs, or outputs / 2 for gaussian_nll). Writes (overwrites)
  // the gradient of scale * loss into g (the parameter layout); returns the
  // loss, the mean over the m samples. Dropout as in Network::forward with
  // pass.training.
  double run(const Network& net, const float* x, const float* y, long m, const Network::Pass& pass,
             bool gaussian_nll, float scale, float* g);

 private:
  void plan(const Network& net, long m);
  long planned_m_ = -1;
  std::string planned_arch_;  // the buffers fit this architecture (text form)
  long conv_layers_ = 0, block_ = 1;  // samples per conv sub-block
  std::vector<AlignedBuffer<float>> cols_, act_, mask_, out_;
  std::vector<AlignedBuffer<float>> wt_, wtg_;  // conv W^T [o][k*k*c]; dW^T when only k*k*c fits the kernels
  AlignedBuffer<float> dfeat_, ga_, gb_, dcols_, dense_a_, dense_b_, dout_;
  std::vector<const float*> inputs_;  // each affine layer's input (set by the forward pass)
};

}  // namespace ds::nn
