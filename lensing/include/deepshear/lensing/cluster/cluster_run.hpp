// deepshear cluster, one field at a time (Springer et al. 2018, sec. 2 and 6):
// total image -> sources (a SExtractor catalogue, or SExtractor run here) ->
// point sources and cuts -> the field's background noise kernel, compared
// with the one the CNN was trained on -> 32x32 stamps -> CNN (symmetrised,
// calibrated) and RRG (Gaussian PSF of the given or measured FWHM) on the
// same stamps -> a FITS shear catalogue, pictures and a JSON summary.
//
// Shears in the catalogue are in the sky frame: g1 stretches along east-west,
// g2 along the north-east diagonal (x = east, y = north on the tangent plane,
// the frame `deepshear maps` uses with RA/DEC positions); the image-frame
// estimates are mapped through the orthogonal part of the WCS CD matrix.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "deepshear/imaging/noise.hpp"
#include "deepshear/imaging/wcs.hpp"
#include "deepshear/lensing/cluster/field_inputs.hpp"
#include "deepshear/lensing/cluster/sextractor_run.hpp"
#include "deepshear/lensing/cluster/source_cuts.hpp"
#include "deepshear/lensing/estimators/cnn.hpp"

namespace ds::lens {

struct ClusterOptions {
  std::vector<std::string> estimators = {"cnn", "rrg"};
  double zero_point = 25.419;   // of the total image (CLASH)
  double psf_fwhm = 0;          // arcsec, Gaussian PSF for RRG; 0 = median of the point sources
  double psf_fwhm_fallback = 0.121;  // when 0 and no point source is measurable (paper's value)
  // Calibration files per estimator (absent or "" = none): a global (c, m)
  // file or one binned in magnitude (applied at each source's MAG_AUTO), as
  // deepshear evaluate writes them. For the CNN it comes on top of the
  // calibration in the model file.
  std::map<std::string, std::string> calibrations;
  CutOptions cuts;
  PointSourceOptions stars;
  SExtractorOptions sextractor;
  // Noise: 7x7 patches off the segmentation (grown by mask_grow px) on a grid of step noise_step.
  long noise_step = 3;
  // The background subtracted from the stamps: "masked" = the median of the
  // source-free pixels (segmentation grown by mask_grow) in a box of
  // background_box px around each source; "global" = their median over the
  // field; "sextractor" = SExtractor's BACKGROUND map; "none" = 0. The
  // estimators are sensitive to offsets of 1e-4 (evaluate's background test).
  std::string background = "masked";
  long background_box = 128;
  long mask_grow = 3;
  // The noise the CNN was trained with: this kernel ("" = from the model's
  // provenance, else the shipped default) times model_noise_scale (0 = from
  // the provenance, else 1). Warn when the field's RMS differs by more than
  // noise_tolerance (fraction).
  std::string model_noise_kernel;
  double model_noise_scale = 0;
  double noise_tolerance = 0.25;
  std::string picture_format = "png";  // png or svg
  bool keep_work = false;              // keep SExtractor's files in OUT/<field>_work
  // A truth table for simulated fields (deepshear mock-cluster's mock_truth.fits:
  // X, Y, G1, G2 in the image frame, KIND 0 for lensed galaxies): kept sources
  // are matched within 2 px and each estimator's RMS error is reported.
  std::string truth;
};

struct ClusterSummary {
  std::string field, catalogue_path;
  long sources = 0, kept = 0;
  std::map<std::string, long> cuts;  // sources cut for each reason (one source may count in several)
  long point_sources = 0;
  double psf_fwhm = 0;               // arcsec, as used by RRG
  long psf_stars = 0;                // point sources measured (0: given or fallback)
  double noise_rms = 0, model_noise_rms = 0, noise_ratio = 0;
  long noise_patches = 0;
  double background_mean = 0;        // mean background subtracted from the stamps
  bool noise_warning = false;
  double sextractor_seconds = 0, seconds = 0;
  bool ran_sextractor = false;
  std::vector<std::string> outputs;
  std::vector<std::string> warnings;
  // With a truth table: matched lensed galaxies and, per estimator, the RMS
  // of g - g_true per component over its unflagged matches.
  long truth_matched = 0;
  struct Rms {
    double rms1 = 0, rms2 = 0;
    long n = 0;
  };
  std::map<std::string, Rms> truth_rms;
  std::string json() const;
};

// A shear measured in the image's pixel frame, in the sky frame of the WCS.
void pixel_to_sky_shear(const img::TanWcs& wcs, double& g1, double& g2);

// The noise the model was trained with (see ClusterOptions).
img::NoiseKernel model_noise_kernel(const nn::Model* model, const ClusterOptions& opt);

// Runs one field; outputs go to out_dir as <field>_shear.fits,
// <field>_noise_kernel.txt, <field>_point_sources.<fmt>, <field>_summary.json.
// cnn may be null when "cnn" is not among the estimators.
ClusterSummary run_cluster_field(const FieldInputs& in, const ClusterOptions& opt, CnnEstimator* cnn,
                                 const std::string& out_dir);

}  // namespace ds::lens
