// The KSB shear estimator (Kaiser, Squires & Broadhurst 1995) with the smear
// and shear polarisabilities of Luppino & Kaiser (1997), in the form GalSim's
// HSM module uses: circular adaptive Gaussian weights found by iterating the
// Gauss-Hermite (shapelet) moments of order <= 2; galaxy and PSF moments to
// order 4 measured with the galaxy's weight; the PSF's smear polarisability
// corrects the anisotropy, the pre-seeing shear polarisability P_gamma
// converts the corrected ellipticity to a shear. KSB returns a reduced-shear
// estimate g directly.
//
// Units: pixels; images row-major [y][x], pixel centres at integer 0-based
// coordinates.
#pragma once
#include <cstdint>
#include <limits>
#include <vector>

#include "deepshear/engine/image.hpp"
#include "deepshear/engine/tensor.hpp"
#include "deepshear/lensing/estimators/estimate.hpp"

namespace ds::lens {

// The circular adaptive weight of an image: centre (px) and width sigma (px).
struct CircularWeight {
  double x = 0, y = 0, sigma = 0;
  int iterations = 0;
  bool converged = false;
};

// Iterates (x, y, sigma) from a guess until the weighted first moments and the
// second-order radial Hermite moment vanish (the Gaussian that best matches
// the image): steps bounded to 0.25 sigma, tolerance `tol` (fraction of sigma),
// at most 400 iterations.
CircularWeight circular_adaptive_weight(ImageView<const double> img, double x, double y, double sigma,
                                        double tol = 1e-6);

// Gauss-Hermite moments M[m][n] = sum I psi_m(x - x0) psi_n(y - y0) for
// m + n <= 4, with 1-D Hermite functions of width sigma:
// psi_0(u) = pi^-1/4 sigma^-1/2 exp(-u^2 / (2 sigma^2)), psi_1 = sqrt(2) (u/sigma) psi_0,
// psi_{n+1} = sqrt(2/(n+1)) (u/sigma) psi_n - sqrt(n/(n+1)) psi_{n-1}.
using HermiteMoments = double[5][5];
void hermite_moments(ImageView<const double> img, double x0, double y0, double sigma, HermiteMoments& out);

struct KsbResult {
  double g1 = 0, g2 = 0;          // PSF-corrected reduced shear
  double resolution = 0;          // 1 - sigma_psf^2 / sigma_gal^2
  CircularWeight galaxy, psf;     // adaptive weights
  std::uint32_t flags = 0;
};

// KSB on one galaxy image with its PSF image. Guesses: NaN centre = the
// image's centre; sigma guesses in px (GalSim's defaults 5 and 3).
KsbResult ksb_measure(ImageView<const double> galaxy, ImageView<const double> psf,
                      double x_guess = std::numeric_limits<double>::quiet_NaN(),
                      double y_guess = std::numeric_limits<double>::quiet_NaN(), double sigma_gal_guess = 5.0,
                      double sigma_psf_guess = 3.0);

// Shears of a batch of stamps (n, ny, nx) sharing one PSF image, multi-threaded;
// |g| >= 1 is flagged kFlagBigEllipticity.
std::vector<ShearEstimate> ksb_estimate(const Tensor& stamps, ImageView<const double> psf);

}  // namespace ds::lens
