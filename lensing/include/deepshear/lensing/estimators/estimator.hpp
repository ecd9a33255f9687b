// One interface for every shear estimator, and a registry of them by name.
//
// An estimator takes a batch of stamps (n, ny, nx) in pixels, row-major, and
// returns per stamp a reduced-shear estimate (g1, g2) in the stamp's pixel
// frame with flags, plus any extra per-stamp columns it measures (a response,
// a weight, a size). What it needs to be set up (the PSF and pixel scale, a
// noise kernel, a model file) is in EstimatorSetup; needs() says which parts
// it reads, so a caller can check its inputs before any work.
//
// Adding an estimator: one file that defines a ShearEstimator and a factory,
// and one line in builtin_estimators() (estimator_registry.cpp).
#pragma once
#include <array>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "deepshear/engine/image.hpp"
#include "deepshear/engine/tensor.hpp"
#include "deepshear/lensing/estimators/estimate.hpp"

namespace ds {
class Progress;
}
namespace ds::nn {
struct Model;
}

namespace ds::lens {

// What an estimator may be set up with. Units: arcsec and arcsec / px.
struct EstimatorSetup {
  double psf_fwhm = 0.12;        // round Gaussian PSF FWHM (arcsec), with the pixel
  double pixel_scale = 0.065;    // arcsec / px
  std::string model_path;        // model file, for estimators that read one
  std::shared_ptr<const nn::Model> model;  // or an already loaded model (wins over model_path)
  bool symmetrise = true;        // CNN: 8-fold symmetrised estimate (eq. 14)
  bool model_calibration = true; // CNN: the (c, m) stored in the model
  ImageD noise_kernel;           // 7 x 7 correlated-noise kernel, when known
};

// Which parts of EstimatorSetup an estimator reads.
struct EstimatorNeeds {
  bool psf = false;
  bool model = false;
  bool noise_kernel = false;
};

// One batch's results: estimates[i] for stamp i, and extra columns by name
// (each of n values), in the order the estimator lists them.
struct EstimateBatch {
  std::vector<ShearEstimate> estimates;
  std::vector<std::pair<std::string, std::vector<double>>> extra;
};

class ShearEstimator {
 public:
  virtual ~ShearEstimator() = default;
  virtual std::string name() const = 0;
  // Stamps (n, ny, nx). Successive calls continue one population (RRG keeps
  // the susceptibility G of its first batch) until set_psf() starts another.
  virtual EstimateBatch estimate(const Tensor& stamps) = 0;
  // A new PSF (a new field): FWHM in arcsec, pixel scale in arcsec / px.
  virtual void set_psf(double fwhm, double pixel_scale) {}
  // FITS header cards that describe the set-up (key, value, comment).
  virtual std::vector<std::array<std::string, 3>> header_cards() const { return {}; }
  // Numbers the estimator settled on while running, e.g. RRG's {"G", 1.62}.
  virtual std::vector<std::pair<std::string, double>> parameters() const { return {}; }
  // Whether the population's numbers are settled (RRG: after its first call).
  virtual bool settled() const { return true; }
  // Takes numbers settled elsewhere (another rank's parameters()), as if it
  // had settled them itself.
  virtual void fix_parameters(const std::vector<std::pair<std::string, double>>& values) {}
};

struct EstimatorKind {
  std::string name;         // lower case, as on the command line: "cnn"
  std::string description;  // one line for --help
  EstimatorNeeds needs;
  bool self_calibrated = false;  // measures its own response (metacal): no calibration file applies
  std::function<std::unique_ptr<ShearEstimator>(const EstimatorSetup&)> make;
};

// Every registered estimator, in registration order.
const std::vector<EstimatorKind>& estimator_kinds();
// The kind of this name; an unknown name is a usage error listing the known
// ones ("<context>: unknown estimator 'x' (known: cnn, rrg, ksb)").
const EstimatorKind& estimator_kind(const std::string& name, const std::string& context = "estimators");
// Checks a list of names (non-empty, each known, none twice) before any work.
void check_estimator_names(const std::vector<std::string>& names, const std::string& context = "estimators");
// "cnn, rrg, ksb"
std::string known_estimators();
// Sets up the named estimator (errors name what is missing, e.g. the model).
std::unique_ptr<ShearEstimator> make_estimator(const std::string& name, const EstimatorSetup& setup,
                                               const std::string& context = "estimators");

// Several estimators run on the same stamps, results kept per name.
class EstimatorSet {
 public:
  EstimatorSet() = default;
  EstimatorSet(const std::vector<std::string>& names, const EstimatorSetup& setup,
               const std::string& context = "estimators");
  const std::vector<std::string>& names() const { return names_; }
  bool has(const std::string& name) const;
  ShearEstimator& operator[](const std::string& name);
  // Runs every estimator on the stamps; returns the batches by name.
  std::map<std::string, EstimateBatch> estimate(const Tensor& stamps);
  // Runs and appends to `out` (estimates and extra columns).
  void estimate_into(const Tensor& stamps, std::map<std::string, EstimateBatch>& out);
  void set_psf(double fwhm, double pixel_scale);
  // Every estimator settled (see ShearEstimator::settled).
  bool settled() const;

 private:
  std::vector<std::string> names_;
  std::vector<std::unique_ptr<ShearEstimator>> estimators_;
};

// Appends batch b to a (estimates and matching extra columns).
void append_batch(EstimateBatch& a, const EstimateBatch& b);

// Stamps per call of the estimators in estimate_stamps (and the estimate
// command): RRG settles its susceptibility on its first call, so equal
// chunks give equal results.
constexpr long kEstimateChunk = 4096;

// One chunk of stamps (m, ny, nx) through every estimator of the set, each
// result calibrated by calibrations[name] when it has one, (g - c) / (1 + m),
// then appended to results[name].
void estimate_chunk_into(EstimatorSet& set, const Tensor& stamps, const std::map<std::string, Calibration>& calibrations,
                         std::map<std::string, EstimateBatch>& results);

// n stamps (ny, nx) float32, packed row-major at `stamps` (read in place, not
// copied), through the set in chunks of kEstimateChunk; progress (when
// given) ticks once per stamp. The results of the `estimate` command.
std::map<std::string, EstimateBatch> estimate_stamps(EstimatorSet& set, const float* stamps, long n, long ny, long nx,
                                                     const std::map<std::string, Calibration>& calibrations = {},
                                                     Progress* progress = nullptr);

// The built-in estimators' factories (cnn.cpp, rrg.cpp, ksb.cpp).
EstimatorKind cnn_estimator_kind();
EstimatorKind rrg_estimator_kind();
EstimatorKind ksb_estimator_kind();

}  // namespace ds::lens
