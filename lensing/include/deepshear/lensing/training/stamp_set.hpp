// Sets of simulated stamps with their truth: the training, calibration and
// test sets of the method (paper sec. 3-5), rendered in memory, in parallel,
// reproducibly (every draw keyed by seed, purpose and stamp index).
//
// A stamp: source galaxy (parametric population or real-galaxy catalogue) ->
// size jitter -> rotation -> mirror -> shear (g1, g2) and magnification ->
// centroid shift -> target PSF + pixel -> 64x64 -> central 32x32 -> (real
// galaxies: cut-off and flux factor) -> correlated noise -> constant
// background. Augmentations (i)-(iv) of the paper are switchable; test sets
// use (iv) only (random rotation and mirror).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "deepshear/engine/config.hpp"
#include "deepshear/engine/fits.hpp"
#include "deepshear/engine/progress.hpp"
#include "deepshear/engine/tensor.hpp"
#include "deepshear/imaging/galaxy.hpp"
#include "deepshear/imaging/noise.hpp"

namespace ds::lens {

// Which disjoint part of the sources a set draws from.
enum class Split { Train, Calibration, Test };
const char* split_name(Split s);

struct StampSetConfig {
  std::string source = "parametric";  // "parametric" or a RealGalaxyCatalog FITS path
  std::uint64_t seed = 1;
  Split split = Split::Test;
  double test_fraction = 0.25, calibration_fraction = 0.15;  // of catalogue rows
  long n = 1000;
  long first = 0;  // index of the first stamp (a set made in chunks equals one made whole)
  // Shear: uniform in [-shear_range, shear_range] per component, or (when
  // shear_sigma > 0) Gaussian of that sigma truncated to the range.
  double shear_range = 0.2, shear_sigma = 0;
  // Augmentations.
  bool rotate_mirror = true;       // (iv)
  double size_jitter = 0;          // (ii) uniform scale in [1 - j, 1 + j]
  double shift_range = 0;          // (iii) centroid shift uniform in +-range px (after shear)
  double mu_range = 0;             // magnification uniform in 1 +- range/2
  bool magnitude_segments = false; // (i) equal numbers from the COSMOS segments (catalogue)
  // Population matching (sec. 3.2, catalogue source): resample rows so that
  // (magnitude, log10 r_half) follows this target table ("" = off).
  std::string match_population;
  int match_bins = 20;
  // Evaluation perturbations.
  double centroid_fraction = 0;    // extra centroid shift, uniform in a disk of radius f * r_half
  double background = 0;           // constant added to every stamp
  // Noise: kernel file (7x7 text or FITS) scaled by noise_scale; 0 = noiseless.
  std::string noise_kernel;        // "" = the default kernel shipped in data/
  double noise_scale = 1;
  img::StampSetup setup;
  img::RealGalaxyTreatment treatment;
  img::ParametricPopulation population;
};

// Declares the stamp-set parameters (prefix e.g. "test.") in cfg with the
// defaults above, and reads them back.
void add_stamp_set_params(Config& cfg, const std::string& prefix, const StampSetConfig& defaults = {});
StampSetConfig stamp_set_from_config(const Config& cfg, const std::string& prefix);

struct StampTruth {
  double g1 = 0, g2 = 0, mu = 1;
  double magnitude = 0, rhalf = 0;  // source magnitude and half-light radius ["]
  // Ideal S/N: flux / (sigma_noise sqrt(4 pi s^2)), the matched-filter S/N of
  // a Gaussian with the galaxy's flux and s^2 = (r_half / 1.1774)^2 + sigma_psf^2
  // (px); infinite without noise, NaN when r_half is unknown.
  double snr = 0;
  long source = 0;                  // population item or catalogue row
  double dilation = 1;              // size jitter of augmentation (ii) (the treatment's rescale not included)
  double rotation = 0;              // radians
  bool mirror = false;
  double dx = 0, dy = 0;            // centroid shift (px)
};

struct StampSet {
  Tensor stamps;  // (n, 32, 32)
  std::vector<StampTruth> truth;
};

// The default noise kernel's path (data/noise_kernel_default.txt of the
// source tree or of the installed share folder).
std::string default_noise_kernel_path();

// Renders stamps of one set configuration: the noise kernel and any catalogue
// are loaded once, then any range of the set's stamps can be rendered (stamp i
// is the same whichever range it is rendered in, on any number of threads).
class StampRenderer {
 public:
  explicit StampRenderer(const StampSetConfig& cfg);
  ~StampRenderer();
  // Stamps [first, first + n) of the set; `progress` is ticked once per stamp.
  StampSet render(long first, long n, Progress* progress = nullptr) const;
  const StampSetConfig& config() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The network's view of stamps [first, first + n) of a set: x[n][ny * nx]
// normalised inputs (nn::normalise_stamp), y[n][2] the true (g1, g2).
void network_inputs(const StampSet& set, long first, long n, float* x, float* y);

// Renders stamps [cfg.first, cfg.first + cfg.n) of a set.
StampSet make_stamp_set(const StampSetConfig& cfg, Progress* progress = nullptr);

// The same split over the ranks of an MPI job (engine/ranks.hpp): each rank
// renders its contiguous share, and rank 0 gets the whole set, equal to
// make_stamp_set's; the other ranks get an empty set (to_all: every rank
// gets the whole set). Collective.
StampSet render_across_ranks(const StampSetConfig& cfg, Progress* progress = nullptr, bool to_all = false);

// The truth of a set as table columns, one row per stamp: G1, G2, MU, MAG,
// R_HALF ["], SNR, SOURCE_INDEX, ROTATION [rad], MIRROR (0/1), DILATION,
// OFFSET_X, OFFSET_Y [px] and SEED (the set's).
std::vector<fits::TableColumn> truth_table(const StampSet& set, const StampSetConfig& cfg);

// Writes a set to a FITS file: the (n, ny, nx) float32 cube in the primary HDU
// (keys SOURCE, SPLIT, PIXSCALE, PSFFWHM, SEED, NOISE, NOISESCL) and the binary
// table TRUTH, one row per stamp: g1, g2, mu, magnitude, r_half ["], snr,
// source_index, rotation [rad], mirror (0/1), dilation (size jitter),
// offset_x, offset_y (centroid shift [px]) and seed (the set's).
void write_stamp_set_fits(const std::string& path, const StampSet& set, const StampSetConfig& cfg);

}  // namespace ds::lens
