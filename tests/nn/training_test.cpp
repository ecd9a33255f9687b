// Architectures, optimisers, the schedule, the training loop and checkpoints.
#include <cmath>
#include <cstring>
#include <vector>

#include "deepshear/engine/parallel.hpp"
#include "deepshear/engine/random.hpp"
#include "deepshear/nn/train.hpp"
#include "test_support.hpp"

using namespace ds::nn;

TEST_CASE("springer2018 has the paper's 107,866 parameters and layer shapes") {
  Architecture a = Architecture::springer2018();
  // Table 2: 1,664 + 2,600 + 410 + 100,100 + 3,030 + 62.
  CHECK(a.param_count() == 107866);
  auto p = a.plan();
  REQUIRE(p.size() == 6);
  CHECK(p[0].out_h == 10);
  CHECK(p[0].out_w == 10);
  CHECK(p[0].out_c == 64);
  CHECK(p[0].w_count + p[0].b_count == 1664);
  CHECK(p[3].in_c == 1000);
  CHECK(p[3].w_count + p[3].b_count == 100100);
  CHECK(a.layers[3].dropout == 0.3);
  CHECK(a.layers[4].dropout == 0.3);
  // 1.118 MFLOP per stamp forward (issue 3).
  CHECK(a.flops_per_sample() == doctest::Approx(1.118e6).epsilon(1e-3));
}

TEST_CASE("architecture text form round-trips and bad text is refused with a named layer") {
  Architecture a = Architecture::springer2018();
  Architecture b = Architecture::parse(a.to_text());
  CHECK(b.to_text() == a.to_text());
  CHECK(b.param_count() == a.param_count());
  Architecture c = Architecture::parse("input 16 16 2; conv 8 3 1 tanh; affine 4 none 0");
  CHECK(c.param_count() == (3 * 3 * 2 * 8 + 8) + (14 * 14 * 8 * 4 + 4));
  CHECK_THROWS_WITH_AS(Architecture::parse("input 32 32 1; conv 8 40 1 relu"), doctest::Contains("layer 0"),
                       ds::Error);
  CHECK_THROWS_WITH_AS(Architecture::parse("input 32 32 1; pool 2"), doctest::Contains("pool"), ds::Error);
  CHECK_THROWS_WITH_AS(Architecture::parse("input 32 32 1; affine 4 sigmoid 0"), doctest::Contains("sigmoid"),
                       ds::Error);
  CHECK_THROWS_AS(Architecture::parse("input 8 8 1; affine 4 relu 0; conv 2 1 1 relu"), ds::Error);
}

TEST_CASE("Glorot-normal init: reproducible from the seed, sigma sqrt(2/(fan_in+fan_out)), zero biases") {
  Network a(Architecture::springer2018()), b(Architecture::springer2018()), c(Architecture::springer2018());
  a.init_glorot(42);
  b.init_glorot(42);
  c.init_glorot(43);
  CHECK(std::memcmp(a.params(), b.params(), sizeof(float) * std::size_t(a.num_params())) == 0);
  CHECK(std::memcmp(a.params(), c.params(), sizeof(float) * std::size_t(a.num_params())) != 0);
  // dense_1: 1000 -> 100, sigma = sqrt(2/1100); truncated at 2 sigma the std is 0.8796 sigma.
  const auto& p = a.plans()[3];
  double s2 = 0;
  for (long j = 0; j < p.w_count; ++j) s2 += double(a.params()[p.w_offset + j]) * a.params()[p.w_offset + j];
  double sd = std::sqrt(s2 / double(p.w_count));
  CHECK(sd == doctest::Approx(0.8796 * std::sqrt(2.0 / 1100.0)).epsilon(0.02));
  for (long j = 0; j < p.b_count; ++j) CHECK(a.params()[p.b_offset + j] == 0.0f);
}

