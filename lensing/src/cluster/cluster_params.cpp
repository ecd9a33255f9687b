// The `cluster` journey from its parameters: declared once here for the
// command and the Python package (cluster_run.hpp).
#include <filesystem>
#include <sstream>

#include "deepshear/engine/ranks.hpp"
#include "deepshear/engine/atomic_file.hpp"
#include "deepshear/engine/config.hpp"
#include "deepshear/engine/data_path.hpp"
#include "deepshear/engine/error.hpp"
#include "deepshear/engine/provenance.hpp"
#include "deepshear/lensing/cluster/cluster_run.hpp"

namespace ds::lens {

void add_cluster_params(Config& cfg) {
  const ClusterOptions d;
  cfg.add_string("image", "", "science image(s), comma separated (one per filter)");
  cfg.add_string("weight", "", "inverse-variance map(s), one per image, same order ('' = X_wht.fits beside X_drz.fits)");
  cfg.add_string("mask", "", "bad-pixel mask(s), non-zero = bad (any number)");
  cfg.add_string("catalogue", "", "SExtractor catalogue of the field ('' = run SExtractor)");
  cfg.add_string("name", "", "field name for the outputs ('' = from the first image)");
  cfg.add_string("fields", "", "list file of fields (one per line: name= image= weight= [mask=] [catalog=])");
  cfg.add_string("out", "", "output folder (required)");
  cfg.add_string("model", "", "CNN model file ('' = the shipped data/model_default.dsm)");
  cfg.add_string("estimators", "cnn,rrg", "estimators, comma separated: any of " + known_estimators());
  cfg.add_double("zero_point", d.zero_point, "magnitude zero point of the total image");
  cfg.add_double("psf_fwhm", d.psf_fwhm, "Gaussian PSF FWHM for RRG [arcsec] (0 = median of the point sources)");
  for (const auto& k : estimator_kinds())
    if (!k.self_calibrated)
      cfg.add_string(k.name + "_calibration", "default",
                   "calibration file of " + k.name +
                       ", global or in magnitude bins as deepshear evaluate writes them ('default' = data/calibration_" +
                       k.name + "_magnitude.cfg" + (k.needs.model ? " with the default model" : "") + "; 'none')");
  cfg.add_double("exposure_min", d.cuts.exposure_min, "cut: mean inverse variance in the box below this [ADU^-2]");
  cfg.add_int("exposure_box", d.cuts.exposure_box, "side of the exposure box [px]");
  cfg.add_int("sextractor_flags", long(d.cuts.sextractor_flags), "cut: SExtractor FLAGS bits (0 = off)");
  cfg.add_bool("stars", d.stars.enabled, "find and cut point sources");
  cfg.add_double("stars.rh_max", d.stars.rh_max, "point sources: the r_half - magnitude box's largest r_half [arcsec]");
  cfg.add_double("stars.mag_min", d.stars.mag_min, "point sources: the box's brightest magnitude");
  cfg.add_double("stars.mag_max", d.stars.mag_max, "point sources: the box's faintest magnitude");
  cfg.add_double("stars.line_width", d.stars.line_width, "point sources: half-width of the mu_max - magnitude stripe");
  cfg.add_double("stars.line_mag_max", d.stars.line_mag_max, "point sources: the stripe's faintest magnitude");
  cfg.add_double("stars.mu_max_cap", d.stars.mu_max_cap, "point sources: the stripe's faintest mu_max (0 = the line at line_mag_max)");
  cfg.add_string("background", d.background,
                 "background under the stamps: masked (source-free pixels near each source), global, sextractor, none");
  cfg.add_int("background_box", d.background_box, "side of the box of the masked background [px]");
  cfg.add_int("noise_step", d.noise_step, "noise kernel: grid step of the 7x7 background patches [px]");
  cfg.add_int("mask_grow", d.mask_grow, "noise kernel: segmentation grown by this many pixels");
  cfg.add_string("model_noise_kernel", "", "the model's training noise kernel ('' = from the model's provenance)");
  cfg.add_double("model_noise_scale", 0, "its scale (0 = from the model's provenance, else 1)");
  cfg.add_double("noise_tolerance", d.noise_tolerance, "warn when the field's noise RMS differs by more than this fraction");
  cfg.add_string("sextractor", "", "SExtractor executable ('' = source-extractor or sex on PATH)");
  cfg.add_string("sextractor_config", "", "folder with deepshear.sex, deepshear.param and the filter ('' = shipped)");
  cfg.add_string("sextractor_args", "", "extra SExtractor settings, e.g. '-DETECT_THRESH 1.5'");
  cfg.add_string("pictures", d.picture_format, "picture format: png or svg");
  cfg.add_bool("keep_work", false, "keep SExtractor's files in OUT/<field>_work");
  cfg.add_string("truth", "", "truth table of a simulated field (mock_truth.fits): report each estimator's RMS error");
  cfg.range("psf_fwhm", 0, 100).range("exposure_box", 1, 4096).range("sextractor_flags", 0, 65535);
  cfg.range("background_box", 8, 4096).range("noise_step", 1, 4096).range("mask_grow", 0, 1024);
  cfg.range("noise_tolerance", 0, 1e6);
}

ClusterOptions cluster_options(const Config& cfg) {
  ClusterOptions o;
  o.estimators.clear();
  for (const auto& e : split_list(cfg.get_string("estimators"))) o.estimators.push_back(trim(e));
  o.model = cfg.get_string("model");
  o.zero_point = cfg.get_double("zero_point");
  o.psf_fwhm = cfg.get_double("psf_fwhm");
  for (const auto& k : estimator_kinds()) {
    if (k.self_calibrated) continue;
    const std::string v = cfg.get_string(k.name + "_calibration");
    std::string path = v == "none" ? "" : v;
    // The shipped calibration of a model-reading estimator belongs to the shipped model only.
    if (v == "default") {
      const std::string shipped = "calibration_" + k.name + "_magnitude.cfg";
      path = k.needs.model && !o.model.empty() ? "" : data_path_or_empty(shipped);
    }
    o.calibrations[k.name] = path;
  }
  o.cuts.exposure_min = cfg.get_double("exposure_min");
  o.cuts.exposure_box = cfg.get_int("exposure_box");
  o.cuts.sextractor_flags = std::uint32_t(cfg.get_int("sextractor_flags"));
  o.stars.enabled = cfg.get_bool("stars");
  o.stars.rh_max = cfg.get_double("stars.rh_max");
  o.stars.mag_min = cfg.get_double("stars.mag_min");
  o.stars.mag_max = cfg.get_double("stars.mag_max");
  o.stars.line_width = cfg.get_double("stars.line_width");
  o.stars.line_mag_max = cfg.get_double("stars.line_mag_max");
  o.stars.mu_max_cap = cfg.get_double("stars.mu_max_cap");
  o.background = cfg.get_string("background");
  o.background_box = cfg.get_int("background_box");
  o.noise_step = cfg.get_int("noise_step");
  o.mask_grow = cfg.get_int("mask_grow");
  o.model_noise_kernel = cfg.get_string("model_noise_kernel");
  o.model_noise_scale = cfg.get_double("model_noise_scale");
  o.noise_tolerance = cfg.get_double("noise_tolerance");
  o.sextractor.binary = cfg.get_string("sextractor");
  o.sextractor.config_dir = cfg.get_string("sextractor_config");
  std::stringstream ss(cfg.get_string("sextractor_args"));
  for (std::string t; ss >> t;) o.sextractor.extra.push_back(t);
  o.picture_format = cfg.get_string("pictures");
  o.keep_work = cfg.get_bool("keep_work");
  o.truth = cfg.get_string("truth");
  return o;
}

std::vector<FieldInputs> cluster_fields(const Config& cfg) {
  std::vector<FieldInputs> fields;
  if (!cfg.get_string("fields").empty()) {
    if (!cfg.get_string("image").empty())
      throw Error::usage("cluster: give either --fields LIST or --image/--weight, not both");
    fields = read_field_list(cfg.get_string("fields"));
  } else {
    FieldInputs f;
    f.images = split_list(cfg.get_string("image"));
    f.weights = split_list(cfg.get_string("weight"));
    f.masks = split_list(cfg.get_string("mask"));
    f.catalogue = cfg.get_string("catalogue");
    f.name = cfg.get_string("name");
    if (f.images.empty()) throw Error::usage("cluster: --image IMG (or --fields LIST) is required");
    complete_weight_maps(f, "weight map given (--weight)");
    fields.push_back(f);
  }
  return fields;
}

ClusterReport run_cluster(const Config& cfg, const std::function<void(const ClusterSummary&)>& on_field) {
  const std::string out = cfg.get_string("out");
  if (out.empty()) throw Error::usage("cluster: --out DIR is required");
  const auto opt = cluster_options(cfg);
  const auto fields = cluster_fields(cfg);
  auto estimators = make_cluster_estimators(opt);  // the model read and checked before any output
  std::filesystem::create_directories(out);
  auto report = run_cluster(fields, opt, estimators, out, on_field);
  if (!ranks().root()) return report;  // rank 0 holds every field's summary and writes the run's files
  // The run's files appear only when every field is done.
  write_text_atomic(out + "/cluster_config.cfg", config_text(cfg.dump()));
  write_text_atomic(out + "/cluster_summary.json", report_text(report.to_json()));
  return report;
}

}  // namespace ds::lens
