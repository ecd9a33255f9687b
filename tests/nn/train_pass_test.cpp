// The trainer's tape-free shard pass against the tape: same loss, same
// gradients (to float rounding: the pass sums in another order), dropout masks
// included.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "deepshear/engine/random.hpp"
#include "deepshear/nn/train.hpp"
#include "test_support.hpp"

using namespace ds::nn;

namespace {
// Trains one SGD step with the Trainer (which runs its shard pass) and
// compares the batch gradient it leaves in net.grads() and its loss with the
// tape's, shard by shard as train.hpp describes.
void check_against_tape(const std::string& arch, const std::string& loss, long n) {
  CAPTURE(arch);
  CAPTURE(loss);
  Network net(Architecture::parse(arch)), ref(Architecture::parse(arch));
  net.init_glorot(4);
  ref.init_glorot(4);
  const long in = net.arch().input_size(), outs = net.arch().outputs();
  const long targets = loss == "gaussian_nll" ? outs / 2 : outs;
  std::vector<float> x(std::size_t(n * in)), y(std::size_t(n * targets));
  ds::RandomStream r(3, "test.pass");
  for (auto& v : x) v = float(r.normal());
  for (auto& v : y) v = float(r.uniform(-0.5, 0.5));

  TrainOptions o;
  o.progress = false;
  o.seed = 11;
  o.loss = loss;
  o.optimizer.kind = "sgd";
  Trainer tr(net, o);
  const double got_loss = tr.train_step(x.data(), y.data(), n);

  const long np = ref.num_params();
  std::vector<float> want(static_cast<std::size_t>(np), 0.0f), shard(static_cast<std::size_t>(np));
  double want_loss = 0;
  for (long first = 0; first < n; first += Trainer::kShard) {
    const long m = std::min(Trainer::kShard, n - first);
    std::fill(shard.begin(), shard.end(), 0.0f);
    Tape t;
    Network::Pass pass;
    pass.training = true;
    pass.seed = o.seed;
    pass.step = 0;
    pass.first_item = first;
    pass.grads = shard.data();
    auto out = ref.forward(t, x.data() + first * in, m, pass);
    auto tgt = t.input(y.data() + first * targets, {m, targets});
    auto l = loss == "mse" ? t.mse(out, tgt) : t.gaussian_nll(out, tgt);
    want_loss += t.loss(l) * double(m);
    t.backward(l, float(double(m) / double(n)));
    for (long i = 0; i < np; ++i) want[std::size_t(i)] += shard[std::size_t(i)];
  }
  want_loss /= double(n);
  CHECK(got_loss == doctest::Approx(want_loss).epsilon(1e-5));

  float gmax = 0;
  for (float v : want) gmax = std::max(gmax, std::fabs(v));
  REQUIRE(gmax > 0);
  long bad = 0;
  for (long i = 0; i < np; ++i) {
    const float w = want[std::size_t(i)], g = net.grads()[i];
    // float32 sums of up to thousands of terms in another order
    if (!(std::fabs(g - w) <= 1e-4f * std::fabs(w) + 1e-5f * gmax)) ++bad;
  }
  CHECK(bad == 0);
}
}  // namespace

TEST_CASE("trainer shard pass: springer2018 gradients and loss equal the tape's (MSE, dropout, partial shards)") {
  // 58 = 25 + 25 + 8: a partial shard, and conv sub-blocks of 5 samples with a partial one.
  check_against_tape(Architecture::springer2018().to_text(), "mse", 58);
}

TEST_CASE("trainer shard pass: strided conv after conv (col2im), tanh, Gaussian NLL equal the tape's") {
  check_against_tape("input 11 11 2; conv 5 3 1 tanh; conv 4 3 2 relu; conv 3 1 1 none; affine 6 tanh 0.25; "
                     "affine 4 none 0",
                     "gaussian_nll", 33);
}

TEST_CASE("trainer shard pass: affine-only network equals the tape's") {
  check_against_tape("input 4 4 1; affine 3 relu 0.5; affine 2 none 0", "mse", 27);
}
