// Architectures: the built-in springer2018, the one-line text form, shape plans.
#include "deepshear/nn/architecture.hpp"

#include <cstdio>
#include <sstream>

#include "deepshear/engine/error.hpp"
#include "deepshear/nn/ops.hpp"

namespace ds::nn {

std::string activation_name(Activation a) {
  switch (a) {
    case Activation::ReLU: return "relu";
    case Activation::Tanh: return "tanh";
    default: return "none";
  }
}

Activation parse_activation(const std::string& s, const std::string& where) {
  if (s == "relu") return Activation::ReLU;
  if (s == "tanh") return Activation::Tanh;
  if (s == "none" || s == "linear") return Activation::None;
  throw Error(where + ": unknown activation '" + s + "' (relu, tanh or none)");
}

Architecture Architecture::springer2018() {
  Architecture a;
  a.name = "springer2018";
  a.in_h = a.in_w = 32;
  a.in_c = 1;
  using K = LayerSpec::Kind;
  a.layers = {{K::Conv, 64, 5, 3, Activation::ReLU, 0},     {K::Conv, 40, 1, 1, Activation::ReLU, 0},
              {K::Conv, 10, 1, 1, Activation::ReLU, 0},     {K::Affine, 100, 1, 1, Activation::ReLU, 0.3},
              {K::Affine, 30, 1, 1, Activation::ReLU, 0.3}, {K::Affine, 2, 1, 1, Activation::None, 0}};
  return a;
}

std::string Architecture::to_text() const {
  std::ostringstream s;
  s << "input " << in_h << " " << in_w << " " << in_c;
  for (const auto& l : layers) {
    if (l.kind == LayerSpec::Kind::Conv) {
      s << "; conv " << l.out << " " << l.k << " " << l.stride << " " << activation_name(l.act);
    } else {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", l.dropout);
      s << "; affine " << l.out << " " << activation_name(l.act) << " " << buf;
    }
  }
  return s.str();
}

Architecture Architecture::parse(const std::string& text, const std::string& where) {
  Architecture a;
  a.layers.clear();
  std::stringstream all(text);
  std::string part;
  int index = 0;
  bool have_input = false;
  while (std::getline(all, part, ';')) {
    std::istringstream p(part);
    std::string kind;
    if (!(p >> kind)) continue;
    std::string at = where + ": layer " + std::to_string(index) + " ('" + part + "')";
    if (kind == "input") {
      if (!(p >> a.in_h >> a.in_w >> a.in_c)) throw Error(at + ": expected 'input H W C'");
      have_input = true;
    } else if (kind == "conv") {
      LayerSpec l;
      l.kind = LayerSpec::Kind::Conv;
      std::string act;
      if (!(p >> l.out >> l.k >> l.stride >> act)) throw Error(at + ": expected 'conv OUT K STRIDE ACT'");
      l.act = parse_activation(act, at);
      a.layers.push_back(l);
    } else if (kind == "affine") {
      LayerSpec l;
      std::string act;
      if (!(p >> l.out >> act >> l.dropout)) throw Error(at + ": expected 'affine OUT ACT DROPOUT'");
      l.act = parse_activation(act, at);
      a.layers.push_back(l);
    } else {
      throw Error(at + ": unknown layer kind '" + kind + "' (input, conv or affine)");
    }
    std::string extra;
    if (p >> extra) throw Error(at + ": unexpected '" + extra + "'");
    ++index;
  }
  require(have_input, where + ": no 'input H W C' entry");
  a.plan();  // validates
  a.name = "custom";
  return a;
}

std::vector<LayerPlan> Architecture::plan() const {
  require(in_h > 0 && in_w > 0 && in_c > 0, "architecture: input shape must be positive");
  // Sizes far beyond any network, so that no product below can overflow.
  constexpr long kMaxDim = 1L << 16, kMaxParams = 1L << 32;
  require(in_h <= kMaxDim && in_w <= kMaxDim && in_c <= kMaxDim && double(in_h) * in_w * in_c <= double(kMaxParams),
          "architecture: input shape " + std::to_string(in_h) + "x" + std::to_string(in_w) + "x" +
              std::to_string(in_c) + " is too large");
  require(!layers.empty(), "architecture: no layers");
  std::vector<LayerPlan> out;
  long h = in_h, w = in_w, c = in_c, offset = 0;
  bool seen_affine = false;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const auto& l = layers[i];
    std::string at = "architecture layer " + std::to_string(i);
    require(l.out > 0 && l.out <= kMaxDim, at + ": output count must be in [1, " + std::to_string(kMaxDim) + "]");
    require(l.dropout >= 0 && l.dropout < 1, at + ": dropout rate must be in [0, 1)");
    LayerPlan p;
    if (l.kind == LayerSpec::Kind::Conv) {
      require(!seen_affine, at + ": a convolution cannot follow an affine layer");
      require(l.k > 0 && l.stride > 0 && l.stride <= kMaxDim, at + ": kernel size and stride must be positive");
      require(l.k <= h && l.k <= w, at + ": kernel " + std::to_string(l.k) + " larger than its input " +
                                         std::to_string(h) + "x" + std::to_string(w));
      require(l.dropout == 0, at + ": dropout is only supported on affine layers");
      p.in_h = h, p.in_w = w, p.in_c = c;
      p.out_h = conv_out(h, l.k, l.stride), p.out_w = conv_out(w, l.k, l.stride), p.out_c = l.out;
      require(double(l.k) * double(l.k) * double(c) * double(l.out) <= double(kMaxParams), at + ": too many weights");
      p.w_count = l.k * l.k * c * l.out;
    } else {
      seen_affine = true;
      p.in_h = 1, p.in_w = 1, p.in_c = h * w * c;
      p.out_h = 1, p.out_w = 1, p.out_c = l.out;
      require(double(p.in_c) * double(l.out) <= double(kMaxParams), at + ": too many weights");
      p.w_count = p.in_c * l.out;
    }
    require(double(p.w_count) + double(offset) + double(l.out) <= double(kMaxParams),
            at + ": more than " + std::to_string(kMaxParams) + " parameters");
    p.b_count = l.out;
    p.w_offset = offset;
    p.b_offset = offset + p.w_count;
    offset += p.w_count + p.b_count;
    h = p.out_h, w = p.out_w, c = p.out_c;
    out.push_back(p);
  }
  return out;
}

long Architecture::param_count() const {
  auto p = plan();
  return p.back().b_offset + p.back().b_count;
}

double Architecture::flops_per_sample() const {
  double f = 0;
  for (const auto& p : plan()) f += 2.0 * double(p.out_h * p.out_w) * double(p.w_count);
  return f;
}

}  // namespace ds::nn