TEST_CASE("RMSProp and SGD steps follow their update formulas") {
  OptimizerConfig cfg;  // rmsprop, rho 0.9, eps 1e-7
  CHECK(cfg.lr == 3e-4);
  Optimizer opt(cfg, 2);
  float p[2] = {1.0f, -2.0f};
  const float g1[2] = {0.5f, -0.25f}, g2[2] = {-1.0f, 0.125f};
  opt.step(p, g1, 0.01);
  opt.step(p, g2, 0.01);
  for (int i = 0; i < 2; ++i) {
    double a = 0.1 * g1[i] * g1[i];
    double ref = (i ? -2.0 : 1.0) - 0.01 * g1[i] / (std::sqrt(a) + 1e-7);
    a = 0.9 * a + 0.1 * g2[i] * g2[i];
    ref -= 0.01 * g2[i] / (std::sqrt(a) + 1e-7);
    CHECK(p[i] == doctest::Approx(ref).epsilon(1e-6));
  }
  OptimizerConfig s;
  s.kind = "sgd";
  Optimizer sgd(s, 2);
  float q[2] = {1.0f, 1.0f};
  sgd.step(q, g1, 0.1);
  CHECK(q[0] == doctest::Approx(0.95));
  CHECK(q[1] == doctest::Approx(1.025));
  s.kind = "adam";
  CHECK_THROWS_AS(Optimizer(s, 2), ds::Error);
}

TEST_CASE("reduce-on-plateau: factor sqrt(0.1) after 10 epochs without improvement, floor 2e-6") {
  PlateauSchedule s;
  double lr = 3e-4;
  CHECK(s.update(1.0, lr));
  for (int e = 0; e < 9; ++e) CHECK_FALSE(s.update(1.0, lr));
  CHECK(lr == 3e-4);
  s.update(1.5, lr);  // 10th epoch without improvement
  CHECK(lr == doctest::Approx(3e-4 * std::sqrt(0.1)));
  CHECK(s.update(0.5, lr));  // new best resets the count
  for (int k = 0; k < 100; ++k) s.update(0.9, lr);
  CHECK(lr == doctest::Approx(2e-6));
}

TEST_CASE("training step: SGD on an affine network equals the closed-form MSE gradient step") {
  Architecture a = Architecture::parse("input 1 1 3; affine 2 none 0");
  Network net(a);
  net.init_glorot(1);
  std::vector<float> w0(net.params(), net.params() + net.num_params());
  const long n = 5;
  ds::RandomStream r(3, "test.sgd");
  std::vector<float> x(n * 3), t(n * 2);
  for (auto& v : x) v = float(r.uniform(-1, 1));
  for (auto& v : t) v = float(r.uniform(-1, 1));
  TrainOptions o;
  o.optimizer.kind = "sgd";
  o.optimizer.lr = 0.1;
  o.progress = false;
  Trainer tr(net, o);
  tr.train_step(x.data(), t.data(), n);
  // dL/dW[i][j] = 2/(n*2) sum_r x[r][i] (y[r][j] - t[r][j]); dL/db[j] likewise without x.
  for (int j = 0; j < 2; ++j) {
    double gb = 0, gw[3] = {0, 0, 0};
    for (long rr = 0; rr < n; ++rr) {
      double y = w0[6 + j];
      for (int i = 0; i < 3; ++i) y += double(x[rr * 3 + i]) * w0[i * 2 + j];
      double e = 2.0 / (n * 2) * (y - t[rr * 2 + j]);
      gb += e;
      for (int i = 0; i < 3; ++i) gw[i] += e * x[rr * 3 + i];
    }
    CHECK(net.params()[6 + j] == doctest::Approx(w0[6 + j] - 0.1 * gb).epsilon(1e-5));
    for (int i = 0; i < 3; ++i)
      CHECK(net.params()[i * 2 + j] == doctest::Approx(w0[i * 2 + j] - 0.1 * gw[i]).epsilon(1e-5));
  }
}

