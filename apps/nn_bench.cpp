// deepshear bench nn: throughput of the CNN engine on this machine, as one
// JSON line: plain inference (batch 1024), 8-fold symmetrised inference,
// training (batch 100, RMSProp), each with GFLOP/s (1.118 MFLOP per stamp
// forward; training counted as 3x forward), threads and CPU.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "deepshear/engine/build_info.hpp"
#include "deepshear/engine/config.hpp"
#include "deepshear/engine/parallel.hpp"
#include "deepshear/engine/random.hpp"
#include "deepshear/nn/inference.hpp"
#include "deepshear/nn/train.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// Runs fn repeatedly for at least `seconds`; returns items per second.
template <class Fn>
double rate(double seconds, long items_per_call, Fn&& fn) {
  fn();  // warm-up
  long calls = 0;
  auto t0 = Clock::now();
  double el = 0;
  do {
    fn();
    ++calls;
    el = std::chrono::duration<double>(Clock::now() - t0).count();
  } while (el < seconds);
  return double(calls * items_per_call) / el;
}

int run(int argc, char** argv) {
  ds::app::Args args("deepshear bench nn [--seconds S] [--threads N]",
                     "Measures the CNN engine on the springer2018 network with random weights and stamps:\n"
                     "plain inference stamps/s (batch 1024), symmetrised galaxies/s, training samples/s\n"
                     "(batch 100, RMSProp), and GFLOP/s of each. Prints one JSON line.");
  args.option("--seconds", "S", "seconds per measurement", "3");
  if (!args.parse(argc, argv)) return 0;
  const double secs = args.get_double("--seconds");

  ds::nn::Network net(ds::nn::Architecture::springer2018());
  net.init_glorot(1);
  const double flop = net.arch().flops_per_sample();
  const long B = 1024;
  std::vector<float> x(static_cast<std::size_t>(B * 1024)), y(static_cast<std::size_t>(B * 2));
  for (long i = 0; i < B; ++i) {
    ds::RandomStream r(2, "bench.stamps", std::uint64_t(i));
    for (long j = 0; j < 1024; ++j) x[std::size_t(i * 1024 + j)] = float(r.normal());
  }
  ds::nn::Predictor pred(net);
  double plain = rate(secs, B, [&] { pred.predict(x.data(), B, y.data()); });
  // The same without the fused convolution stack (one matrix product per layer).
  ds::nn::Predictor generic(net, 32, false);
  double plain_generic = rate(secs, B, [&] { generic.predict(x.data(), B, y.data()); });
  auto map = [](int t, float* g) {
    if ((t % 4) % 2) g[0] = -g[0], g[1] = -g[1];
    if (t >= 4) g[1] = -g[1];
  };
  double sym = rate(secs, B / 8, [&] { pred.predict_symmetrised(x.data(), B / 8, y.data(), map); });

  ds::nn::TrainOptions o;
  o.progress = false;
  ds::nn::Trainer trainer(net, o);
  std::vector<float> xn(static_cast<std::size_t>(100 * 1024)), t(200, 0.05f);
  for (long i = 0; i < 100; ++i) ds::nn::normalise_stamp(x.data() + i * 1024, 1024, xn.data() + i * 1024);
  double train = rate(secs, 100, [&] { trainer.train_step(xn.data(), t.data(), 100); });

  auto bi = ds::build_info();
  auto tenth = [](double v) { return std::round(v * 10) / 10; };
  const nlohmann::ordered_json j = {{"benchmark", "nn"},
                                    {"network", "springer2018"},
                                    {"plain_stamps_per_s", std::llround(plain)},
                                    {"plain_gflops", tenth(plain * flop * 1e-9)},
                                    {"plain_unfused_stamps_per_s", std::llround(plain_generic)},
                                    {"symmetrised_galaxies_per_s", std::llround(sym)},
                                    {"symmetrised_gflops", tenth(sym * 8 * flop * 1e-9)},
                                    {"train_samples_per_s", std::llround(train)},
                                    {"train_gflops", tenth(train * 3 * flop * 1e-9)},
                                    {"threads", ds::threads()},
                                    {"cpu", bi.cpu_name}};
  std::printf("%s\n", j.dump().c_str());
  return 0;
}

ds::app::RegisterBench reg("nn", "CNN engine: plain and symmetrised inference, training (springer2018)", run);

}  // namespace
