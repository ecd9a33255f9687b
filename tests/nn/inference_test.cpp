// Inference: the fast path against the tape, normalisation, symmetrisation.
#include <cmath>
#include <cstring>
#include <vector>

#include "deepshear/engine/parallel.hpp"
#include "deepshear/engine/random.hpp"
#include "deepshear/nn/inference.hpp"
#include "test_support.hpp"

using namespace ds::nn;

namespace {
std::vector<float> random_stamps(long n, long m, std::uint64_t seed) {
  std::vector<float> x(static_cast<std::size_t>(n * m));
  for (long i = 0; i < n; ++i) {
    ds::RandomStream r(seed, "test.stamps", std::uint64_t(i));
    for (long j = 0; j < m; ++j) x[std::size_t(i * m + j)] = float(r.normal(3.0, 2.0));
  }
  return x;
}
Network random_springer(std::uint64_t seed) {
  Network net(Architecture::springer2018());
  net.init_glorot(seed);
  ds::RandomStream r(seed, "test.bias");
  for (const auto& p : net.plans())
    for (long j = 0; j < p.b_count; ++j) net.params()[p.b_offset + j] = float(r.uniform(-0.1, 0.1));
  return net;
}
}  // namespace

TEST_CASE("stamp normalisation: zero mean, unit std; a flat stamp gives zeros, not NaN") {
  std::vector<float> s = random_stamps(1, 1024, 1), out(1024);
  normalise_stamp(s.data(), 1024, out.data());
  double m = 0, v = 0;
  for (float x : out) m += x;
  m /= 1024;
  for (float x : out) v += (x - m) * (x - m);
  CHECK(std::fabs(m) < 1e-6);
  CHECK(std::sqrt(v / 1024) == doctest::Approx(1.0).epsilon(1e-5));
  std::vector<float> flat(1024, 7.5f);
  normalise_stamp(flat.data(), 1024, out.data());
  for (float x : out) REQUIRE(x == 0.0f);
  // Background invariance: adding a constant changes nothing (paper, sec. 5).
  std::vector<float> shifted(s), out2(1024);
  for (auto& x : shifted) x += 100.0f;
  normalise_stamp(s.data(), 1024, out.data());
  normalise_stamp(shifted.data(), 1024, out2.data());
  for (int j = 0; j < 1024; ++j) REQUIRE(out2[std::size_t(j)] == doctest::Approx(out[std::size_t(j)]).epsilon(1e-4));
}

TEST_CASE("fast inference agrees with the tape to 1e-5 relative, on 1 and 2 threads") {
  Network net = random_springer(21);
  const long n = 77;  // not a multiple of the block
  auto x = random_stamps(n, 1024, 2);
  std::vector<float> xn(x.size());
  for (long i = 0; i < n; ++i) normalise_stamp(x.data() + i * 1024, 1024, xn.data() + i * 1024);
  Tape t;
  auto out = net.forward(t, xn.data(), n);
  const float* ref = t.value(out);
  double scale = 0;
  for (long j = 0; j < n * 2; ++j) scale = std::max(scale, double(std::fabs(ref[j])));
  REQUIRE(scale > 0);
  const int before = ds::threads();
  std::vector<float> y1(static_cast<std::size_t>(n * 2)), y2(y1.size());
  ds::set_threads(1);
  Predictor p1(net, 16);
  p1.predict(x.data(), n, y1.data());
  ds::set_threads(2);
  Predictor p2(net);
  p2.predict(x.data(), n, y2.data());
  ds::set_threads(before);
  double worst = 0;
  for (long j = 0; j < n * 2; ++j) worst = std::max(worst, std::fabs(double(y2[std::size_t(j)]) - ref[j]) / scale);
  CHECK(worst < 1e-5);
  for (long j = 0; j < n * 2; ++j) CHECK(y1[std::size_t(j)] == doctest::Approx(y2[std::size_t(j)]).epsilon(1e-6));
  // Features = the input of the last layer; applying the last layer gives the output.
  std::vector<float> f(static_cast<std::size_t>(n * 30));
  p2.features(x.data(), n, f.data());
  const auto& last = net.plans().back();
  for (long i = 0; i < 3; ++i)
    for (int k = 0; k < 2; ++k) {
      double acc = net.params()[last.b_offset + k];
      for (int j = 0; j < 30; ++j) acc += double(f[std::size_t(i * 30 + j)]) * net.params()[last.w_offset + j * 2 + k];
      CHECK(acc == doctest::Approx(y2[std::size_t(i * 2 + k)]).epsilon(1e-5));
    }
}

