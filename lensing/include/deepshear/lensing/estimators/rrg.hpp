// The RRG shear estimator (Rhodes, Refregier & Groth 2000), as specified in
// ../shared/ref/RRG.md: iterated weighted centroid; Gaussian-weighted second
// and fourth moments; PSF moments from an analytic Gaussian or a PSF image;
// anisotropic (first order) and isotropic (Gaussian) PSF corrections;
// fourth-moment deconvolution; the shear susceptibility G from the
// population; gamma = e / (0.86 G); flags and cuts.
//
// Units: pixels throughout; stamps are (ny, nx) row-major with pixel centres at
// integer 0-based coordinates.
#pragma once
#include <cstdint>
#include <vector>

#include "deepshear/engine/image.hpp"
#include "deepshear/engine/tensor.hpp"
#include "deepshear/imaging/moments.hpp"
#include "deepshear/lensing/estimators/estimate.hpp"

namespace ds::lens {

// Unweighted (or approximately unweighted) PSF moments about the PSF centre:
// second xx, yy, xy (px^2) and fourth xxxx, xxxy, xxyy, xyyy, yyyy (px^4).
struct PsfMoments {
  double xx = 0, yy = 0, xy = 0;
  double xxxx = 0, xxxy = 0, xxyy = 0, xyyy = 0, yyyy = 0;
};

// The moments of a centred round Gaussian PSF of standard deviation sigma (px).
PsfMoments gaussian_psf_moments(double sigma);
// Approximately unweighted PSF moments from a PSF image: weighted moments with
// width `weight` about its centroid, corrected to first order in 1/weight^2
// (RRG.md section 4). Throws ds::Error when the image has no positive flux.
PsfMoments psf_moments_from_image(ImageView<const double> psf, double weight);

struct RrgOptions {
  enum class Width { HalfLightRadius, ObjectSize, Fixed };
  // Weight width: the stamp's half-light radius about its centre (as the
  // original method's code did); the object's size as pyRRG does,
  // size_mult * sqrt(A B) with A, B the semi-axes of its second moments
  // (= size_mult * adaptive-moment sigma; the half-light radius when those
  // fail); or a fixed width in pixels.
  Width width = Width::HalfLightRadius;
  double size_mult = 2.0;      // pyRRG's command-line default, for Width::ObjectSize
  double fixed_width = 3.0;    // px, for Width::Fixed
  double min_width = 1.0;      // floor on the width (px)
  double cutoff = 10.0;        // aperture radius in widths
  bool iterate_centroid = true;
  double max_shift = 0.25;     // flag a centroid further than this fraction of the stamp size from its centre
  bool absolute_intensity = true;  // |I - b| as pyRRG; false: raw I
  double max_e2 = 2.0;         // cut on the corrected |e|^2
  double rhodes_factor = 0.86; // gamma = e / (rhodes_factor * G)
  bool median = true;          // population statistic for G (else mean)
  double fixed_G = 0;          // > 0: use this G instead of the population's
};

// Everything RRG measures on one stamp.
struct RrgMeasurement {
  double x = 0, y = 0;          // centroid (px)
  double omega = 0;             // weight width used (px)
  img::WeightedMoments raw;     // weighted galaxy moments about the centroid
  double ixx = 0, iyy = 0, ixy = 0;  // PSF-corrected second moments
  double e1 = 0, e2 = 0;        // corrected distortion
  double d2 = 0;                // (Ixx + Iyy) / 2 corrected
  double lambda = 0, mu1 = 0, mu2 = 0;  // shear-susceptibility terms
  std::uint32_t flags = 0;
};

// Measures one stamp. `psf` holds unweighted PSF moments.
RrgMeasurement rrg_measure(ImageView<const float> stamp, const PsfMoments& psf, const RrgOptions& opt);
// G1 = 2 - <e^2> - <lambda>/2 - <e.mu>/2 over unflagged measurements
// (median or mean). Returns 2 when none is usable.
double rrg_susceptibility(const std::vector<RrgMeasurement>& m, bool median);
// Shears of a batch of stamps (n, ny, nx), multi-threaded; G from the batch
// unless opt.fixed_G > 0. *G_used receives the G applied.
std::vector<ShearEstimate> rrg_estimate(const Tensor& stamps, const PsfMoments& psf, const RrgOptions& opt,
                                        double* G_used = nullptr, std::vector<RrgMeasurement>* details = nullptr);

}  // namespace ds::lens
