// Metacalibration's image operations against closed forms and the renderer.
#include <cmath>
#include <vector>

#include "deepshear/engine/image.hpp"
#include "deepshear/engine/random.hpp"
#include "deepshear/imaging/draw.hpp"
#include "deepshear/imaging/metacal.hpp"
#include "deepshear/imaging/moments.hpp"
#include "deepshear/imaging/noise.hpp"
#include "deepshear/imaging/profile.hpp"
#include "test_support.hpp"

using namespace ds::img;

namespace {

constexpr long kN = 32;

// A stamp drawn with the pixel: what a telescope records for gal * psf.
std::vector<float> observe(const ProfilePtr& gal, const ProfilePtr& psf, double scale) {
  DrawOptions o;
  o.scale = scale;
  const ds::ImageD im = draw_image(*convolve({gal, psf}), kN, kN, o);
  std::vector<float> v(std::size_t(kN * kN));
  for (long i = 0; i < kN * kN; ++i) v[std::size_t(i)] = float(im.data()[i]);
  return v;
}

// Distortion of the unweighted moments of image i of a metacal set (n, 5, N, N).
std::array<double, 2> unweighted_e(const std::vector<float>& set, int i) {
  ds::ImageView<const float> v(set.data() + i * kN * kN, kN, kN);
  const auto m = unweighted_moments(v);
  return {m.e1(), m.e2()};
}

// e from moments under a fixed round Gaussian weight (sigma 3 px at the centre).
std::array<double, 2> weighted_e(const float* im) {
  ds::ImageView<const float> v(im, kN, kN);
  const auto m = gaussian_weighted_moments(v, GaussianWeight::round(0.5 * (kN - 1), 0.5 * (kN - 1), 3.0));
  return {(m.xx - m.yy) / (m.xx + m.yy), 2 * m.xy / (m.xx + m.yy)};
}

// R_ij = (e_i(jp) - e_i(jm)) / (2 step) from the five images' e.
template <class E>
std::array<double, 4> response(E e, double step) {
  const auto p1 = e(k1p), m1 = e(k1m), p2 = e(k2p), m2 = e(k2m);
  return {(p1[0] - m1[0]) / (2 * step), (p2[0] - m2[0]) / (2 * step), (p1[1] - m1[1]) / (2 * step),
          (p2[1] - m2[1]) / (2 * step)};
}

}  // namespace

TEST_CASE("metacal: a noiseless galaxy's five images equal the renderer's sheared profile convolved with the target PSF") {
  // Well sampled (PSF FWHM 3 px), so the stamp holds the whole band-limited image.
  const double s = 0.2;
  const auto psf = convolve({gaussian_fwhm(0.6), pixel(s)});
  const auto gal = sheared(exponential_hlr(0.4, 100.0), 0.2, -0.1);
  MetacalOptions opt;
  opt.scale = s;
  MetacalOperator op(psf, opt);
  CHECK(op.target_sigma() > 0.6 / 2.3548);  // wider than the PSF's Gaussian
  const auto stamp = observe(gal, gaussian_fwhm(0.6), s);
  std::vector<float> out(std::size_t(kMetacalImages * kN * kN));
  op.apply(stamp.data(), 1, out.data());
  DrawOptions o;
  o.scale = s;
  for (int i = 0; i < kMetacalImages; ++i) {
    const auto g = metacal_shear(i, opt.step);
    const ds::ImageD want = draw_image(*convolve({sheared(gal, g[0], g[1]), gaussian(op.target_sigma())}), kN, kN, o);
    double peak = 0, worst = 0;
    for (long p = 0; p < kN * kN; ++p) {
      peak = std::max(peak, std::abs(want.data()[p]));
      worst = std::max(worst, std::abs(want.data()[p] - out[std::size_t(i * kN * kN + p)]));
    }
    INFO(metacal_image_name(i) << ": max |metacal - render| / peak = " << worst / peak);
    CHECK(worst / peak < 5e-5);
  }
}

TEST_CASE("metacal: a Gaussian galaxy's unweighted-moment response equals the closed form to 1e-4") {
  // Unweighted moments add under convolution: M(g) = S(g) C S(g)^T + (sigma_t^2 + s^2/12) I,
  // with C the galaxy's moments before the PSF (an elliptical Gaussian, sheared by g0).
  const double s = 0.2, sg = 0.35;
  const auto psf = convolve({gaussian_fwhm(0.6), pixel(s)});
  const auto gal = sheared(gaussian(sg, 50.0), 0.15, 0.05);
  MetacalOptions opt;
  opt.scale = s;
  MetacalOperator op(psf, opt);
  std::vector<float> out(std::size_t(kMetacalImages * kN * kN));
  op.apply(observe(gal, gaussian_fwhm(0.6), s).data(), 1, out.data());
  const auto R = response([&](int i) { return unweighted_e(out, i); }, opt.step);

  const Jacobian J0 = Jacobian::shear(0.15, 0.05);
  auto e_of = [&](double g1, double g2) {
    const Jacobian J = Jacobian::shear(g1, g2) * J0;  // C = sg^2 J J^T
    const double xx = sg * sg * (J.a * J.a + J.b * J.b), yy = sg * sg * (J.c * J.c + J.d * J.d),
                 xy = sg * sg * (J.a * J.c + J.b * J.d), add = op.target_sigma() * op.target_sigma() + s * s / 12;
    return std::array<double, 2>{(xx - yy) / (xx + yy + 2 * add), 2 * xy / (xx + yy + 2 * add)};
  };
  const double h = opt.step;
  const std::array<double, 4> want = {(e_of(h, 0)[0] - e_of(-h, 0)[0]) / (2 * h), (e_of(0, h)[0] - e_of(0, -h)[0]) / (2 * h),
                                      (e_of(h, 0)[1] - e_of(-h, 0)[1]) / (2 * h), (e_of(0, h)[1] - e_of(0, -h)[1]) / (2 * h)};
  for (int j = 0; j < 4; ++j) {
    INFO("R[" << j << "] = " << R[std::size_t(j)] << ", closed form " << want[std::size_t(j)]);
    CHECK(std::abs(R[std::size_t(j)] - want[std::size_t(j)]) < 1e-4);
  }
  // And the noshear image's e is the closed form's at g = 0.
  CHECK(std::abs(unweighted_e(out, kNoShear)[0] - e_of(0, 0)[0]) < 1e-4);
  CHECK(std::abs(unweighted_e(out, kNoShear)[1] - e_of(0, 0)[1]) < 1e-4);
}

