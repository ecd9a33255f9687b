// Measurements on stamps: flux, centroids, half-light radius, unweighted
// second moments, moments under a given elliptical Gaussian weight (second and
// fourth order, reused by the RRG/KSB estimators), and adaptive moments (the
// elliptical Gaussian weight iterated to match the image, as HSM's
// FindAdaptiveMom does: Hirata & Seljak 2003, Mandelbaum et al. 2005).
//
// Coordinates: pixels, 0-based, pixel centres at integers, x = column,
// y = row. Moments in pixels^2. Ellipticities are distortions:
// e1 = (Mxx - Myy) / (Mxx + Myy), e2 = 2 Mxy / (Mxx + Myy).
// Every function has a float and a double image overload.
#pragma once
#include <limits>
#include <string>

#include "deepshear/engine/image.hpp"

namespace ds::img {

// Sum of all pixels.
double flux(ds::ImageView<const float> image);
double flux(ds::ImageView<const double> image);

// Iterated Gaussian-weighted centroid: x_{k+1} = sum W I x / sum W I with a
// round Gaussian weight of width sigma (px) centred on x_k, from (x0, y0)
// (NaN: the stamp centre ((nx-1)/2, (ny-1)/2)) until the step is below tol px.
struct Centroid {
  double x = 0, y = 0;
  int iterations = 0;
  bool converged = false;
};
Centroid weighted_centroid(ds::ImageView<const float> image, double sigma,
                           double x0 = std::numeric_limits<double>::quiet_NaN(),
                           double y0 = std::numeric_limits<double>::quiet_NaN(), int max_iter = 100,
                           double tol = 1e-4);
Centroid weighted_centroid(ds::ImageView<const double> image, double sigma,
                           double x0 = std::numeric_limits<double>::quiet_NaN(),
                           double y0 = std::numeric_limits<double>::quiet_NaN(), int max_iter = 100,
                           double tol = 1e-4);

// Half-light radius (px) about (x0, y0) from the curve of growth: each pixel
// is split into subsample x subsample sub-pixels carrying equal shares of its
// flux; sub-pixels are sorted by distance and the radius where the cumulative
// flux reaches total/2 is interpolated linearly. total NaN: the stamp's sum.
// Returns NaN when the total is not positive.
double half_light_radius(ds::ImageView<const float> image, double x0, double y0,
                         double total = std::numeric_limits<double>::quiet_NaN(), int subsample = 4);
double half_light_radius(ds::ImageView<const double> image, double x0, double y0,
                         double total = std::numeric_limits<double>::quiet_NaN(), int subsample = 4);

// Unweighted moments of the whole stamp: flux, first moments (centroid) and
// central second moments (px^2).
struct UnweightedMoments {
  double flux = 0;
  double x = 0, y = 0;
  double mxx = 0, mxy = 0, myy = 0;
  double e1() const { return (mxx - myy) / (mxx + myy); }
  double e2() const { return 2 * mxy / (mxx + myy); }
};
UnweightedMoments unweighted_moments(ds::ImageView<const float> image);
UnweightedMoments unweighted_moments(ds::ImageView<const double> image);

// An elliptical Gaussian weight W(r) = exp(-rho^2 / 2), rho^2 = d^T M^-1 d,
// d = (x - x0, y - y0), M = [[mxx, mxy], [mxy, myy]] (px^2, positive definite).
struct GaussianWeight {
  double x0 = 0, y0 = 0;
  double mxx = 1, mxy = 0, myy = 1;
  // Round weight of width sigma.
  static GaussianWeight round(double x0, double y0, double sigma);
  // Weight of size sigma = det(M)^(1/4) and distortion (e1, e2), |e| < 1.
  static GaussianWeight elliptical(double x0, double y0, double sigma, double e1, double e2);
};

// Moments of I * W about the weight centre (x0, y0), normalised by
// S = sum W I (or sum W |I| with abs_intensity): m_x = sum W I dx / S, ...,
// m_xxyy = sum W I dx^2 dy^2 / S. Pixels with rho^2 > max_rho2 are skipped.
struct WeightedMoments {
  double sum_w = 0;   // sum W
  double sum_wi = 0;  // S
  double x = 0, y = 0;                       // first moments (offsets from x0, y0)
  double xx = 0, xy = 0, yy = 0;             // second
  double xxxx = 0, xxxy = 0, xxyy = 0, xyyy = 0, yyyy = 0;  // fourth
  double rho4 = 0;                           // sum W I rho^4 / S
  long pixels = 0;                           // pixels used
};
WeightedMoments gaussian_weighted_moments(ds::ImageView<const float> image, const GaussianWeight& w,
                                          double max_rho2 = std::numeric_limits<double>::infinity(),
                                          bool abs_intensity = false);
WeightedMoments gaussian_weighted_moments(ds::ImageView<const double> image, const GaussianWeight& w,
                                          double max_rho2 = std::numeric_limits<double>::infinity(),
                                          bool abs_intensity = false);

// Adaptive moments: find the elliptical Gaussian weight W (centre x, y;
// covariance M) with M = 2 * (second moments of I W about the centre) and zero
// first moments of I W, the fixed point where W matches a Gaussian image.
enum class MomentStatus {
  Ok = 0,
  NotConverged,    // max_iter reached
  BadMoments,      // moments became non-positive-definite, too small or above max_sigma2
  CentroidShift,   // centroid moved more than max_shift px from the guess
  EmptyImage,      // empty stamp, non-finite pixels, or no positive weighted flux
};
const char* to_string(MomentStatus s);

struct AdaptiveParams {
  double x_guess = std::numeric_limits<double>::quiet_NaN();  // NaN: stamp centre
  double y_guess = std::numeric_limits<double>::quiet_NaN();
  double sigma_guess = 5.0;     // px (HSM's default guess)
  int max_iter = 400;           // HSM max_mom2_iter
  double tolerance = 1e-6;      // HSM convergence_threshold: on centroid steps (px) and |dM| / sigma^2
  double max_rho2 = 25.0;       // HSM max_moment_nsig2: pixels beyond rho^2 = 25 are ignored
  double max_sigma2 = 8000.0;   // HSM max_amoment: largest allowed trace(M)/2 (px^2)
  double max_shift = 15.0;      // HSM max_ashift: largest centroid move from the guess (px)
  double min_sigma2 = 1e-4;     // smallest allowed eigenvalue of M (px^2)
};

struct AdaptiveMoments {
  MomentStatus status = MomentStatus::EmptyImage;
  std::string message;     // "" when Ok; else what failed and the values involved
  double amplitude = 0;    // flux of the best-fit elliptical Gaussian = 2 sum W I
  double x = 0, y = 0;     // centroid (px)
  double mxx = 0, mxy = 0, myy = 0;  // weight covariance M (px^2)
  double sigma = 0;        // det(M)^(1/4) (px)
  double e1 = 0, e2 = 0;   // distortion of M
  double rho4 = 0;         // weighted radial fourth moment (2 for a Gaussian)
  int iterations = 0;
  bool ok() const { return status == MomentStatus::Ok; }
};
AdaptiveMoments adaptive_moments(ds::ImageView<const float> image, const AdaptiveParams& p = {});
AdaptiveMoments adaptive_moments(ds::ImageView<const double> image, const AdaptiveParams& p = {});

}  // namespace ds::img