namespace {
struct Synthetic {
  std::vector<float> x, y;
  long n;
  Synthetic(long n_, std::uint64_t seed) : x(n_ * 1024), y(n_ * 2), n(n_) {
    for (long i = 0; i < n; ++i) {
      ds::RandomStream r(seed, "test.synthetic", std::uint64_t(i));
      for (long j = 0; j < 1024; ++j) x[i * 1024 + j] = float(r.normal());
      y[i * 2] = float(r.uniform(-0.2, 0.2));
      y[i * 2 + 1] = float(r.uniform(-0.2, 0.2));
    }
  }
  DataSource source() const { return DataSource::from_memory(x.data(), y.data(), n, 1024, 2); }
};
}  // namespace

TEST_CASE("checkpoint: k steps + checkpoint + resume + k steps == 2k steps, bit for bit") {
  ds::test::TempDir dir;
  Synthetic train(250, 1), val(60, 2);
  auto ts = train.source(), vs = val.source();
  TrainOptions o;
  o.progress = false;
  o.seed = 9;
  o.optimizer.lr = 1e-3;
  o.schedule.patience = 1;  // make the schedule act within the run
  const long k = 4;         // 250 / 100 -> 3 steps per epoch: the run crosses epoch ends
  Network straight(Architecture::springer2018());
  straight.init_glorot(5);
  o.max_steps = 2 * k;
  Trainer t1(straight, o);
  t1.run(ts, &vs);
  REQUIRE(t1.step() == 2 * k);

  Network first(Architecture::springer2018());
  first.init_glorot(5);
  TrainOptions o1 = o;
  o1.max_steps = k;
  o1.checkpoint = dir / "run.ckpt";
  Trainer t2(first, o1);
  t2.run(ts, &vs);

  Network resumed(Architecture::springer2018());  // zero weights until the checkpoint loads
  TrainOptions o2 = o;
  Trainer t3(resumed, o2);
  t3.load_checkpoint(dir / "run.ckpt");
  CHECK(t3.step() == k);
  t3.run(ts, &vs);
  CHECK(t3.step() == 2 * k);
  CHECK(std::memcmp(straight.params(), resumed.params(), sizeof(float) * std::size_t(straight.num_params())) == 0);
  CHECK(t3.lr() == t1.lr());
  REQUIRE(t3.history().size() == t1.history().size());
  for (std::size_t e = 0; e < t1.history().size(); ++e) CHECK(t3.history()[e].val_loss == t1.history()[e].val_loss);
  auto prov = t3.provenance();
  CHECK(prov["seed"] == "9");
  CHECK(prov["metrics"].find("\"steps\": 8") != std::string::npos);
  CHECK(prov["config"].find("lr = 0.001") != std::string::npos);
  // And the weights did move.
  CHECK(std::memcmp(straight.params(), first.params(), sizeof(float) * std::size_t(first.num_params())) != 0);
  // A checkpoint for another architecture is refused.
  Network other(Architecture::parse("input 32 32 1; affine 2 none 0"));
  Trainer t4(other, o2);
  CHECK_THROWS_WITH_AS(t4.load_checkpoint(dir / "run.ckpt"), doctest::Contains("architecture"), ds::Error);
}

TEST_CASE("training gives the same weights on 1 thread and on 2") {
  Synthetic train(150, 3);
  auto ts = train.source();
  TrainOptions o;
  o.progress = false;
  o.max_steps = 3;
  std::vector<float> w[2];
  const int before = ds::threads();
  for (int nt = 1; nt <= 2; ++nt) {
    ds::set_threads(nt);
    Network net(Architecture::springer2018());
    net.init_glorot(8);
    Trainer tr(net, o);
    tr.run(ts);
    w[nt - 1].assign(net.params(), net.params() + net.num_params());
  }
  ds::set_threads(before);
  CHECK(w[0] == w[1]);
}