TEST_CASE("stamp transforms: quarter turn, mirror, and the group they make") {
  const long n = 5;
  std::vector<float> s(25), a(25), b(25), c(25);
  for (int j = 0; j < 25; ++j) s[std::size_t(j)] = float(j);
  // A quarter turn: out[y][x] = in[x][n-1-y]; check one pixel by hand.
  transform_stamp(s.data(), n, 1, a.data());
  CHECK(a[0 * 5 + 0] == s[0 * 5 + 4]);
  CHECK(a[1 * 5 + 3] == s[3 * 5 + 3]);
  // Four quarter turns are the identity; two mirrors too.
  std::vector<float> cur(s);
  for (int q = 0; q < 4; ++q) {
    transform_stamp(cur.data(), n, 1, a.data());
    std::swap(cur, a);
  }
  CHECK(cur == s);
  transform_stamp(s.data(), n, 4, a.data());
  CHECK(a[2 * 5 + 0] == s[2 * 5 + 4]);
  transform_stamp(a.data(), n, 4, b.data());
  CHECK(b == s);
  // The eight transforms of an asymmetric stamp are all different.
  std::vector<std::vector<float>> all;
  for (int t = 0; t < 8; ++t) {
    transform_stamp(s.data(), n, t, c.data());
    for (const auto& o : all) CHECK(o != c);
    all.push_back(c);
  }
  // t = 4 + r is a mirror after r quarter turns.
  transform_stamp(s.data(), n, 2, a.data());
  transform_stamp(a.data(), n, 4, b.data());
  transform_stamp(s.data(), n, 6, c.data());
  CHECK(b == c);
}

namespace {
// A one-layer network whose outputs are the quadrupoles of the stamp:
// y1 = sum (dx^2 - dy^2) s, y2 = sum 2 dx dy s (dx, dy from the centre).
Network quadrupole_net(long n) {
  Network net(Architecture::parse("input " + std::to_string(n) + " " + std::to_string(n) + " 1; affine 2 none 0"));
  const double c = (n - 1) / 2.0;
  for (long y = 0; y < n; ++y)
    for (long x = 0; x < n; ++x) {
      double dx = x - c, dy = y - c;
      net.params()[(y * n + x) * 2 + 0] = float(dx * dx - dy * dy);
      net.params()[(y * n + x) * 2 + 1] = float(2 * dx * dy);
    }
  return net;
}
// The shear maps of DESIGN.md: quarter turn (-g1, -g2), mirror (g1, -g2).
void shear_map(int t, float* y) {
  if ((t % 4) % 2 == 1) {
    y[0] = -y[0];
    y[1] = -y[1];
  }
  if (t >= 4) y[1] = -y[1];
}
}  // namespace

TEST_CASE("symmetrised estimator: an equivariant network is unchanged; outputs are mapped back per transform") {
  const long n = 8;
  Network net = quadrupole_net(n);
  auto x = random_stamps(10, n * n, 5);
  Predictor p(net, 16);
  std::vector<float> plain(20), sym(20);
  p.predict(x.data(), 10, plain.data(), InputNorm::None);
  p.predict_symmetrised(x.data(), 10, sym.data(), shear_map, InputNorm::None);
  double scale = 0;
  for (float v : plain) scale = std::max(scale, double(std::fabs(v)));
  for (int j = 0; j < 20; ++j) CHECK(std::fabs(sym[std::size_t(j)] - plain[std::size_t(j)]) < 1e-5 * scale);
  // A wrong map (identity) averages the quadrupoles away: every (y1, y2) pair
  // cancels over the group.
  p.predict_symmetrised(x.data(), 10, sym.data(), [](int, float*) {}, InputNorm::None);
  for (int j = 0; j < 20; ++j) CHECK(std::fabs(sym[std::size_t(j)]) < 1e-5 * scale);

  // A network that is not equivariant: the result must be the mean over t of
  // map(t, net(T_t x)), computed here by hand with the transforms written out
  // as coordinate maps.
  Network rnd(Architecture::parse("input 8 8 1; affine 2 none 0"));
  rnd.init_glorot(4);
  Predictor pr(rnd, 8);
  std::vector<float> got(20);
  pr.predict_symmetrised(x.data(), 10, got.data(), shear_map, InputNorm::MeanStd);
  for (long i = 0; i < 10; ++i) {
    std::vector<float> s(64);
    normalise_stamp(x.data() + i * 64, 64, s.data());
    double acc[2] = {0, 0};
    for (int t = 0; t < 8; ++t) {
      double y[2] = {rnd.params()[128], rnd.params()[129]};
      for (long yy = 0; yy < n; ++yy)
        for (long xx = 0; xx < n; ++xx) {
          // Pixel (yy, xx) of the transformed stamp comes from: rotate back r
          // times ((y, x) -> (x, n-1-y)) after un-mirroring x.
          long sy = yy, sx = t >= 4 ? n - 1 - xx : xx;
          for (int q = 0; q < t % 4; ++q) {
            long ty = sx;
            sx = n - 1 - sy;
            sy = ty;
          }
          float v = s[std::size_t(sy * n + sx)];
          y[0] += double(v) * rnd.params()[(yy * n + xx) * 2];
          y[1] += double(v) * rnd.params()[(yy * n + xx) * 2 + 1];
        }
      float fy[2] = {float(y[0]), float(y[1])};
      shear_map(t, fy);
      acc[0] += fy[0];
      acc[1] += fy[1];
    }
    CHECK(got[std::size_t(i * 2)] == doctest::Approx(acc[0] / 8).epsilon(1e-4));
    CHECK(got[std::size_t(i * 2 + 1)] == doctest::Approx(acc[1] / 8).epsilon(1e-4));
  }
}

