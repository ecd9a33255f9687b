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
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "deepshear/imaging/noise.hpp"
#include "deepshear/imaging/wcs.hpp"
#include "deepshear/lensing/cluster/field_inputs.hpp"
#include "deepshear/lensing/cluster/sextractor_run.hpp"
#include "deepshear/lensing/cluster/source_cuts.hpp"
#include "deepshear/lensing/estimators/estimator.hpp"
#include "deepshear/lensing/training/report_json.hpp"

namespace ds::nn {
struct Model;
}

namespace ds {
class Config;
}

namespace ds::lens {

struct ClusterOptions {
  std::vector<std::string> estimators = {"cnn", "rrg"};  // estimator registry names
  std::string model;            // CNN model file ("" = the shipped data/model_default.dsm)
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

  // Records a warning and prints it ("<field>: <w>").
  void warn(const std::string& w);
  // <field>_summary.json's object, and back (numbers as printed there).
  Json to_json() const;
  static ClusterSummary from_json(const Json& j);
  // The lines deepshear cluster prints for the field.
  std::string text() const;
};

// The command's parameters (keys, defaults, help, ranges) in cfg, and the
// options and fields they give: `fields` (a list file) or one field of
// image, weight, mask, catalogue and name. Usage errors name the key.
void add_cluster_params(Config& cfg);
ClusterOptions cluster_options(const Config& cfg);
std::vector<FieldInputs> cluster_fields(const Config& cfg);

// Checks the options before any work (usage errors naming the option).
void check_cluster_options(const ClusterOptions& opt);

// The estimators of a run, set up once for all its fields; the CNN's model is
// kept too (its provenance holds the noise it was trained with).
struct ClusterEstimators {
  EstimatorSet set;
  std::shared_ptr<const nn::Model> model;  // null without a model-reading estimator
};
// Loads the model when an estimator needs one and checks that it reads
// opt.cuts.stamp-sized stamps; errors name the model file.
ClusterEstimators make_cluster_estimators(const ClusterOptions& opt);

// A shear measured in the image's pixel frame, in the sky frame of the WCS.
void pixel_to_sky_shear(const img::TanWcs& wcs, double& g1, double& g2);

// The noise the model was trained with (see ClusterOptions); model may be null.
img::NoiseKernel model_noise_kernel(const nn::Model* model, const ClusterOptions& opt);

// Runs one field: inputs, sources and cuts, noise and background, PSF,
// stamps, estimates, outputs. These go to out_dir as <field>_shear.fits,
// <field>_noise_kernel.txt, <field>_point_sources.<fmt>, <field>_summary.json.
ClusterSummary run_cluster_field(const FieldInputs& in, const ClusterOptions& opt, ClusterEstimators& estimators,
                                 const std::string& out_dir);

// Every field of a run, in order. Under MPI the fields are spread over the
// ranks (contiguous shares, each field written by its rank) and rank 0 gets
// every field's summary in order; on_field runs on the rank of the field.
struct ClusterReport {
  std::vector<ClusterSummary> fields;
  Json to_json() const;  // {"fields": [<field summaries>]}, cluster_summary.json
};

// Runs each field with the estimators set up by make_cluster_estimators(opt),
// with progress (fields done / total); on_field (when given) sees each
// field's summary as soon as it is done.
ClusterReport run_cluster(const std::vector<FieldInputs>& fields, const ClusterOptions& opt,
                          ClusterEstimators& estimators, const std::string& out_dir,
                          const std::function<void(const ClusterSummary&)>& on_field = {});

// The whole journey from the command's parameters (add_cluster_params): the
// options and fields, the estimators (the model checked before any output),
// every field into cfg "out", then the run's cluster_config.cfg and
// cluster_summary.json once every field is done.
ClusterReport run_cluster(const Config& cfg, const std::function<void(const ClusterSummary&)>& on_field = {});

}  // namespace ds::lens