TEST_CASE("Gaussian NLL training learns the mean and the noise variance of a linear model") {
  // y = 0.5 x0 - 0.3 x1 + N(0, 0.2^2): the predicted log-variance must approach log(0.04).
  const long n = 2000;
  ds::RandomStream r(21, "test.nll");
  std::vector<float> x(n * 2), y(n);
  for (long i = 0; i < n; ++i) {
    x[i * 2] = float(r.uniform(-1, 1));
    x[i * 2 + 1] = float(r.uniform(-1, 1));
    y[i] = float(0.5 * x[i * 2] - 0.3 * x[i * 2 + 1] + 0.2 * r.normal());
  }
  Network net(Architecture::parse("input 1 1 2; affine 2 none 0"));  // outputs (mean, log-variance)
  net.init_glorot(2);
  TrainOptions o;
  o.loss = "gaussian_nll";
  o.progress = false;
  o.epochs = 60;
  o.batch = 100;
  o.optimizer.lr = 0.02;
  Trainer tr(net, o);
  auto src = DataSource::from_memory(x.data(), y.data(), n, 2, 1);
  tr.run(src);
  const float* w = net.params();  // [2][2] then bias [2]
  CHECK(w[0] == doctest::Approx(0.5).epsilon(0.05));
  CHECK(w[2] == doctest::Approx(-0.3).epsilon(0.05));
  CHECK(net.params()[5] == doctest::Approx(std::log(0.04)).epsilon(0.05));
  CHECK(std::fabs(w[1]) < 0.1);  // the variance does not depend on x
  CHECK(std::fabs(w[3]) < 0.1);
}

TEST_CASE("training loop: keep-best restores the best-validation weights; plateau cuts the learning rate") {
  // A linear problem trained with an SGD step so large that it diverges:
  // validation loss falls at first, then rises.
  const long n = 200;
  ds::RandomStream r(5, "test.keepbest");
  std::vector<float> x(n * 4), y(n);
  for (long i = 0; i < n; ++i) {
    for (int j = 0; j < 4; ++j) x[i * 4 + j] = float(r.uniform(-1, 1));
    y[i] = float(0.3 * x[i * 4] - 0.2 * x[i * 4 + 3]);
  }
  auto src = DataSource::from_memory(x.data(), y.data(), n, 4, 1);
  for (int pass = 0; pass < 2; ++pass) {
    Network net(Architecture::parse("input 1 1 4; affine 1 none 0"));
    net.params()[0] = 0.2f;  // start near, but not at, the solution
    TrainOptions o;
    o.optimizer.kind = "sgd";
    o.optimizer.lr = 2.2;  // beyond the stable step for this problem
    o.schedule.patience = 1;
    o.schedule.factor = 0.5;
    // pass 0: the floor equals the rate, so it never drops and training keeps diverging;
    // pass 1: the rate halves after each epoch without a new best.
    o.schedule.min_lr = pass == 0 ? 2.2 : 1e-3;
    o.epochs = 8;
    o.batch = 200;
    o.progress = false;
    Trainer tr(net, o);
    std::vector<std::vector<float>> snapshots;
    tr.on_epoch = [&](const EpochRecord&) { snapshots.emplace_back(net.params(), net.params() + net.num_params()); };
    tr.run(src, &src);
    const auto& h = tr.history();
    REQUIRE(h.size() == 8);
    std::size_t best = 0;
    for (std::size_t e = 1; e < h.size(); ++e)
      if (h[e].val_loss < h[best].val_loss) best = e;
    std::vector<float> now(net.params(), net.params() + net.num_params());
    CHECK(now == snapshots[best]);
    if (pass == 0) {
      REQUIRE(best + 1 < h.size());  // the best epoch is not the last: keep-best had work to do
      CHECK(now != snapshots.back());
      for (const auto& e : h) CHECK(e.lr == 2.2);
    } else {
      bool cut = false;
      for (std::size_t e = 1; e < h.size(); ++e) {
        double prior_best = INFINITY;
        for (std::size_t k = 0; k + 1 < e; ++k) prior_best = std::min(prior_best, h[k].val_loss);
        bool improved = h[e - 1].val_loss < prior_best;
        CHECK(h[e].lr == doctest::Approx(improved ? h[e - 1].lr : std::max(h[e - 1].lr * 0.5, 1e-3)));
        cut = cut || !improved;
      }
      CHECK(cut);
    }
  }
}
