// Keras import against a naive double-precision Keras implementation, and the
// estimate / import-keras commands.
#include <cmath>
#include <vector>

#include "deepshear/engine/fits.hpp"
#include "deepshear/engine/random.hpp"
#include "deepshear/nn/inference.hpp"
#include "deepshear/nn/keras.hpp"
#include "test_support.hpp"

using namespace ds::nn;

namespace {

const char* kModel = "wlenet-data/models/cnn_image_clash_uniform_mse_lsq.hdf5";

// Keras semantics, written independently in double: Conv2D 'valid' with
// strides and kernel [kh, kw, in, out] on (y, x, channel) images; Dense with
// kernel [in, out]; Flatten in (y, x, channel) order; ReLU.
struct Img {
  long h, w, c;
  std::vector<double> v;  // v[(y * w + x) * c + ch]
};
Img keras_conv(const Img& in, const Hdf5Array& k, const Hdf5Array& b, long stride) {
  const long kh = k.shape[0], kw = k.shape[1], ci = k.shape[2], co = k.shape[3];
  Img out{(in.h - kh) / stride + 1, (in.w - kw) / stride + 1, co, {}};
  out.v.assign(std::size_t(out.h * out.w * co), 0.0);
  for (long y = 0; y < out.h; ++y)
    for (long x = 0; x < out.w; ++x)
      for (long o = 0; o < co; ++o) {
        double acc = b.data[std::size_t(o)];
        for (long dy = 0; dy < kh; ++dy)
          for (long dx = 0; dx < kw; ++dx)
            for (long i = 0; i < ci; ++i)
              acc += in.v[std::size_t(((y * stride + dy) * in.w + x * stride + dx) * in.c + i)] *
                     double(k.data[std::size_t(((dy * kw + dx) * ci + i) * co + o)]);
        out.v[std::size_t((y * out.w + x) * co + o)] = std::max(acc, 0.0);
      }
  return out;
}
std::vector<double> keras_dense(const std::vector<double>& in, const Hdf5Array& k, const Hdf5Array& b, bool relu) {
  const long ni = k.shape[0], no = k.shape[1];
  std::vector<double> out(static_cast<std::size_t>(no));
  for (long o = 0; o < no; ++o) {
    double acc = b.data[std::size_t(o)];
    for (long i = 0; i < ni; ++i) acc += in[std::size_t(i)] * double(k.data[std::size_t(i * no + o)]);
    out[std::size_t(o)] = relu ? std::max(acc, 0.0) : acc;
  }
  return out;
}

std::vector<float> stamps(long n, std::uint64_t seed) {
  // Galaxy-like: a random Gaussian blob plus noise.
  std::vector<float> x(static_cast<std::size_t>(n * 1024));
  for (long i = 0; i < n; ++i) {
    ds::RandomStream r(seed, "test.keras", std::uint64_t(i));
    double s = r.uniform(1.5, 4), cx = 15.5 + r.uniform(-2, 2), cy = 15.5 + r.uniform(-2, 2);
    for (int y = 0; y < 32; ++y)
      for (int xx = 0; xx < 32; ++xx)
        x[std::size_t(i * 1024 + y * 32 + xx)] =
            float(std::exp(-((xx - cx) * (xx - cx) + (y - cy) * (y - cy)) / (2 * s * s)) + 0.05 * r.normal());
  }
  return x;
}

}  // namespace

