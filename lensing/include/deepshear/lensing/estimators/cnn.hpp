// The CNN shear estimator: a trained model (nn/) with its input normalisation,
// the 8-fold symmetrised estimate of eq. 14 (switchable) with the shear maps of
// DESIGN.md, and the calibration stored in the model file (switchable).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "deepshear/engine/tensor.hpp"
#include "deepshear/lensing/estimators/estimate.hpp"
#include "deepshear/nn/inference.hpp"
#include "deepshear/nn/model_file.hpp"

namespace ds::lens {

class CnnEstimator {
 public:
  explicit CnnEstimator(nn::Model model, bool symmetrise = true, bool calibrate = true);
  // Loads a model file (errors name the file).
  static CnnEstimator load(const std::string& path, bool symmetrise = true, bool calibrate = true);

  // Shears of stamps (n, ny, nx) matching the model's input size. Stamps with
  // non-finite pixels are flagged kFlagNonFinite, flat ones kFlagBlank; both
  // get g = 0.
  std::vector<ShearEstimate> estimate(const Tensor& stamps);

  const nn::Model& model() const { return *model_; }
  bool symmetrise() const { return symmetrise_; }
  bool calibrate() const { return calibrate_; }

 private:
  // Held by pointer: the predictor keeps a reference to the network, which
  // must not move when the estimator does.
  std::unique_ptr<nn::Model> model_;
  std::unique_ptr<nn::Predictor> predictor_;
  bool symmetrise_, calibrate_;
};

// The PSF FWHM and pixel scale [arcsec] a model was trained for, read from
// the training configuration in its provenance (0 where it records none).
struct TrainedSetup {
  double psf_fwhm = 0, pixel_scale = 0;
};
TrainedSetup model_training_setup(const nn::Model& model);

// Compares the PSF and pixel scale of the stamps with the model's training
// set-up: a relative difference above `tolerance` is an error naming both
// values, or, with `allow`, a warning. Returns the warning text ("" = match).
std::string check_model_setup(const nn::Model& model, const std::string& model_path, double psf_fwhm,
                              double pixel_scale, bool allow, double tolerance = 0.05);

// The output map of nn::Predictor::predict_symmetrised for shear outputs
// (g1, g2): transform t = 4 f + r (r quarter turns, then a mirror when f = 1)
// maps back as a quarter turn negates g and a mirror conjugates it.
void unmap_shear(int t, float* g);

}  // namespace ds::lens
