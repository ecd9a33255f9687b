// Reverse-mode automatic differentiation on a tape. Each op computes its value
// now (with the kernels of ops.hpp) and records how to push gradients back;
// backward(loss) replays the records in reverse. Values are float32, layout
// NHWC (see ops.hpp). Parameters live outside the tape (the network's flat
// parameter and gradient vectors); the tape points at them and accumulates
// their gradients (+=), so the caller zeroes them before a step.
//
//   ds::nn::Tape t;
//   auto x = t.input(stamps, {n, 32, 32, 1});
//   auto w = t.param(W, dW, {5, 5, 1, 64});  auto b = t.param(B, dB, {64});
//   auto y = t.relu(t.conv2d(x, w, b, 3));
//   ...
//   auto loss = t.mse(out, t.input(targets, {n, 2}));
//   t.backward(loss);
#pragma once
#include <functional>
#include <memory>
#include <vector>

#include "deepshear/engine/aligned.hpp"
#include "deepshear/engine/random.hpp"
#include "deepshear/engine/tensor.hpp"
#include "deepshear/nn/architecture.hpp"

namespace ds::nn {

class Tape {
 public:
  using Id = int;
  using Shape = Tensor::Shape;

  // A constant input (not differentiated). The data must outlive the tape.
  Id input(const float* data, Shape shape);
  // A constant input that the tape copies.
  Id input_copy(const float* data, Shape shape);
  // A differentiable input whose gradient the tape keeps (for gradient checks).
  Id variable(const float* data, Shape shape);
  // A parameter: value and gradient buffers owned by the caller.
  Id param(float* value, float* grad, Shape shape);

  // x[n][h][w][c], w[k][k][c][o], b[o] -> [n][ho][wo][o] ('valid', stride s),
  // followed by the activation `act` in the same node (saves a node's buffers).
  Id conv2d(Id x, Id w, Id b, long stride, Activation act = Activation::None);
  // x[n][i] (or any [n][...], flattened), w[i][o], b[o] -> act([n][o]).
  Id affine(Id x, Id w, Id b, Activation act = Activation::None);
  Id relu(Id x);
  Id tanh(Id x);
  // Inverted dropout on x[n][...]: in training each value is kept with
  // probability 1 - rate and scaled by 1/(1 - rate); the mask of sample r is
  // drawn in order from RandomStream(seed, purpose, first_item + r).
  // Otherwise the identity.
  Id dropout(Id x, double rate, bool training, std::uint64_t seed, std::uint64_t purpose, std::uint64_t first_item);
  // [n][h][w][c] -> [n][h*w*c], sharing memory (NHWC flatten is a reshape).
  Id flatten(Id x);
  // Scalar losses (shape {1}); value() gives the float, loss() the double.
  Id mse(Id pred, Id target);
  // out[n][2m] = (means, log-variances), target[n][m].
  Id gaussian_nll(Id out, Id target);

  // Seeds d(loss)/d(loss) = scale (1 by default) and runs the records backwards.
  void backward(Id loss, float scale = 1.0f);
  // Forgets every node (buffers are freed).
  void clear();
  // Forgets every node but keeps their buffers for reuse: a training loop
  // that records the same graph each step allocates nothing after step one.
  void reset() { used_ = 0; }

  const Shape& shape(Id id) const { return nodes_.at(std::size_t(id))->shape; }
  long size(Id id) const;
  const float* value(Id id) const { return nodes_.at(std::size_t(id))->value; }
  float* value_mut(Id id) { return nodes_.at(std::size_t(id))->value; }
  // Gradient of the last backward() w.r.t. a node (null when not differentiable).
  const float* grad(Id id) const { return nodes_.at(std::size_t(id))->grad; }
  double loss(Id id) const { return nodes_.at(std::size_t(id))->scalar; }
  int num_nodes() const { return int(used_); }

 private:
  struct Node {
    Shape shape;
    float* value = nullptr;
    float* grad = nullptr;  // null: no gradient needed
    AlignedBuffer<float> own_value, own_grad, scratch, scratch2;
    double scalar = 0;
    std::function<void()> backward;
    // Gradient bookkeeping: a node's own gradient buffer starts "clean"
    // (unwritten, not zeroed); its first writer overwrites instead of adding,
    // which saves zeroing it. A flatten node shares its input's buffer:
    // owner names the node whose flag counts (-1: itself).
    bool clean = false;
    int owner = -1;
  };
  Node& node(Id id) { return *nodes_.at(std::size_t(id)); }
  Id add(Shape shape, bool needs_grad);
  Node& fresh();
  Node& grad_owner(Id id);
  // True (and marks it written) when x's gradient is clean: the caller must
  // overwrite it. Otherwise the caller adds to it.
  bool take_clean(Id id);
  // Zeroes x's gradient if it is still clean, so the caller can add to it.
  void settle(Id id);
  Id last() const { return Id(used_ - 1); }
  std::vector<std::unique_ptr<Node>> nodes_;  // a pool: the first used_ are live
  std::size_t used_ = 0;
};

}  // namespace ds::nn
