// Galaxy sources for the renderer: real galaxies (reconvolution of HST stamps,
// GalSim's RealGalaxy), the parametric model (Sersic bulge + inclined
// exponential disk + star-forming knots) and its population, and the
// training-stamp pipeline of the method (source -> dilate -> rotate -> mirror
// -> lens -> shift -> target PSF + pixel -> 64x64 -> central 32x32 -> real-galaxy
// cut-off and flux factor -> correlated noise).
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "deepshear/engine/image.hpp"
#include "deepshear/engine/random.hpp"
#include "deepshear/imaging/interpolated.hpp"
#include "deepshear/imaging/noise.hpp"
#include "deepshear/imaging/profile.hpp"
#include "deepshear/imaging/real_galaxy_catalog.hpp"

namespace ds::img {

// ---------------------------------------------------------------- real galaxies
// Convolve(InterpolatedImage(gal), Deconvolve(InterpolatedImage(psf, flux 1))), with
// the galaxy's stepk/maxk capped by the PSF's, times flux_rescale.
// gal, psf: flux per pixel at `scale` arcsec/px. fold_psf: the PSF factor is
// folded into the galaxy's Fourier grid once (reconvolution_profile, ~2x faster);
// false: GalSim's exact composition (two k-interpolations per value).
ProfilePtr real_galaxy(ImageView<const double> gal, ImageView<const double> psf, double scale,
                       double flux_rescale = 1, InterpolantKind x_interp = InterpolantKind::Quintic,
                       bool fold_psf = true);

// The real-galaxy source: profiles of a catalogue's rows, built on first use and
// cached (thread-safe; the catalogue stays shared and read-only).
class RealGalaxySource {
 public:
  explicit RealGalaxySource(std::shared_ptr<const RealGalaxyCatalog> cat);
  std::size_t size() const { return cat_->size(); }
  const RealGalaxyCatalog& catalog() const { return *cat_; }
  // The reconvolution profile of row i (flux as stored, no rescaling).
  ProfilePtr profile(std::size_t i) const;

 private:
  std::shared_ptr<const RealGalaxyCatalog> cat_;
  mutable std::vector<ProfilePtr> cache_;
  mutable std::unique_ptr<std::mutex[]> locks_;  // striped locks over rows
};

// The method's treatment of real galaxies (paper sec. 3; wlenet-data configs).
struct RealGalaxyTreatment {
  double size_rescale = 0.5416666666666667;  // alpha: dilation of the source
  double flux_rescale = 0.5416666666666667 * 0.5416666666666667;  // alpha^2 (paper sec. 3)
  double cutoff = 0.012;                    // post-render: pixels below are set to 0
  double flux_factor = 0.32;                // then multiplied by this (= dM 1.236 mag)

  // The source rescaled: dilated by size_rescale, flux times flux_rescale.
  ProfilePtr rescaled(const ProfilePtr& source) const;
  // A rendered pixel after the cut-off and the flux factor.
  float cut(float v) const { return v < cutoff ? 0.0f : float(v * flux_factor); }
};

// ---------------------------------------------------------------- parametric galaxies
// One parametric galaxy. Sizes in arcsec, angles in radians (anticlockwise from +x).
struct ParametricGalaxy {
  double flux = 1;            // total
  double bulge_fraction = 0.3;
  double knot_fraction = 0.1;  // of the disk light
  // Bulge: Sersic n, half-light radius, axis ratio, position angle, centroid offset.
  double bulge_n = 4, bulge_hlr = 0.1, bulge_q = 0.8, bulge_angle = 0, bulge_dx = 0, bulge_dy = 0;
  // Disk: exponential, half-light radius, inclination (0 = face-on), intrinsic thickness, angle, offset.
  double disk_hlr = 0.3, disk_inclination = 0.5, disk_q0 = 0.15, disk_angle = 0, disk_dx = 0, disk_dy = 0;
  // Knots: Gaussians of width knot_sigma at positions in the disk plane (face-on
  // frame, arcsec), relative fluxes knot_weight (normalised to sum 1).
  double knot_sigma = 0.02;
  std::vector<double> knot_x, knot_y, knot_weight;

  // Axis ratio of the projected disk: sqrt(cos^2 i + q0^2 sin^2 i).
  double disk_q() const;
  ProfilePtr profile() const;
};

// The population the parametric source draws from (numbers and provenance in
// data/parametric_population.md).
struct ParametricPopulation {
  double zero_point = 25.419;       // CLASH total images
  double mag_min = 20, mag_max = 27;
  double count_slope = 0.3;         // dN/dm ~ 10^(slope m)
  double rhalf_at_22 = 0.30;        // median r_half ["] at m = 22
  double rhalf_mag_slope = -0.10;   // d log10 r_half / dm
  double rhalf_scatter_dex = 0.15;
  double rhalf_min = 0.05, rhalf_max = 1.0;
  double knot_fraction_max = 0.4;
  int knots_min = 5, knots_max = 20;
  double disk_q0 = 0.15;

  // Draws galaxy `item` of the population (RandomStream(seed, "parametric", item)).
  ParametricGalaxy draw(std::uint64_t seed, std::uint64_t item, double* magnitude = nullptr,
                        double* rhalf = nullptr) const;
};

// A parametric twin of a real galaxy from its `_fits` row (bulge+disk when
// use_bulgefit, else the single Sersic fit), flux from `flux_scale` x the model
// flux, sizes from the fit in arcsec (pixel scale of the catalogue).
ParametricGalaxy parametric_from_fits(const RealGalaxyRow& row, double flux_scale = 1);

// ---------------------------------------------------------------- the stamp pipeline
struct StampSetup {
  double pixel_scale = 0.065;   // arcsec / px
  double psf_fwhm = 0.12;       // Gaussian target PSF
  double psf_beta = 0;          // > 0: Moffat PSF with this beta instead
  double psf_g1 = 0, psf_g2 = 0;
  long full_size = 64;          // rendered
  long stamp_size = 32;         // kept (central)
  ProfilePtr psf() const;
};

// Renders one stamp: galaxy -> chain (shift in the chain is in arcsec) -> PSF
// + pixel, drawn full_size^2 with sub-pixel offset (px), central stamp_size^2
// written to out. `real` applies the treatment's cut-off and flux factor.
// Noise (kernel k, stream r) is added when r is not null.
void render_stamp(const ProfilePtr& galaxy, const TransformChain& chain, const StampSetup& setup,
                  double offset_x, double offset_y, ImageView<float> out, const RealGalaxyTreatment* real = nullptr,
                  const NoiseKernel* noise = nullptr, RandomStream* r = nullptr);

}  // namespace ds::img