TEST_CASE("metacal: for a PSF with the pixel's 90-degree symmetry, the rotated 1p operator is the 1m operator") {
  // A 90-degree rotation turns a shear g into -g, so rot^-1 A(g) rot = A(-g): checks the fixnoise bookkeeping.
  MetacalOptions opt;
  MetacalOperator op(convolve({gaussian_fwhm(0.12), pixel(0.065)}), opt);
  const double scale = op.matrix(kNoShear).cwiseAbs().maxCoeff();
  CHECK((op.rotated_matrix(k1p) - op.matrix(k1m)).cwiseAbs().maxCoeff() < 1e-5 * scale);
  CHECK((op.rotated_matrix(k2p) - op.matrix(k2m)).cwiseAbs().maxCoeff() < 1e-5 * scale);
  CHECK((op.rotated_matrix(kNoShear) - op.matrix(kNoShear)).cwiseAbs().maxCoeff() < 1e-5 * scale);
  // and the operators differ from each other (the test is not comparing a matrix with itself)
  CHECK((op.matrix(k1p) - op.matrix(k1m)).cwiseAbs().maxCoeff() > 1e-3 * scale);
}

TEST_CASE("metacal: with correlated noise and fixnoise, R's mean over noise realisations matches the noiseless R") {
  const double s = 0.065;
  const auto psf = convolve({gaussian_fwhm(0.12), pixel(s)});
  const auto gal = sheared(gaussian(0.1, 1.0), 0.1, 0.05);
  MetacalOptions opt;
  opt.scale = s;
  MetacalOperator op(psf, opt);
  const auto clean = observe(gal, gaussian_fwhm(0.12), s);
  const long n = 2000;
  // Correlated noise of the shipped kernel's shape. At twice this noise the weighted e's
  // own noise bias (its ratio) shows in R with or without fixnoise; here it is below the error.
  const NoiseKernel k = NoiseKernel::load_default(DEEPSHEAR_DATA_DIR).scaled(0.002 / NoiseKernel::load_default(DEEPSHEAR_DATA_DIR).rms());
  std::vector<float> stamps(std::size_t(n * kN * kN)), noise(stamps.size());
  for (long b = 0; b < n; ++b) {
    ds::ImageView<float> st(stamps.data() + b * kN * kN, kN, kN);
    for (long p = 0; p < kN * kN; ++p) stamps[std::size_t(b * kN * kN + p)] = clean[std::size_t(p)];
    ds::RandomStream r(7, "image_noise", std::uint64_t(b));
    add_correlated_noise(st, k, r);
    metacal_noise_field(ds::ImageView<float>(noise.data() + b * kN * kN, kN, kN), k, 11, std::uint64_t(b));
  }
  std::vector<float> out(std::size_t(n * kMetacalImages * kN * kN)), quiet(std::size_t(kMetacalImages * kN * kN));
  op.apply(clean.data(), 1, quiet.data());
  const auto R0 = response([&](int i) { return weighted_e(quiet.data() + i * kN * kN); }, opt.step);
  auto mean_R = [&](bool fix) {
    if (fix) op.apply_fixnoise(stamps.data(), noise.data(), n, out.data());
    else op.apply(stamps.data(), n, out.data());
    std::array<double, 4> sum{}, sum2{};
    for (long b = 0; b < n; ++b) {
      const float* set = out.data() + b * kMetacalImages * kN * kN;
      const auto R = response([&](int i) { return weighted_e(set + i * kN * kN); }, opt.step);
      for (int j = 0; j < 4; ++j) sum[std::size_t(j)] += R[std::size_t(j)], sum2[std::size_t(j)] += R[std::size_t(j)] * R[std::size_t(j)];
    }
    std::array<std::array<double, 4>, 2> m{};
    for (int j = 0; j < 4; ++j) {
      m[0][std::size_t(j)] = sum[std::size_t(j)] / n;
      m[1][std::size_t(j)] = std::sqrt((sum2[std::size_t(j)] / n - m[0][std::size_t(j)] * m[0][std::size_t(j)]) / (n - 1));
    }
    return m;
  };
  const auto fixed = mean_R(true);
  for (int j : {0, 3}) {  // the diagonal, where the response lives
    INFO("R" << j << ": noiseless " << R0[std::size_t(j)] << ", fixnoise mean " << fixed[0][std::size_t(j)] << " +- "
             << fixed[1][std::size_t(j)]);
    CHECK(std::abs(fixed[0][std::size_t(j)] - R0[std::size_t(j)]) < 4 * fixed[1][std::size_t(j)] + 1e-3);
    CHECK(fixed[1][std::size_t(j)] < 0.01 * R0[std::size_t(j)]);  // the test has the power to see a 1% error
  }
  const auto raw = mean_R(false);
  MESSAGE("R11 noiseless " << R0[0] << ", fixnoise " << fixed[0][0] << " +- " << fixed[1][0] << ", without fixnoise "
                           << raw[0][0] << " +- " << raw[1][0]);
}
