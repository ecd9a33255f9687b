// Network architectures: a stack of 'valid' convolutions followed by affine
// layers, each with an activation and an optional dropout. The first affine
// layer flattens its NHWC input (y, x, channel order, channel fastest).
//
// Text form (one line, stored in model files, so new shapes load without
// recompiling):
//   input 32 32 1; conv 64 5 3 relu; conv 40 1 1 relu; conv 10 1 1 relu;
//   affine 100 relu 0.3; affine 30 relu 0.3; affine 2 none 0
// i.e. "input H W C", "conv OUT K STRIDE ACT", "affine OUT ACT DROPOUT";
// ACT is relu, tanh or none.
#pragma once
#include <string>
#include <vector>

namespace ds::nn {

enum class Activation { None, ReLU, Tanh };
std::string activation_name(Activation a);
Activation parse_activation(const std::string& s, const std::string& where);

struct LayerSpec {
  enum class Kind { Conv, Affine };
  Kind kind = Kind::Affine;
  long out = 0;         // output channels (conv) or features (affine)
  long k = 1, stride = 1;  // conv only
  Activation act = Activation::None;
  double dropout = 0;   // rate, affine only, active in training
};

// Shapes and parameter offsets of one layer within the flat parameter vector
// (weights first, then bias; float32).
struct LayerPlan {
  long in_h = 0, in_w = 0, in_c = 0;     // input (affine: in_h = in_w = 1, in_c = features)
  long out_h = 0, out_w = 0, out_c = 0;  // output
  long w_offset = 0, w_count = 0, b_offset = 0, b_count = 0;
  long in_size() const { return in_h * in_w * in_c; }
  long out_size() const { return out_h * out_w * out_c; }
};

struct Architecture {
  std::string name = "custom";
  long in_h = 32, in_w = 32, in_c = 1;
  std::vector<LayerSpec> layers;

  // The paper's network (Springer et al. 2018, Table 2) with dropout 0.3.
  static Architecture springer2018();
  // Parses the text form; `where` names the origin for errors.
  static Architecture parse(const std::string& text, const std::string& where = "architecture");
  std::string to_text() const;

  // Throws ds::Error naming the layer when shapes do not fit.
  std::vector<LayerPlan> plan() const;
  long param_count() const;
  long outputs() const { return layers.empty() ? in_h * in_w * in_c : layers.back().out; }
  long input_size() const { return in_h * in_w * in_c; }
  // Forward FLOPs per sample (2 per multiply-add, biases and activations not counted).
  double flops_per_sample() const;
  bool operator==(const Architecture& o) const { return to_text() == o.to_text(); }
};

}  // namespace ds::nn
