// The network learns: the ellipticity of noiseless elliptical Gaussian stamps.
#include <chrono>
#include <cmath>
#include <vector>

#include "deepshear/engine/random.hpp"
#include "deepshear/nn/inference.hpp"
#include "deepshear/nn/train.hpp"
#include "test_support.hpp"

using namespace ds::nn;

namespace {
// A 32x32 elliptical Gaussian with covariance sigma^2 [[1+e1, e2], [e2, 1-e1]]
// (so its distortion is exactly (e1, e2)), centre jittered by up to 1 px,
// brightness random. Targets (e1, e2).
void gaussian_set(long n, std::uint64_t seed, std::vector<float>& x, std::vector<float>& y) {
  x.assign(static_cast<std::size_t>(n * 1024), 0.0f);
  y.assign(static_cast<std::size_t>(n * 2), 0.0f);
  for (long i = 0; i < n; ++i) {
    ds::RandomStream r(seed, "test.gaussians", std::uint64_t(i));
    const double e1 = r.uniform(-0.3, 0.3), e2 = r.uniform(-0.3, 0.3), s = r.uniform(2.0, 3.5);
    const double cx = 15.5 + r.uniform(-1, 1), cy = 15.5 + r.uniform(-1, 1), flux = r.uniform(0.5, 2);
    const double cxx = s * s * (1 + e1), cyy = s * s * (1 - e1), cxy = s * s * e2, det = cxx * cyy - cxy * cxy;
    for (int py = 0; py < 32; ++py)
      for (int px = 0; px < 32; ++px) {
        double dx = px - cx, dy = py - cy;
        double q = (cyy * dx * dx - 2 * cxy * dx * dy + cxx * dy * dy) / det;
        x[std::size_t(i * 1024 + py * 32 + px)] = float(flux * std::exp(-0.5 * q));
      }
    y[std::size_t(i * 2)] = float(e1);
    y[std::size_t(i * 2 + 1)] = float(e2);
  }
}
}  // namespace

TEST_CASE("learning: springer2018 learns the ellipticity of Gaussian stamps to RMS < 0.03") {
  auto t0 = std::chrono::steady_clock::now();
  std::vector<float> xr, y, xt, yt;
  gaussian_set(2000, 1, xr, y);
  gaussian_set(300, 2, xt, yt);
  std::vector<float> x(xr.size());
  for (long i = 0; i < 2000; ++i) normalise_stamp(xr.data() + i * 1024, 1024, x.data() + i * 1024);
  Network net(Architecture::springer2018());
  net.init_glorot(3);
  TrainOptions o;
  o.progress = false;
  o.epochs = 40;
  o.optimizer.lr = 1e-3;
  o.batch = 50;
  Trainer tr(net, o);
  auto src = DataSource::from_memory(x.data(), y.data(), 2000, 1024, 2);
  tr.run(src);
  std::vector<float> pred(600);
  Predictor p(net);
  p.predict(xt.data(), 300, pred.data());
  double se = 0, prior = 0;
  for (int j = 0; j < 600; ++j) {
    se += std::pow(double(pred[std::size_t(j)]) - yt[std::size_t(j)], 2);
    prior += double(yt[std::size_t(j)]) * yt[std::size_t(j)];
  }
  double rms = std::sqrt(se / 600), rms_prior = std::sqrt(prior / 600);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  MESSAGE("test RMS " << rms << " (guessing zero: " << rms_prior << "), " << secs << " s");
  CHECK(rms < 0.03);  // guessing 0 gives 0.17
}
