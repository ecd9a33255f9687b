// Model files (round trip, corruption cases) and the final-stage refit.
// GCC 12 reports false 'may be used uninitialized' warnings inside Eigen's
// AVX-512 kernels (first included through the headers below).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <vector>

#include <Eigen/Dense>

#include "deepshear/engine/random.hpp"
#include "deepshear/nn/inference.hpp"
#include "deepshear/nn/model_file.hpp"
#include "deepshear/nn/refit.hpp"
#include "test_support.hpp"

using namespace ds::nn;

namespace {
std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
void spit(const std::string& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary);
  out.write(s.data(), std::streamsize(s.size()));
}
Model sample_model() {
  Model m;
  m.net = Network(Architecture::springer2018());
  m.net.init_glorot(17);
  m.cal_c = {-0.0015, 0.0005};
  m.cal_m = {0.0075, 0.0104};
  m.provenance["seed"] = "17";
  m.provenance["config"] = "train.batch = 100\ntrain.lr = 0.0003";
  m.provenance["code_version"] = "0.1.0";
  m.provenance["date"] = "2026-11-26T16:00:00Z";
  m.provenance["metrics"] = "{\"val_mse\": 0.00969}";
  return m;
}
}  // namespace

TEST_CASE("model file: round trip keeps architecture, weights bit for bit, calibration and provenance") {
  ds::test::TempDir dir;
  Model m = sample_model();
  save_model(m, dir / "m.dsnn");
  Model r = load_model(dir / "m.dsnn");
  CHECK(r.net.arch().to_text() == m.net.arch().to_text());
  CHECK(r.net.arch().name == "springer2018");
  REQUIRE(r.net.num_params() == 107866);
  CHECK(std::memcmp(r.net.params(), m.net.params(), sizeof(float) * 107866) == 0);
  CHECK(r.cal_c == m.cal_c);
  CHECK(r.cal_m == m.cal_m);
  CHECK(r.provenance == m.provenance);
  CHECK(r.norm == InputNorm::MeanStd);
  // weights are little-endian float32: the first weight's bytes appear in the file.
  std::string bytes = slurp(dir / "m.dsnn");
  CHECK(bytes.compare(0, 8, "DSNNMODL") == 0);
  CHECK(bytes.find(std::string(reinterpret_cast<const char*>(m.net.params()), 64)) != std::string::npos);
  // Calibration: (raw - c) / (1 + m).
  float y[2] = {0.1f, -0.2f};
  r.calibrate(y, 1);
  CHECK(y[0] == doctest::Approx((0.1 + 0.0015) / 1.0075));
  CHECK(y[1] == doctest::Approx((-0.2 - 0.0005) / 1.0104));
}

TEST_CASE("model file: truncated, corrupted, foreign and newer files are refused with a clear error") {
  ds::test::TempDir dir;
  save_model(sample_model(), dir / "m.dsnn");
  const std::string good = slurp(dir / "m.dsnn");
  // Truncated at several places.
  for (std::size_t cut : {std::size_t(4), std::size_t(30), good.size() / 2, good.size() - 1}) {
    spit(dir / "t.dsnn", good.substr(0, cut));
    CHECK_THROWS_AS(load_model(dir / "t.dsnn"), ds::Error);
  }
  spit(dir / "t.dsnn", good.substr(0, good.size() / 2));
  CHECK_THROWS_WITH_AS(load_model(dir / "t.dsnn"), doctest::Contains("truncated"), ds::Error);
  // One flipped bit in the weights.
  std::string bad = good;
  bad[bad.size() - 1000] ^= 0x10;
  spit(dir / "c.dsnn", bad);
  CHECK_THROWS_WITH_AS(load_model(dir / "c.dsnn"), doctest::Contains("checksum"), ds::Error);
  // A foreign file.
  spit(dir / "f.dsnn", "SIMPLE  =                    T / a FITS file, not a model");
  CHECK_THROWS_WITH_AS(load_model(dir / "f.dsnn"), doctest::Contains("not a deepshear model file"), ds::Error);
  // A newer format version.
  std::string newer = good;
  newer[8] = 2;
  spit(dir / "n.dsnn", newer);
  CHECK_THROWS_WITH_AS(load_model(dir / "n.dsnn"), doctest::Contains("newer"), ds::Error);
  // The messages name the file.
  CHECK_THROWS_WITH_AS(load_model(dir / "n.dsnn"), doctest::Contains("n.dsnn"), ds::Error);
  CHECK_THROWS_AS(load_model(dir / "missing.dsnn"), ds::Error);
}

TEST_CASE("model file: written atomically (a failed save leaves the old file, no temporaries)") {
  ds::test::TempDir dir;
  Model m = sample_model();
  save_model(m, dir / "m.dsnn");
  const std::string before = slurp(dir / "m.dsnn");
  Model broken = m;
  broken.provenance["bad\nkey"] = "x";  // refused while writing
  CHECK_THROWS_AS(save_model(broken, dir / "m.dsnn"), ds::Error);
  CHECK(slurp(dir / "m.dsnn") == before);
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.path)) files += e.is_regular_file();
  CHECK(files == 1);
}

