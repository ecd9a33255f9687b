// Correlated pixel noise from a small convolution kernel (paper sec. 2.1.4).
//
// A NoiseKernel K (7 x 7, centre at (3, 3)) turns iid N(0, 1) pixels w into
// correlated noise n = K * w (2-D convolution). n has variance sum K^2 and
// covariance Cov(n(p), n(p + d)) = sum_q K(q) K(q + d) (the kernel's
// autocorrelation). A kernel is estimated from background pixels as the
// central row of the symmetric square root of the 49 x 49 covariance of 7 x 7
// patches, which reproduces that covariance.
#pragma once
#include <string>

#include "deepshear/engine/image.hpp"
#include "deepshear/engine/random.hpp"

namespace ds::img {

class NoiseKernel {
 public:
  static constexpr long kSize = 7;  // kernel side
  static constexpr long kHalf = 3;  // centre index

  // An all-zero kernel (makes no noise).
  NoiseKernel();
  // From a 7 x 7 image, [y][x], centre at (3, 3). Throws on another shape or non-finite values.
  explicit NoiseKernel(const ds::ImageD& k);
  // A delta kernel: white noise of standard deviation sigma.
  static NoiseKernel white(double sigma);

  const ds::ImageD& values() const { return k_; }
  double operator()(long y, long x) const { return k_(y, x); }
  // The noise RMS the kernel makes: sqrt(sum K^2).
  double rms() const;
  // The kernel times f (noise RMS times |f|).
  NoiseKernel scaled(double f) const;
  // The covariance of the noise it makes at lag (dy, dx), |dy|, |dx| <= 6:
  // sum_q K(q) K(q + d). Zero beyond the kernel's reach.
  double covariance(long dy, long dx) const;
  // All lags as a 13 x 13 image, zero lag at (6, 6).
  ds::ImageD covariance_image() const;

  // FITS: a 7 x 7 float64 image in the primary HDU (optionally EXTNAME HDU).
  static NoiseKernel load_fits(const std::string& path);
  void save_fits(const std::string& path) const;
  // Text: '#' comment lines, then 7 rows of 7 numbers (row y = 0 first).
  static NoiseKernel load_text(const std::string& path);
  void save_text(const std::string& path, const std::string& comment = "") const;
  // By extension: .fits / .fit / .fits.gz -> FITS, anything else -> text.
  static NoiseKernel load(const std::string& path);
  void save(const std::string& path) const;

  // The shipped default kernel (data/noise_kernel_default.txt; see its .md),
  // from data_dir when given, else where ds::data_path finds shipped files.
  static NoiseKernel load_default(const std::string& data_dir = "");

 private:
  ds::ImageD k_;
};

// Adds correlated noise to a stamp in place: iid N(0, 1) draws on a field
// padded by 3 pixels on every side ((ny+6) x (nx+6), row-major), convolved
// with k, the central ny x nx added to the stamp. The draws come from r's raw
// 32-bit words by Box-Muller in float on 24-bit uniforms (|z| <= 5.9; the cut
// tail has probability 4e-9), so with r = RandomStream(seed, "noise",
// stamp_index) a stamp's noise depends only on (seed, stamp index). About
// 23 us for a 32x32 stamp on one core.
void add_correlated_noise(ds::ImageView<float> stamp, const NoiseKernel& k, ds::RandomStream& r);
void add_correlated_noise(ds::ImageView<double> stamp, const NoiseKernel& k, ds::RandomStream& r);

// Background covariance (49 x 49) of 7 x 7 patches of `image` whose 49 pixels
// are all usable: mask(y, x) == 0 marks usable background (non-zero = source
// or bad pixel; an empty mask means all usable), and the pixel is finite.
// Patches are taken on a grid with the given step (1 = every position; 7 =
// non-overlapping). Each patch is mean-subtracted by the global background
// mean of the usable patches (the image should be background subtracted; the
// mean is removed as in sec. 2.1.4). Sigma = (1/(m-1)) sum p p^T. Index
// i = 7 * dy + dx, pixel (dy, dx) of the patch. Throws when fewer than 50
// patches are usable.
struct PatchCovariance {
  Eigen::MatrixXd sigma;  // 49 x 49
  long patches = 0;       // m
  double mean = 0;        // background mean removed
};
PatchCovariance background_covariance(ds::ImageView<const float> image, ds::ImageView<const unsigned char> mask,
                                      long step = 1);

// The symmetric matrix square root S of a 49 x 49 covariance (S S = Sigma,
// negative eigenvalues clipped to 0) and its central row (index 24) as a 7 x 7 kernel.
NoiseKernel kernel_from_covariance(const Eigen::MatrixXd& sigma);

// background_covariance then kernel_from_covariance.
NoiseKernel estimate_noise_kernel(ds::ImageView<const float> image, ds::ImageView<const unsigned char> mask,
                                  long step = 1);

}  // namespace ds::img