TEST_CASE("keras import: the published model matches a naive double-precision Keras implementation") {
  if (!keras_import_available()) {
    MESSAGE("skipped: built without HDF5");
    return;
  }
  DS_REQUIRE_SHARED(path, kModel);
  Model m = import_keras(path);
  REQUIRE(m.net.num_params() == 107866);
  const char* names[] = {"conv_1", "conv_2", "conv_3", "dense_1", "dense_2", "label_pred"};
  std::vector<Hdf5Array> K, B;
  for (const char* n : names) {
    K.push_back(read_hdf5_dataset(path, std::string(n) + "/" + n + "/kernel:0"));
    B.push_back(read_hdf5_dataset(path, std::string(n) + "/" + n + "/bias:0"));
  }
  CHECK(K[0].shape == std::vector<long>{5, 5, 1, 64});
  CHECK(K[3].shape == std::vector<long>{1000, 100});
  const long n = 20;
  auto x = stamps(n, 4);
  std::vector<float> y(static_cast<std::size_t>(n * 2));
  Predictor p(m.net);
  p.predict(x.data(), n, y.data(), m.norm);
  double worst = 0, scale = 0;
  for (long i = 0; i < n; ++i) {
    Img img{32, 32, 1, {}};
    // Paper: subtract the stamp mean, divide by its standard deviation.
    double mean = 0, var = 0;
    for (int j = 0; j < 1024; ++j) mean += x[std::size_t(i * 1024 + j)];
    mean /= 1024;
    for (int j = 0; j < 1024; ++j) var += std::pow(x[std::size_t(i * 1024 + j)] - mean, 2);
    double sd = std::sqrt(var / 1024);
    for (int j = 0; j < 1024; ++j) img.v.push_back((x[std::size_t(i * 1024 + j)] - mean) / sd);
    Img a = keras_conv(img, K[0], B[0], 3);
    a = keras_conv(a, K[1], B[1], 1);
    a = keras_conv(a, K[2], B[2], 1);
    auto d = keras_dense(a.v, K[3], B[3], true);
    d = keras_dense(d, K[4], B[4], true);
    d = keras_dense(d, K[5], B[5], false);
    for (int k = 0; k < 2; ++k) {
      worst = std::max(worst, std::fabs(d[std::size_t(k)] - y[std::size_t(i * 2 + k)]));
      scale = std::max(scale, std::fabs(d[std::size_t(k)]));
    }
  }
  MESSAGE("largest |deepshear - keras| " << worst << " for outputs up to " << scale);
  REQUIRE(scale > 1e-3);
  CHECK(worst < 1e-5 * std::max(1.0, scale) + 1e-6);
}

TEST_CASE("keras import: the published model reads shear in DESIGN.md's convention (x fastest, g1 along x)") {
  if (!keras_import_available()) {
    MESSAGE("skipped: built without HDF5");
    return;
  }
  DS_REQUIRE_SHARED(path, kModel);
  Model m = import_keras(path);
  Predictor p(m.net);
  // Noise-free elliptical Gaussians (covariance s^2 [[1+e1, e2], [e2, 1-e1]]):
  // stretched along x -> g1 > 0, along y -> g1 < 0, along x = y -> g2 > 0,
  // along x = -y -> g2 < 0. A transposed or mis-ordered import breaks this.
  const double es[4][2] = {{0.3, 0}, {-0.3, 0}, {0, 0.3}, {0, -0.3}};
  float g[4][2];
  for (int k = 0; k < 4; ++k) {
    std::vector<float> x(1024);
    const double s = 2.0, cxx = s * s * (1 + es[k][0]), cyy = s * s * (1 - es[k][0]), cxy = s * s * es[k][1];
    const double det = cxx * cyy - cxy * cxy;
    for (int py = 0; py < 32; ++py)
      for (int px = 0; px < 32; ++px) {
        double dx = px - 15.5, dy = py - 15.5;
        x[std::size_t(py * 32 + px)] = float(std::exp(-0.5 * (cyy * dx * dx - 2 * cxy * dx * dy + cxx * dy * dy) / det));
      }
    p.predict(x.data(), 1, g[k]);
  }
  CHECK(g[0][0] > 0.05);
  CHECK(g[1][0] < -0.05);
  CHECK(g[2][1] > 0.02);
  CHECK(g[3][1] < -0.02);
}