TEST_CASE("refit: least squares with bias matches an independent QR solve; attenuation makes it unbiased") {
  // Features y = s g + eta (appendix B's model), 30-d, two targets.
  const long n = 4000, d = 30, k = 2;
  ds::RandomStream r(12, "test.refit");
  Eigen::MatrixXd S(d, k);
  for (long j = 0; j < d; ++j)
    for (long c = 0; c < k; ++c) S(j, c) = r.normal();
  std::vector<float> f(n * d), g(n * k);
  for (long i = 0; i < n; ++i) {
    double gi[2] = {r.uniform(-0.2, 0.2), r.uniform(-0.2, 0.2)};
    for (long c = 0; c < k; ++c) g[i * k + c] = float(gi[c]);
    for (long j = 0; j < d; ++j) f[i * d + j] = float(0.5 + S(j, 0) * gi[0] + S(j, 1) * gi[1] + 1.5 * r.normal());
  }
  Network net(Architecture::parse("input 1 1 30; affine 2 none 0"));
  RefitResult plain = refit_last_layer(net, f.data(), g.data(), n, false);
  // Independent solve: QR of [f, 1].
  Eigen::MatrixXd A(n, d + 1), G(n, k);
  for (long i = 0; i < n; ++i) {
    for (long j = 0; j < d; ++j) A(i, j) = f[i * d + j];
    A(i, d) = 1;
    for (long c = 0; c < k; ++c) G(i, c) = g[i * k + c];
  }
  Eigen::MatrixXd W = A.householderQr().solve(G);
  for (long j = 0; j < d; ++j)
    for (long c = 0; c < k; ++c) CHECK(net.weights(0)[j * k + c] == doctest::Approx(W(j, c)).epsilon(1e-4));
  for (long c = 0; c < k; ++c) CHECK(net.bias(0)[c] == doctest::Approx(W(d, c)).epsilon(1e-4));
  CHECK(plain.factor[0] == 1.0);
  // Regression attenuation: the plain fit's slope of estimate on truth is
  // 1 - L/Var < 1; after the correction it is 1 (appendix B).
  auto slope = [&](Network& nn, int c) {
    std::vector<float> y(n * k);
    Predictor p(nn);
    p.predict(f.data(), n, y.data(), InputNorm::None);
    double sxy = 0, sxx = 0;
    for (long i = 0; i < n; ++i) {
      sxy += double(y[i * k + c]) * g[i * k + c];
      sxx += double(g[i * k + c]) * g[i * k + c];
    }
    return sxy / sxx;
  };
  double s_plain = slope(net, 0);
  CHECK(s_plain == doctest::Approx(1.0 - plain.residual[0] / plain.variance[0]).epsilon(0.02));
  CHECK(s_plain < 0.9);
  RefitResult corr = refit_last_layer(net, f.data(), g.data(), n, true);
  CHECK(corr.factor[0] == doctest::Approx(1.0 / (1.0 - corr.residual[0] / corr.variance[0])));
  CHECK(slope(net, 0) == doctest::Approx(1.0).epsilon(0.02));
  CHECK(slope(net, 1) == doctest::Approx(1.0).epsilon(0.02));
}

TEST_CASE("model file: another architecture (channels, activation, outputs) loads and predicts the same") {
  ds::test::TempDir dir;
  Model m;
  m.net = Network(Architecture::parse("input 16 16 1; conv 8 3 2 tanh; conv 6 1 1 relu; affine 4 tanh 0.1; affine 3 none 0"));
  m.net.init_glorot(5);
  m.norm = InputNorm::None;
  save_model(m, dir / "custom.dsnn");
  Model r = load_model(dir / "custom.dsnn");
  CHECK(r.net.arch().outputs() == 3);
  CHECK(r.norm == InputNorm::None);
  CHECK(r.cal_c.empty());
  ds::RandomStream rs(6, "test.custom");
  std::vector<float> x(5 * 256), a(15), b(15);
  for (auto& v : x) v = float(rs.normal());
  Predictor pa(m.net), pb(r.net);
  pa.predict(x.data(), 5, a.data(), InputNorm::None);
  pb.predict(x.data(), 5, b.data(), InputNorm::None);
  CHECK(a == b);
}

TEST_CASE("a model file with a valid checksum but absurd contents is refused") {
  ds::test::TempDir tmp;
  const std::string path = tmp / "m.dsm";
  // Non-finite weights or calibrations would give NaN or constant shears with flag 0.
  Model nan_w = sample_model();
  nan_w.net.params()[5] = std::nanf("");
  save_model(nan_w, path);
  CHECK(ds::test::error_of([&] { load_model(path); }).find("weight 5 is not finite") != std::string::npos);
  Model nan_c = sample_model();
  nan_c.cal_m[1] = std::numeric_limits<double>::infinity();
  save_model(nan_c, path);
  CHECK(ds::test::error_of([&] { load_model(path); }).find("calibration 1") != std::string::npos);
  Model bad_m = sample_model();
  bad_m.cal_m[0] = -1;  // (g - c) / (1 + m) divides by zero
  save_model(bad_m, path);
  CHECK(!ds::test::error_of([&] { load_model(path); }).empty());
  // Shapes whose products overflow a 64-bit integer.
  for (const char* text : {"input 65536 65536 65536; affine 2 none 0", "input 32 32 1; affine 65536 none 0; affine 65536 none 0",
                           "input 4096 4096 4096; conv 65536 4096 1 relu"})
    CHECK_MESSAGE(!ds::test::error_of([&] { Architecture::parse(text); }).empty(), text);
}
