// The autodiff tape: each op = kernel forward now + a closure for backward.
#include "deepshear/nn/tape.hpp"

#include <cstring>

#include "deepshear/engine/error.hpp"
#include "activation.hpp"
#include "deepshear/nn/ops.hpp"

namespace ds::nn {

namespace {
long count(const Tensor::Shape& s) {
  long n = 1;
  for (long d : s) n *= d;
  return n;
}
}  // namespace

long Tape::size(Id id) const { return count(shape(id)); }

// The activation inside a conv/affine node (activation.hpp): backward turns the
// node's gradient w.r.t. its output into the gradient w.r.t. the
// pre-activation, in place (only this node's backward reads that gradient).

// The next node, reusing a pooled one (and its buffers) after reset().
Tape::Node& Tape::fresh() {
  if (used_ == nodes_.size()) nodes_.push_back(std::make_unique<Node>());
  Node& n = *nodes_[used_++];
  n.shape.clear();
  n.value = n.grad = nullptr;
  n.scalar = 0;
  n.backward = nullptr;
  n.clean = false;
  n.owner = -1;
  return n;
}

Tape::Node& Tape::grad_owner(Id id) {
  Node* n = &node(id);
  while (n->owner >= 0) n = &node(n->owner);
  return *n;
}

bool Tape::take_clean(Id id) {
  Node& o = grad_owner(id);
  if (!o.clean) return false;
  o.clean = false;
  return true;
}

void Tape::settle(Id id) {
  Node& o = grad_owner(id);
  if (!o.clean) return;
  long m = 1;
  for (long d : o.shape) m *= d;
  if (o.grad && m) std::memset(o.grad, 0, sizeof(float) * std::size_t(m));
  o.clean = false;
}

// Resizes a pooled buffer; contents are undefined unless zero is asked for.
static void ensure(AlignedBuffer<float>& b, long m, bool zero) {
  if (long(b.size()) != m) b.resize(std::size_t(m));  // zeroes
  else if (zero && m) std::memset(b.data(), 0, sizeof(float) * std::size_t(m));
}

Tape::Id Tape::add(Shape shape, bool needs_grad) {
  Node& n = fresh();
  long m = count(shape);
  n.shape = std::move(shape);
  ensure(n.own_value, m, false);
  n.value = n.own_value.data();
  if (needs_grad) {
    ensure(n.own_grad, m, false);  // not zeroed: see Node::clean
    n.grad = n.own_grad.data();
    n.clean = true;
  }
  return last();
}

Tape::Id Tape::input(const float* data, Shape shape) {
  Node& n = fresh();
  n.shape = std::move(shape);
  n.value = const_cast<float*>(data);  // never written through
  return last();
}

Tape::Id Tape::input_copy(const float* data, Shape shape) {
  long m = count(shape);
  Id id = add(std::move(shape), false);
  std::memcpy(node(id).value, data, sizeof(float) * std::size_t(m));
  return id;
}

Tape::Id Tape::variable(const float* data, Shape shape) {
  long m = count(shape);
  Id id = add(std::move(shape), true);
  std::memcpy(node(id).value, data, sizeof(float) * std::size_t(m));
  settle(id);  // its gradient is read after backward(): it must start at zero
  return id;
}

Tape::Id Tape::param(float* value, float* grad, Shape shape) {
  Node& n = fresh();
  n.shape = std::move(shape);
  n.value = value;
  n.grad = grad;
  return last();
}

Tape::Id Tape::conv2d(Id x, Id w, Id b, long stride, Activation act) {
  const Shape xs = shape(x), ws = shape(w);
  require(xs.size() == 4, "conv2d: input must be [n][h][w][c], got " + Tensor::shape_string(xs));
  require(ws.size() == 4 && ws[0] == ws[1] && ws[2] == xs[3],
          "conv2d: kernel " + Tensor::shape_string(ws) + " does not fit input " + Tensor::shape_string(xs));
  require(shape(b).size() == 1 && shape(b)[0] == ws[3], "conv2d: bias must be [" + std::to_string(ws[3]) + "]");
  const long n = xs[0], h = xs[1], wd = xs[2], c = xs[3], k = ws[0], o = ws[3];
  require(stride > 0 && k <= h && k <= wd, "conv2d: kernel larger than input or bad stride");
  const long ho = conv_out(h, k, stride), wo = conv_out(wd, k, stride);
  bool ng = node(x).grad || node(w).grad || node(b).grad;
  Id y = add({n, ho, wo, o}, ng);
  Node& Y = node(y);
  const bool direct = (k == 1 && stride == 1);
  if (!direct) ensure(Y.scratch, n * ho * wo * k * k * c, false);
  conv2d_forward(node(x).value, n, h, wd, c, node(w).value, node(b).value, k, stride, o, Y.scratch.data(), Y.value);
  activate(act, Y.value, n * ho * wo * o);
  if (ng) {
    Y.backward = [this, x, w, b, y, n, h, wd, c, k, stride, o, direct, ho, wo, act] {
      Node &X = node(x), &W = node(w), &B = node(b), &Yn = node(y);
      activation_backward(act, Yn.value, n * ho * wo * o, Yn.grad);
      if (X.grad && !direct) ensure(Yn.scratch2, n * ho * wo * k * k * c, false);
      const bool overwrite = X.grad && take_clean(x);
      conv2d_backward(X.value, Yn.scratch.data(), n, h, wd, c, W.value, k, stride, o, Yn.grad, X.grad, W.grad, B.grad,
                      Yn.scratch2.data(), !overwrite);
    };
  }
  return y;
}

Tape::Id Tape::affine(Id x, Id w, Id b, Activation act) {
  const Shape xs = shape(x), ws = shape(w);
  require(!xs.empty(), "affine: input has no batch axis");
  const long n = xs[0], i = n ? count(xs) / n : 0;
  require(ws.size() == 2 && ws[0] == i, "affine: weights " + Tensor::shape_string(ws) + " do not fit input " +
                                            Tensor::shape_string(xs));
  const long o = ws[1];
  require(shape(b).size() == 1 && shape(b)[0] == o, "affine: bias must be [" + std::to_string(o) + "]");
  bool ng = node(x).grad || node(w).grad || node(b).grad;
  Id y = add({n, o}, ng);
  affine_forward(node(x).value, n, i, node(w).value, node(b).value, o, node(y).value);
  activate(act, node(y).value, n * o);
  if (ng)
    node(y).backward = [this, x, w, b, y, n, i, o, act] {
      Node &X = node(x), &W = node(w), &B = node(b), &Y = node(y);
      activation_backward(act, Y.value, n * o, Y.grad);
      const bool overwrite = X.grad && take_clean(x);
      affine_backward(X.value, n, i, W.value, o, Y.grad, X.grad, W.grad, B.grad, !overwrite);
    };
  return y;
}

Tape::Id Tape::relu(Id x) {
  bool ng = node(x).grad != nullptr;
  Id y = add(shape(x), ng);
  long m = size(x);
  relu_forward(node(x).value, m, node(y).value);
  if (ng)
    node(y).backward = [this, x, y, m] {
      settle(x);
      relu_backward(node(y).value, m, node(y).grad, node(x).grad);
    };
  return y;
}

Tape::Id Tape::tanh(Id x) {
  bool ng = node(x).grad != nullptr;
  Id y = add(shape(x), ng);
  long m = size(x);
  tanh_forward(node(x).value, m, node(y).value);
  if (ng)
    node(y).backward = [this, x, y, m] {
      settle(x);
      tanh_backward(node(y).value, m, node(y).grad, node(x).grad);
    };
  return y;
}

Tape::Id Tape::dropout(Id x, double rate, bool training, std::uint64_t seed, std::uint64_t purpose,
                       std::uint64_t first_item) {
  require(rate >= 0 && rate < 1, "dropout: rate must be in [0, 1), got " + std::to_string(rate));
  if (!training || rate == 0) return x;
  bool ng = node(x).grad != nullptr;
  Id y = add(shape(x), ng);
  long m = size(x);
  Node& Y = node(y);
  ensure(Y.scratch, m, false);
  const long n = shape(x)[0], per = n ? m / n : 0;
  dropout_mask(rate, seed, purpose, first_item, n, per, Y.scratch.data());
  mask_forward(node(x).value, Y.scratch.data(), m, Y.value);
  if (ng)
    Y.backward = [this, x, y, m] {
      settle(x);
      mask_backward(node(y).scratch.data(), m, node(y).grad, node(x).grad);
    };
  return y;
}

Tape::Id Tape::flatten(Id x) {
  const Shape xs = shape(x);
  require(!xs.empty(), "flatten: input has no batch axis");
  float* v = node(x).value;
  float* g = node(x).grad;  // shared: gradients land directly in x's buffer
  Node& n = fresh();
  n.shape = {xs[0], xs[0] ? count(xs) / xs[0] : 0};
  n.value = v;
  n.grad = g;
  n.owner = x;
  return last();
}

Tape::Id Tape::mse(Id pred, Id target) {
  require(size(pred) == size(target), "mse: prediction " + Tensor::shape_string(shape(pred)) + " and target " +
                                          Tensor::shape_string(shape(target)) + " differ in size");
  bool ng = node(pred).grad != nullptr;
  Id l = add({1}, ng);
  long m = size(pred);
  node(l).scalar = mse_forward(node(pred).value, node(target).value, m);
  node(l).value[0] = float(node(l).scalar);
  if (ng)
    node(l).backward = [this, pred, target, l, m] {
      settle(pred);
      mse_backward(node(pred).value, node(target).value, m, double(node(l).grad[0]), node(pred).grad);
    };
  return l;
}

Tape::Id Tape::gaussian_nll(Id out, Id target) {
  const Shape os = shape(out), ts = shape(target);
  require(os.size() == 2 && ts.size() == 2 && os[0] == ts[0] && os[1] == 2 * ts[1],
          "gaussian_nll: output " + Tensor::shape_string(os) + " must be [n][2m] for target " +
              Tensor::shape_string(ts));
  bool ng = node(out).grad != nullptr;
  Id l = add({1}, ng);
  long n = ts[0], m = ts[1];
  node(l).scalar = gaussian_nll_forward(node(out).value, node(target).value, n, m);
  node(l).value[0] = float(node(l).scalar);
  if (ng)
    node(l).backward = [this, out, target, l, n, m] {
      settle(out);
      gaussian_nll_backward(node(out).value, node(target).value, n, m, double(node(l).grad[0]), node(out).grad);
    };
  return l;
}

void Tape::backward(Id loss, float scale) {
  require(size(loss) == 1, "backward: the loss must be a scalar");
  Node& L = node(loss);
  if (!L.grad) return;  // nothing differentiable upstream
  L.grad[0] = scale;
  L.clean = false;
  for (Id i = loss; i >= 0; --i)
    if (node(i).backward) {
      settle(i);  // a node no one wrote a gradient to gets zeros, not garbage
      node(i).backward();
    }
}

void Tape::clear() {
  nodes_.clear();
  used_ = 0;
}

}  // namespace ds::nn