TEST_CASE("commands: import-keras, then estimate (symmetrised, calibrated) matches the library") {
  if (!keras_import_available()) {
    MESSAGE("skipped: built without HDF5");
    return;
  }
  DS_REQUIRE_SHARED(path, kModel);
  ds::test::TempDir dir;
  auto r = ds::test::run_cli("import-keras '" + path + "' -o '" + dir / "m.dsnn" + "' --calibration 0.01,0.1,-0.02,0.2");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  Model m = load_model(dir / "m.dsnn");
  CHECK(m.cal_c == std::vector<double>{0.01, -0.02});
  const long n = 24;
  auto x = stamps(n, 5);
  ds::Tensor cube({n, 32, 32});
  for (long j = 0; j < n * 1024; ++j) cube[j] = x[std::size_t(j)];
  {
    ds::fits::FitsWriter w(dir / "stamps.fits");
    w.write_cube(cube, ds::fits::PixelType::Float32);
    w.commit();
  }
  for (int mode = 0; mode < 2; ++mode) {
    std::string extra = mode == 0 ? "" : " --no-symmetrise --no-calibration";
    auto e = ds::test::run_cli("estimate '" + dir / "stamps.fits" + "' --model '" + dir / "m.dsnn" + "' -o '" +
                               dir / "g.fits" + "'" + extra);
    REQUIRE_MESSAGE(e.exit_code == 0, e.err);
    ds::fits::FitsFile f(dir / "g.fits");
    f.hdu("SHEAR");
    auto g1 = f.read_column("G1"), g2 = f.read_column("G2");
    REQUIRE(long(g1.size()) == n);
    std::vector<float> ref(static_cast<std::size_t>(n * 2));
    Predictor p(m.net);
    if (mode == 0) {
      // DESIGN.md: a quarter turn maps (g1, g2) -> (-g1, -g2), a mirror -> (g1, -g2).
      p.predict_symmetrised(x.data(), n, ref.data(), [](int t, float* g) {
        if (t % 2) g[0] = -g[0], g[1] = -g[1];
        if (t >= 4) g[1] = -g[1];
      });
      m.calibrate(ref.data(), n);
    } else {
      p.predict(x.data(), n, ref.data());
    }
    for (long i = 0; i < n; ++i) {
      CHECK(g1[std::size_t(i)] == doctest::Approx(ref[std::size_t(2 * i)]).epsilon(1e-6));
      CHECK(g2[std::size_t(i)] == doctest::Approx(ref[std::size_t(2 * i + 1)]).epsilon(1e-6));
    }
  }
  // The same stamps as rows of a table column give the same estimates.
  {
    ds::fits::FitsWriter w(dir / "table.fits");
    w.write_table({ds::fits::TableColumn::floats("STAMP", x, 1024)}, "STAMPS");
    w.commit();
  }
  auto e1 = ds::test::run_cli("estimate '" + dir / "stamps.fits" + "' --model '" + dir / "m.dsnn" + "' -o '" +
                              dir / "a.fits" + "'");
  auto e2 = ds::test::run_cli("estimate '" + dir / "table.fits" + "' --column STAMP --model '" + dir / "m.dsnn" +
                              "' -o '" + dir / "b.fits" + "'");
  REQUIRE_MESSAGE(e1.exit_code == 0, e1.err);
  REQUIRE_MESSAGE(e2.exit_code == 0, e2.err);
  {
    ds::fits::FitsFile fa(dir / "a.fits"), fb(dir / "b.fits");
    fa.hdu("SHEAR");
    fb.hdu("SHEAR");
    CHECK(fa.read_column("G1") == fb.read_column("G1"));
    CHECK(fa.read_column("G2") == fb.read_column("G2"));
  }
  // A missing model is a clear error, not a crash.
  auto bad = ds::test::run_cli("estimate '" + dir / "stamps.fits" + "' --model '" + dir / "nope.dsnn" + "' -o '" +
                               dir / "g2.fits" + "'");
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("nope.dsnn") != std::string::npos);
}
