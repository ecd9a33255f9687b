// Metacalibration's image operations (Huff & Mandelbaum 2017; Sheldon & Huff
// 2017; ../shared/ref/METACAL.md): from an observed stamp I and its effective
// PSF P (pixel included), the five images
//   noshear, 1p, 1m, 2p, 2m = draw_no_pixel( P' * S(g) [ I / P ] ),  g in {0, +-step e1, +-step e2},
// with P' a round Gaussian wider than P, convolved with the pixel.
//
// The stamp is read as the continuous profile f(x) = sum_p I_p u(x - X_p):
// by default u is the band-limited (sinc) interpolant, exact for a stamp
// sampled at or above Nyquist (a sheared exponential galaxy with a 3 px PSF
// comes out within 2e-5 of the renderer's peak, where GalSim's quintic leaves
// 7e-4); or the quintic as GalSim's InterpolatedImage. Every operation is
// linear in the pixels:
//   out_s(X_q) = sum_p I_p K_s(X_q - S X_p),   K_s~(k) = P'~(k) u~(S^T k) / P~(S^T k).
// Each image is therefore one (n^2 x n^2) matrix A_s per PSF, built once
// column by column from the exact transform of a pixel impulse (no padded-DFT
// k-interpolation: the transform of one impulse is analytic), and applied to
// a batch of stamps as one matrix product. 1/P~ is capped at
// 1/(kvalue_accuracy flux_P) and cut beyond P's maxk, as GalSim's Deconvolve.
//
// Stamp convention as draw.hpp: square n x n, pixel (x, y) centred at
// ((x - (n-1)/2) s, (y - (n-1)/2) s). Shears are reduced shears applied with
// Jacobian::shear. Matrices: 5 x (n^2)^2 floats (20 MB at n = 32, 40 MB with
// fixnoise); n <= 64.
//
//   ds::img::MetacalOperator op(ds::img::convolve({ds::img::gaussian_fwhm(0.12), ds::img::pixel(0.065)}), {});
//   op.apply(stamps, n, images);            // images: (n, 5, 32, 32)
#pragma once
#include <array>
#include <cstdint>
#include <string>

#include <Eigen/Dense>

#include "deepshear/engine/image.hpp"
#include "deepshear/imaging/noise.hpp"
#include "deepshear/imaging/profile.hpp"

namespace ds::img {

// The five images, in storage order.
enum MetacalImage { kNoShear = 0, k1p = 1, k1m = 2, k2p = 3, k2m = 4 };
constexpr int kMetacalImages = 5;
// "noshear", "1p", "1m", "2p", "2m"
const char* metacal_image_name(int image);
// The shear (g1, g2) applied to image i for a given step.
std::array<double, 2> metacal_shear(int image, double step);

struct MetacalOptions {
  long size = 32;          // stamp side n (px)
  double scale = 0.065;    // arcsec / px
  double step = 0.01;      // applied shear
  double target_sigma = 0; // > 0: the target Gaussian's sigma (arcsec, before the pixel and
                           // before the 1 + 2 step dilation); 0: ngmix's 'gauss' rule
  bool fixnoise = true;    // also build the 90-degree-rotated operators for fixnoise
  bool band_limited = true;// sinc interpolation of the stamp (false: the quintic)
};

// ngmix's 'gauss' target: the smallest |k| on the stamp's DFT grid (the
// Nyquist square, k = 2 pi m / (n s)) where Re P~(k) < 0.01 flux_P (the
// square's corner when it never drops that far), then the Gaussian sigma
// whose transform is 3e-3 there: sigma^2 = -2 ln(3e-3) / k^2 (arcsec).
double metacal_gauss_sigma(const Profile& psf, long size, double scale);

class MetacalOperator {
 public:
  // psf: the effective PSF (pixel included), centred at the origin.
  MetacalOperator(ProfilePtr psf, const MetacalOptions& opt);

  const MetacalOptions& options() const { return opt_; }
  long size() const { return opt_.size; }
  // The target PSF's Gaussian sigma after the 1 + 2 step dilation (arcsec), and its FWHM.
  double target_sigma() const { return sigma_t_; }
  double target_fwhm() const { return sigma_t_ * 2.3548200450309493; }
  // P' = Gaussian(target_sigma) convolved with the pixel.
  ProfilePtr target_psf() const;

  // stamps: n stamps (size, size) float, packed; out: (n, 5, size, size).
  void apply(const float* stamps, long n, float* out) const;
  // With fixnoise: noise (n, size, size), a noise field per stamp drawn with
  // the stamp's own noise properties. Image s of stamp b is
  // A_s I_b + rot90^-1(A_s rot90(noise_b)); out as apply. Needs opt.fixnoise.
  void apply_fixnoise(const float* stamps, const float* noise, long n, float* out) const;

  // As apply / apply_fixnoise (noise null: no fixnoise), image s of the
  // stamps going to out[s], (n, size, size) each.
  void apply_split(const float* stamps, const float* noise, long n, const std::array<float*, kMetacalImages>& out) const;

  // A_s: (size^2 x size^2), row q = output pixel (y * size + x), column p = input pixel.
  const Eigen::MatrixXf& matrix(int image) const { return a_[std::size_t(image)]; }
  // rot90^-1 A_s rot90 (built with fixnoise).
  const Eigen::MatrixXf& rotated_matrix(int image) const { return ar_[std::size_t(image)]; }

 private:
  void build(const Profile& psf);
  void product(int img, const float* stamps, const float* noise, long count, float* out, long stride) const;
  MetacalOptions opt_;
  double sigma_t_ = 0;
  std::array<Eigen::MatrixXf, kMetacalImages> a_, ar_;
};

// The fixnoise field of one stamp: correlated noise from kernel k, drawn from
// RandomStream(seed, "metacal_noise", key). out: (size, size).
void metacal_noise_field(ds::ImageView<float> out, const NoiseKernel& k, std::uint64_t seed, std::uint64_t key);

// FNV-1a 64 of a stamp's bytes: a key that ties a stamp's fixnoise field to
// its content, so the field is the same in any batch or rank split.
std::uint64_t stamp_key(const float* stamp, long pixels);

}  // namespace ds::img
