// A profile from a pixel array (a real-galaxy stamp, a PSF image): GalSim's
// InterpolatedImage with the quintic interpolant (Lanczos-3/5 optional), zero
// padding (pad factor 4), Fourier values from the FFT of the padded image,
// k-interpolated with the quintic kernel and multiplied by the x-interpolant's
// transform; stepk and maxk found from the data as GalSim does
// (RECONVOLUTION.md sec. 3). The profile origin is the image's true centre
// ((nx-1)/2, (ny-1)/2).
#pragma once
#include <memory>
#include <vector>

#include "deepshear/engine/image.hpp"
#include "deepshear/imaging/profile.hpp"

namespace ds::img {

enum class InterpolantKind { Quintic, Lanczos3, Lanczos5 };

// A 1-D interpolation kernel in pixel units.
class Interpolant {
 public:
  explicit Interpolant(InterpolantKind k);
  InterpolantKind kind() const { return kind_; }
  // Kernel value at x [pixels].
  double xval(double x) const;
  // Its Fourier transform at u [cycles per pixel]: integral xval(x) exp(-2 pi i u x) dx.
  double uval(double u) const;
  double xrange() const { return xrange_; }  // xval = 0 for |x| >= xrange
  double urange() const { return urange_; }  // |uval| < kvalue_accuracy beyond

 private:
  InterpolantKind kind_;
  double xrange_, urange_;
  std::vector<double> utab_;  // tabulated uval for Lanczos (du = 1/256)
};

struct InterpolatedOptions {
  double pad_factor = 4;
  InterpolantKind x_interpolant = InterpolantKind::Quintic;
  double flux = 0;            // > 0: normalise to this flux; 0: the pixel sum
  double stepk_cap = 0;       // > 0: stepk will not go above this (GalSim calculate_stepk=value)
  double maxk_cap = 0;        // > 0: maxk will not go above this
};

class InterpolatedImage final : public Profile {
 public:
  // image: pixel values (flux per pixel); scale: arcsec per pixel.
  InterpolatedImage(ImageView<const double> image, double scale, const InterpolatedOptions& opt = {});

  double flux() const override { return flux_; }
  cdouble kvalue(double kx, double ky) const override;
  void klattice(const KLattice& lat, cdouble* out) const override;
  double maxk() const override { return maxk_; }
  double stepk() const override { return stepk_; }
  bool has_xvalue() const override { return true; }
  double xvalue(double x, double y) const override;
  std::string describe() const override;

  long padded_size() const { return np_; }
  double scale() const { return scale_; }

 private:
  friend class ReconvolvedImage;
  // The k-interpolated DFT at grid position (px, py) [grid units], no phase or uval.
  cdouble grid_value(double px, double py) const;
  Interpolant xi_, ki_;
  long nx_, ny_, np_, nph_;
  double scale_, flux_, maxk_, stepk_;
  double delta_x_, delta_y_;       // arcsec: true centre offset (0 or half a pixel)
  std::vector<double> pix_;        // the image, scaled to flux_
  std::vector<cdouble> half_;      // np x (np/2+1) DFT of the padded image, origin at the integer centre
};

// GalSim's Convolve(gal, Deconvolve(psf)) for two images of the same pixel scale and
// interpolant, with the PSF factor 1/P(k) (capped at 1/(kvalue_accuracy flux_P), cut
// beyond P's maxk) folded once into the galaxy's Fourier grid: each k value then costs
// one k-interpolation instead of two. flux, maxk and stepk as the Convolution's.
ProfilePtr reconvolution_profile(std::shared_ptr<const InterpolatedImage> gal,
                                 std::shared_ptr<const InterpolatedImage> psf);

std::shared_ptr<const InterpolatedImage> interpolated_image(ImageView<const double> image, double scale,
                                                             const InterpolatedOptions& opt = {});

}  // namespace ds::img
