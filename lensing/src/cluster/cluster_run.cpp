// The cluster journey: options checked, estimators set up once, then each
// field through its stages (cluster_stages.hpp).
#include "deepshear/lensing/cluster/cluster_run.hpp"

#include <chrono>
#include <filesystem>

#include "cluster_stages.hpp"
#include "deepshear/engine/atomic_file.hpp"
#include "deepshear/engine/data_path.hpp"
#include "deepshear/engine/error.hpp"
#include "deepshear/engine/progress.hpp"
#include "deepshear/engine/ranks.hpp"
#include "deepshear/engine/provenance.hpp"
#include "deepshear/nn/model_file.hpp"

namespace ds::lens {

void check_cluster_options(const ClusterOptions& opt) {
  const auto& b = opt.background;
  if (b != "masked" && b != "global" && b != "sextractor" && b != "none")
    throw Error::usage("cluster: --background must be masked, global, sextractor or none, not '" + b + "'");
  check_estimator_names(opt.estimators, "cluster: --estimators");
  if (opt.picture_format != "png" && opt.picture_format != "svg")
    throw Error::usage("cluster: --pictures must be png or svg, not '" + opt.picture_format + "'");
  if (opt.mask_grow < 0) throw Error::usage("cluster: --mask-grow must be >= 0");
}

ClusterEstimators make_cluster_estimators(const ClusterOptions& opt) {
  check_cluster_options(opt);
  ClusterEstimators est;
  EstimatorSetup setup;
  bool needs_model = false;
  for (const auto& e : opt.estimators) needs_model = needs_model || estimator_kind(e).needs.model;
  if (needs_model) {
    setup.model_path = opt.model.empty() ? data_path("model_default.dsm") : opt.model;
    est.model = std::make_shared<const nn::Model>(nn::load_model(setup.model_path));
    setup.model = est.model;
    const auto& arch = est.model->net.arch();
    const long side = opt.cuts.stamp;
    require(arch.in_h == side && arch.in_w == side,
            setup.model_path + ": the cluster pipeline cuts " + std::to_string(side) + "x" + std::to_string(side) +
                " stamps but the model reads " + std::to_string(arch.in_h) + "x" + std::to_string(arch.in_w));
  }
  est.set = EstimatorSet(opt.estimators, setup, "cluster: --estimators");
  return est;
}

ClusterSummary run_cluster_field(const FieldInputs& in, const ClusterOptions& opt, ClusterEstimators& est,
                                 const std::string& out_dir) {
  using namespace cluster_stage;
  const auto t0 = std::chrono::steady_clock::now();
  check_cluster_options(opt);
  if (opt.background == "sextractor" && !in.catalogue.empty())
    throw Error::usage("cluster: --background sextractor needs SExtractor's background (no catalogue given)");
  ClusterSummary S;
  S.field = in.display_name();
  if (S.field.find('/') != std::string::npos || S.field == "." || S.field == "..")
    throw Error::usage("cluster: field name '" + S.field + "' must be a file name, not a path");
  // The field's outputs appear in out_dir together, when it is done.
  StagingFolder stage(out_dir, S.field);
  const std::string base = stage.path() + "/" + S.field;

  const LoadedField field = load_field(in);  // the total image (eqs. 2-3) and its WCS
  const FieldSources src = find_sources(in, field, opt, base, S);
  const SourceSelection sel = select_sources(field, src, opt, base, S);
  const img::Mask mask = source_mask(field, src, opt.mask_grow);
  measure_noise(field, src, mask, opt, est.model.get(), base, S);
  const StampBackground bg = stamp_background(field, src, mask, opt, S);
  S.psf_fwhm = field_psf_fwhm(field, src, sel, bg, opt, S);

  const Tensor stamps = kept_stamps(field, src, sel, bg, opt.cuts.stamp);
  std::vector<double> kept_mag;  // for calibrations in magnitude
  for (long i : sel.kept) kept_mag.push_back(src.mag[std::size_t(i)]);
  est.set.set_psf(S.psf_fwhm, field.pixel_scale);
  const auto shears = estimate_shears(stamps, S.kept, est, kept_mag, opt, field.wcs);

  const std::string truth = in.truth.empty() ? opt.truth : in.truth;
  if (!truth.empty()) compare_with_truth(truth, src, sel.kept, shears, field.wcs, S);
  S.outputs.insert(S.outputs.begin(), write_shear_catalogue(in, field, src, sel, shears, opt, S, base));
  S.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  S.outputs.push_back(base + "_summary.json");
  for (auto& o : S.outputs) o = stage.final_path(o);
  write_text_atomic(base + "_summary.json", report_text(S.to_json()));
  stage.commit();
  return S;
}

ClusterReport run_cluster(const std::vector<FieldInputs>& fields, const ClusterOptions& opt,
                          ClusterEstimators& est, const std::string& out_dir,
                          const std::function<void(const ClusterSummary&)>& on_field) {
  ClusterReport report;
  const auto [first, last] = rank_range(long(fields.size()));
  Progress progress("cluster", last - first, "fields");
  for (long i = first; i < last; ++i) {
    report.fields.push_back(run_cluster_field(fields[std::size_t(i)], opt, est, out_dir));
    if (on_field) on_field(report.fields.back());
    progress.tick();
  }
  progress.finish();
  if (ranks().size == 1) return report;
  // Rank 0 gathers every rank's summaries, as JSON text one per line.
  std::string mine;
  for (const auto& f : report.fields) mine += f.to_json().dump() + "\n";
  const std::vector<char> all = gather_to_root(mine.data(), mine.size());
  report.fields.clear();
  std::size_t at = 0;
  const std::string text(all.begin(), all.end());
  for (std::size_t end; (end = text.find('\n', at)) != std::string::npos; at = end + 1)
    report.fields.push_back(ClusterSummary::from_json(Json::parse(text.substr(at, end - at))));
  return report;
}

}  // namespace ds::lens
