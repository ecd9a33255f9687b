// A synthetic HST-like cluster field (issue #7): background galaxies of the
// training population lensed by an NFW halo, stars, unlensed foreground
// galaxies, correlated noise from the noise kernel; the image, its inverse
// variance, a TAN WCS and the truth. It is the built-in field of the cluster
// pipeline and of its end-to-end test.
//
// Each source is rendered exactly as a training stamp (lensing/training/
// stamp_set.cpp): ParametricPopulation::draw -> random rotation and mirror ->
// lens (g1, g2, mu) -> target PSF + pixel (img::render_stamp), in CLASH units
// (zero point 25.419), on its own stamp with the sub-pixel offset of its true
// position, then added into the field. Stamp side: 24 r_eff + 16 px rounded up
// to an FFT size, within [64, 512], r_eff = r_half sqrt(mu) / (1 - |g|) in px,
// so light folded back by the FFT stays far below the noise (< 0.01 sigma at
// the stamp edges of the brightest galaxies). Background sources get the NFW reduced shear
// (g1, g2) = -g_t (cos 2 phi, sin 2 phi), phi = atan2(y - yc, x - xc) in the
// image x/y frame (tangential: stretched perpendicular to the radius; DESIGN.md
// shear convention), and the magnification mu at their position. Positions are
// image-plane positions, uniform in the field (no deflection, no magnification
// bias). Background sources are kept out of the strong-lensing core: they are
// only placed where 1 - kappa > 0, mu > 0 and g_t < max_shear.
//
// The image is sky-subtracted (background 0): noise = K * w, w iid N(0, 1)
// pixels of the whole field, K the noise kernel times noise_scale.
//
// Randomness: every draw is keyed by (seed, purpose, source index):
// "mock.position" (placement, sequential with rejection), "mock.orient"
// (rotation, mirror), "mock.star" (star magnitude), the populations'
// "parametric" streams under seed ^ purpose_hash("mock.background" /
// "mock.foreground"), and "mock.noise" (item 0) for the field's noise; so the
// field does not depend on the thread count.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "deepshear/engine/image.hpp"
#include "deepshear/engine/progress.hpp"
#include "deepshear/imaging/galaxy.hpp"
#include "deepshear/imaging/wcs.hpp"
#include "deepshear/lensing/cluster/nfw.hpp"

namespace ds::lens {

// Every length in arcsec unless named otherwise.
struct MockClusterConfig {
  double size = 180;             // field side (square field: 3' x 3')
  double pixel_scale = 0.065;    // arcsec / px
  double density = 35;           // lensed background galaxies per arcmin^2 of the whole field
  double m200 = 1e15;            // Msun
  double concentration = 4;      // <= 0: Duffy et al. (2008)
  double z_lens = 0.35, z_source = 1.0;  // all sources at z_source
  Cosmology cosmo{70, 0.27};     // the paper's flat LambdaCDM
  double centre_dx = 0, centre_dy = 0;   // cluster centre relative to the field centre (image x, y)
  long stars = 15;
  double star_mag_min = 18, star_mag_max = 23;  // uniform in magnitude
  long foreground = 8;           // unlensed foreground galaxies (foreground_population)
  double psf_fwhm = 0.12;        // Gaussian target PSF
  std::string noise_kernel;      // 7x7 kernel file ("" = the shipped default)
  double noise_scale = 1;        // 0 = noiseless field
  std::uint64_t seed = 1;
  double min_separation = 2.0;   // between any two sources
  double margin = 1.5;           // of source centres from the field edges
  double max_shear = 0.5;        // background galaxies only where g_t < max_shear (and 1 - kappa, mu > 0)
  double mask_corner = 0;        // > 0: a square of this side at the (x max, y max) corner gets weight 0
                                 // and image 0 (no exposure), to exercise masking; 0 = off
  double ra = 150.0, dec = 2.2;  // field centre [deg]
  img::ParametricPopulation background_population;  // the training population (m 20-27)
  img::ParametricPopulation foreground_population = bright_population();

  // The foreground population: m in [18, 21], 1.5x the sizes (r_half up to 2").
  static img::ParametricPopulation bright_population();
};

enum class MockKind : int { Background = 0, Star = 1, Foreground = 2 };

// One row of the truth table.
struct MockSource {
  long id = 0;
  double x = 0, y = 0;         // true centre, 0-based px (DESIGN.md)
  double ra = 0, dec = 0;      // deg
  MockKind kind = MockKind::Background;
  double mag = 0;              // observed total magnitude (after magnification)
  double r_half = 0;           // intrinsic half-light radius (0 for stars)
  double g1 = 0, g2 = 0;       // reduced shear applied (0 for stars and foreground)
  double kappa = 0, mu = 1;    // convergence and magnification applied (0 and 1 unless lensed)
  double theta = 0;            // distance from the cluster centre
  long stamp = 0;              // side of the stamp it was rendered on, px
};

struct MockCluster {
  MockClusterConfig config;
  ImageF image;                // ny x nx, flux per pixel (zero point 25.419), sky-subtracted
  ImageF weight;               // ny x nx, inverse variance 1 / noise_rms^2 (1e12 when noiseless; 0 masked)
  img::TanWcs wcs;             // CRPIX at the field centre, CD = diag(-scale, +scale) / 3600: north up, east left
  std::vector<MockSource> truth;
  double xcen = 0, ycen = 0;   // cluster centre, 0-based px
  double ra_cen = 0, dec_cen = 0;
  double concentration = 0;    // the one used (Duffy's when config.concentration <= 0)
  double theta_min = 0;        // the strong-lensing core kept free of background galaxies
  double noise_rms = 0;        // RMS of the scaled kernel's noise (0 noiseless)
  long count(MockKind k) const;
};

// Checks a configuration; throws a usage ds::Error naming the option (--size, --density, ...).
void check_mock_cluster_config(const MockClusterConfig& c);

// Number of sources the field will hold (background + stars + foreground): progress totals.
long mock_cluster_sources(const MockClusterConfig& c);

// Makes the field; `progress` (may be null) is ticked once per rendered source.
// Field side n = round(size / pixel_scale) px. About 1 s (plus ~1 s writing) for the default
// 3' x 3' field (338 sources) on 2 cores.
MockCluster make_mock_cluster(const MockClusterConfig& c, Progress* progress = nullptr);

// Writes dir/mock_sci.fits (float32 image + TAN WCS, MAGZERO, PIXSCALE, PSF_FWHM,
// NOISERMS), dir/mock_wht.fits (float32 inverse variance, same WCS),
// dir/mock_truth.fits (table TRUTH: ID, X, Y, RA, DEC, KIND, MAG, R_HALF, G1, G2,
// KAPPA, MU, THETA, STAMP; keys M200, CONC, Z_LENS, Z_SRC, XCEN, YCEN, RA_CEN, DEC_CEN,
// OMEGA_M, H0, SEED, THETAMIN) and dir/mock_cluster.json (counts, configuration, files), each atomically.
void write_mock_cluster(const MockCluster& m, const std::string& dir);

}  // namespace ds::lens
