// bench_nn_phases: where single-thread inference time goes, per phase of the
// springer2018 forward pass (normalise, fused conv stack, dense layers), and
// the unfused per-layer matrix products for comparison. Times are thread CPU
// time (so a busy machine disturbs them less than wall time).
#include <time.h>

#include <cstdio>
#include <string>
#include <vector>

#include "deepshear/engine/parallel.hpp"
#include "deepshear/engine/random.hpp"
#include "deepshear/nn/inference.hpp"
#include "deepshear/nn/ops.hpp"
#include "deepshear/nn/train.hpp"

namespace {
double cpu_now() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}
template <class Fn>
double per_item_us(long items, int reps, Fn&& fn) {
  fn();
  double t0 = cpu_now();
  for (int r = 0; r < reps; ++r) fn();
  return (cpu_now() - t0) / double(reps) / double(items) * 1e6;
}
}  // namespace

int main(int argc, char** argv) {
  const bool train_only = argc > 1 && std::string(argv[1]) == "train";
  ds::set_threads(1);
  ds::nn::Network net(ds::nn::Architecture::springer2018());
  net.init_glorot(1);
  const long B = 1024;
  std::vector<float> x(static_cast<std::size_t>(B * 1024)), y(static_cast<std::size_t>(B * 2));
  for (long i = 0; i < B * 1024; ++i) x[std::size_t(i)] = float(ds::RandomStream(1, "b", std::uint64_t(i)).normal());
  if (train_only) {  // for profiling the training step alone
    ds::nn::TrainOptions o;
    o.progress = false;
    ds::nn::Trainer tr(net, o);
    std::vector<float> t(200, 0.05f);
    double us = per_item_us(100, 100, [&] { tr.train_step(x.data(), t.data(), 100); });
    std::printf("training step: %.2f us per sample\n", us);
    return 0;
  }
  ds::nn::Predictor fused(net), plain(net, 32, false);
  double t_fused = per_item_us(B, 5, [&] { fused.predict(x.data(), B, y.data()); });
  double t_plain = per_item_us(B, 5, [&] { plain.predict(x.data(), B, y.data()); });
  std::vector<float> n(x.size());
  double t_norm = per_item_us(B, 5, [&] {
    for (long i = 0; i < B; ++i) ds::nn::normalise_stamp(x.data() + i * 1024, 1024, n.data() + i * 1024);
  });
  // Dense layers alone on a block of 32.
  std::vector<float> a(32 * 1000, 0.5f), h1(32 * 100), h2(32 * 30), out(64);
  const auto& P = net.plans();
  double t_dense = per_item_us(32, 200, [&] {
    ds::nn::affine_forward(a.data(), 32, 1000, net.params() + P[3].w_offset, net.params() + P[3].b_offset, 100,
                           h1.data());
    ds::nn::affine_forward(h1.data(), 32, 100, net.params() + P[4].w_offset, net.params() + P[4].b_offset, 30,
                           h2.data());
    ds::nn::affine_forward(h2.data(), 32, 30, net.params() + P[5].w_offset, net.params() + P[5].b_offset, 2, out.data());
  });
  std::printf("per stamp, 1 thread (us): fused total %.2f, unfused total %.2f, normalise %.2f, dense %.2f\n", t_fused,
              t_plain, t_norm, t_dense);
  ds::nn::TrainOptions o;
  o.progress = false;
  ds::nn::Trainer tr(net, o);
  std::vector<float> t(200, 0.05f);
  double t_train = per_item_us(100, 20, [&] { tr.train_step(n.data(), t.data(), 100); });
  std::printf("training step (batch 100, RMSProp): %.2f us per sample = %.0f samples/s/core\n", t_train,
              1e6 / t_train);
  std::printf("=> fused %.0f stamps/s/core, unfused %.0f stamps/s/core\n", 1e6 / t_fused, 1e6 / t_plain);
  return 0;
}