TEST_CASE("fused convolution stack equals the per-layer path for many channel counts and activations") {
  const char* archs[] = {
      "input 12 12 1; conv 8 3 3 relu; conv 24 1 1 relu; conv 40 1 1 tanh; affine 3 none 0",
      "input 11 11 1; conv 64 2 1 relu; conv 12 1 1 none; conv 16 1 1 relu; affine 2 tanh 0",
      "input 9 9 1; conv 57 4 2 tanh; affine 5 none 0",
      "input 32 32 1; conv 64 5 3 relu; conv 40 1 1 relu; conv 10 1 1 relu; affine 100 relu 0.3; affine 30 relu 0.3; "
      "affine 2 none 0"};
  for (const char* text : archs) {
    Network net(Architecture::parse(text));
    net.init_glorot(31);
    ds::RandomStream r(32, "test.fused.bias");
    for (const auto& p : net.plans())
      for (long j = 0; j < p.b_count; ++j) net.params()[p.b_offset + j] = float(r.uniform(-0.2, 0.2));
    const long n = 13, in = net.arch().input_size(), k = net.arch().outputs();
    auto x = random_stamps(n, in, 33);
    Predictor fused(net, 8), plain(net, 8, false);
    REQUIRE(fused.fused());
    REQUIRE_FALSE(plain.fused());
    std::vector<float> a(static_cast<std::size_t>(n * k)), b(a.size());
    fused.predict(x.data(), n, a.data());
    plain.predict(x.data(), n, b.data());
    double scale = 0, worst = 0;
    for (std::size_t j = 0; j < a.size(); ++j) scale = std::max(scale, double(std::fabs(b[j])));
    for (std::size_t j = 0; j < a.size(); ++j) worst = std::max(worst, double(std::fabs(a[j] - b[j])));
    INFO(text);
    CHECK(worst <= 1e-5 * std::max(scale, 1e-3));
  }
}

TEST_CASE("a sample's outputs are the same bits whatever batch it sits in (plain and symmetrised)") {
  // What lets an estimate split over MPI ranks give one process's bytes.
  Network net = random_springer(23);
  const long n = 45;
  const auto x = random_stamps(n, 1024, 4);
  Predictor p(net);
  const OutputMap identity = [](int, float*) {};
  std::vector<float> all(std::size_t(n * 2)), all_sym(all.size());
  p.predict(x.data(), n, all.data());
  p.predict_symmetrised(x.data(), n, all_sym.data(), identity);
  for (long first : {1L, 3L, 7L, 30L}) {  // batches starting at other positions, of other lengths
    const long m = n - first;
    std::vector<float> part(std::size_t(m * 2)), part_sym(part.size());
    p.predict(x.data() + first * 1024, m, part.data());
    p.predict_symmetrised(x.data() + first * 1024, m, part_sym.data(), identity);
    REQUIRE(std::memcmp(part.data(), all.data() + first * 2, part.size() * sizeof(float)) == 0);
    REQUIRE(std::memcmp(part_sym.data(), all_sym.data() + first * 2, part.size() * sizeof(float)) == 0);
  }
}
