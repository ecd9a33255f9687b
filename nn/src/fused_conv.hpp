// Internal to nn/: the fused convolution stack of the fast inference path.
//
// For networks that start with a k x k, stride-s convolution of a single-
// channel image followed by 1x1 convolutions (springer2018: 5x5/3 -> 64,
// 1x1 -> 40, 1x1 -> 10), each output pixel runs through the whole stack in
// registers: the k*k patch -> c1 channels -> act -> c2 -> act -> ... and only
// the last layer's channels are stored. Channel counts up to 64, padded to
// multiples of 16 (or 16 n + 8) in the packed weights. Written with GCC/Clang vector
// extensions (16 floats): one AVX-512 register, two AVX2 registers, or four
// SSE registers, whatever the target offers; the compiler picks.
#pragma once
#include <vector>

#include "deepshear/engine/aligned.hpp"
#include "deepshear/nn/network.hpp"

namespace ds::nn {

class FusedConvStack {
 public:
  static constexpr long kMaxChannels = 64;
  // True when the network's leading convolutions fit this path.
  static bool applicable(const Network& net);
  // Packs (pads) the weights of the leading convolutions; call again when the
  // network's weights change.
  void pack(const Network& net);
  // Number of leading conv layers this stack covers.
  long layers() const { return long(layers_.size()); }
  // x[m][H][W] (normalised, 1 channel) -> y[m][ho][wo][c_last] (NHWC), the
  // output of the last covered layer after its activation.
  void run(const float* x, long m, float* y) const;

 private:
  struct Layer {
    long in_c = 0, out_c = 0;
    long nf = 0, h = 0, width = 0;  // output: nf 16-float vectors + h 8-float halves = width floats
    Activation act = Activation::None;
    AlignedBuffer<float> w;            // [in (or k*k)][nv*16]
    AlignedBuffer<float> b;            // [nv*16]
  };
  long h_ = 0, w_ = 0, k_ = 0, s_ = 0, ho_ = 0, wo_ = 0;
  std::vector<Layer> layers_;
};

}  // namespace ds::nn
