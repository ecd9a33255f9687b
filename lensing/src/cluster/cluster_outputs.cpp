// Stage 7 of a cluster field: the truth comparison of simulated fields, the
// shear catalogue, and the field's summary (JSON and console text).
#include <cmath>
#include <filesystem>
#include <sstream>

#include "cluster_stages.hpp"
#include "deepshear/engine/config.hpp"
#include "deepshear/engine/fits.hpp"
#include "deepshear/engine/log.hpp"
#include "deepshear/lensing/shear_catalogue.hpp"

namespace ds::lens {

namespace cluster_stage {

namespace {

// For each kept source the truth row of the nearest lensed galaxy within
// 2 px, or -1 (none, or the nearest is not a lensed galaxy).
std::vector<long> truth_matches(const FieldSources& src, const std::vector<long>& kept, const std::vector<double>& tx,
                                const std::vector<double>& ty, const std::vector<double>& kind) {
  std::vector<long> match(kept.size(), -1);
  for (std::size_t j = 0; j < kept.size(); ++j) {
    const auto i = std::size_t(kept[j]);
    double best = 4.0;  // (2 px)^2
    for (std::size_t t = 0; t < tx.size(); ++t) {
      const double r2 = (tx[t] - src.x[i]) * (tx[t] - src.x[i]) + (ty[t] - src.y[i]) * (ty[t] - src.y[i]);
      if (r2 < best) best = r2, match[j] = long(t);
    }
    if (match[j] >= 0 && kind[std::size_t(match[j])] != 0) match[j] = -1;
  }
  return match;
}

// The catalogue's per-source columns before the estimators'.
std::vector<fits::TableColumn> source_columns(const LoadedField& field, const FieldSources& src,
                                              const SourceSelection& sel) {
  const auto n = std::size_t(src.size());
  std::vector<double> ra(n), dec(n);
  std::vector<std::int32_t> cut(n), star(n), sexf(n);
  std::vector<std::string> reason(n);
  for (std::size_t i = 0; i < n; ++i) {
    field.wcs.pixel_to_world(src.x[i], src.y[i], ra[i], dec[i]);
    cut[i] = std::int32_t(sel.cuts[i]);
    star[i] = sel.stars.star[i];
    sexf[i] = src.flags.empty() ? 0 : std::int32_t(std::llround(src.flags[i]));
    reason[i] = sel.cuts[i] ? describe_cuts(sel.cuts[i]) : "kept";
  }
  std::vector<double> x1(src.x), y1(src.y);  // SExtractor's 1-based convention
  for (auto& v : x1) v += 1;
  for (auto& v : y1) v += 1;
  using TC = fits::TableColumn;
  return {TC::int64s("ID", std::vector<std::int64_t>(src.id.begin(), src.id.end())).described("source number"),
          TC::doubles("X", src.x, 1, "pixel").described("x, 0-based: first pixel centre at 0 (X_IMAGE - 1)"),
          TC::doubles("Y", src.y, 1, "pixel").described("y, 0-based: first pixel centre at 0 (Y_IMAGE - 1)"),
          TC::doubles("X_IMAGE", x1, 1, "pixel").described("x, 1-based as SExtractor and FITS WCS"),
          TC::doubles("Y_IMAGE", y1, 1, "pixel").described("y, 1-based as SExtractor and FITS WCS"),
          TC::doubles("RA", ra, 1, "deg").described("right ascension (ICRS) of X, Y"),
          TC::doubles("DEC", dec, 1, "deg").described("declination (ICRS) of X, Y"),
          TC::doubles("MAG", src.mag, 1, "mag").described("magnitude in the total image (ZEROPNT)"),
          TC::doubles("MU_MAX", src.mu, 1, "mag/arcsec**2").described("peak surface brightness"),
          TC::doubles("R_HALF", src.rh, 1, "arcsec").described("half-light radius"),
          TC::doubles("FWHM", src.fwhm, 1, "arcsec").described("SExtractor FWHM_IMAGE"),
          TC::doubles("EXPOSURE", sel.exposure).described("mean inverse variance in the box [image unit**(-2)]"),
          TC::int32s("SEX_FLAGS", sexf).described("SExtractor FLAGS"),
          TC::int32s("STAR", star).described("1: point source (r_half or mu_max - magnitude)"),
          TC::int32s("CUT", cut).described("catalogue cut bits (0: kept); CUT_REASON names them"),
          TC::strings("CUT_REASON", reason).described("the cuts failed, or 'kept'")};
}

// The catalogue's header cards: the field, its set-up and the frame conventions.
void write_catalogue_keys(fits::FitsWriter& w, const FieldInputs& in, const LoadedField& field,
                          const ClusterOptions& opt, const ClusterSummary& S) {
  w.write_key("FIELD", S.field, "field name");
  w.write_key("IMAGE", in.images[0], "first science image");
  w.write_key("NFILTER", (long long)in.images.size(), "filter images in the total image (eq. 2)");
  w.write_key("PIXSCALE", field.pixel_scale, "arcsec / pixel (WCS)");
  w.write_key("ZEROPNT", opt.zero_point, "magnitude zero point");
  w.write_key("PSF_FWHM", S.psf_fwhm, "Gaussian PSF FWHM of RRG [arcsec]");
  w.write_key("NOISERMS", S.noise_rms, "background noise RMS of the field");
  std::string names;
  for (const auto& e : opt.estimators) names += (names.empty() ? "" : ",") + e;
  w.write_key("ESTIMATR", names);
  for (const auto& e : opt.estimators) {
    auto c = opt.calibrations.find(e);
    if (c != opt.calibrations.end() && !c->second.empty())
      w.write_key("CAL_" + to_upper(e), std::filesystem::path(c->second).filename().string(), "calibration applied");
  }
  w.write_key("SHEARFRM", "SKY", "G1/G2: x = east, y = north on the tangent plane");
  w.write_key("XYORIGIN", 0LL, "X, Y 0-based pixel centres; X_IMAGE, Y_IMAGE 1-based");
  catalogue::write_flag_cards(w);
  w.write_key("KEPT", (long long)S.kept, "sources passing every cut (CUT = 0)");
}

}  // namespace

void compare_with_truth(const std::string& truth_path, const FieldSources& src, const std::vector<long>& kept,
                        const std::map<std::string, EstimateBatch>& shears, const img::TanWcs& wcs,
                        ClusterSummary& S) {
  fits::FitsFile tf(truth_path);
  tf.hdu(1);
  const auto tx = tf.read_column("X"), ty = tf.read_column("Y"), tg1 = tf.read_column("G1"), tg2 = tf.read_column("G2");
  const auto tk = tf.has_column("KIND") ? tf.read_column("KIND") : std::vector<double>(tx.size(), 0.0);
  const auto match = truth_matches(src, kept, tx, ty, tk);
  for (long t : match) S.truth_matched += t >= 0;
  for (const auto& [e, batch] : shears) {
    ClusterSummary::Rms r;
    for (std::size_t j = 0; j < match.size(); ++j) {
      const auto& v = batch.estimates[j];
      if (match[j] < 0 || v.flags) continue;
      double g1 = tg1[std::size_t(match[j])], g2 = tg2[std::size_t(match[j])];
      pixel_to_sky_shear(wcs, g1, g2);
      r.rms1 += (v.g1 - g1) * (v.g1 - g1), r.rms2 += (v.g2 - g2) * (v.g2 - g2), ++r.n;
    }
    if (r.n) r.rms1 = std::sqrt(r.rms1 / double(r.n)), r.rms2 = std::sqrt(r.rms2 / double(r.n));
    S.truth_rms[e] = r;
  }
}

std::string write_shear_catalogue(const FieldInputs& in, const LoadedField& field, const FieldSources& src,
                                  const SourceSelection& sel, const std::map<std::string, EstimateBatch>& shears,
                                  const ClusterOptions& opt, const ClusterSummary& S, const std::string& base) {
  auto cols = source_columns(field, src, sel);
  for (const auto& e : opt.estimators)
    catalogue::append_columns(cols, e, shears.at(e), sel.kept, src.size(), kFlagCut);
  const std::string path = base + "_shear.fits";
  fits::FitsWriter w(path);
  w.write_table(cols, "SHEAR");
  write_catalogue_keys(w, in, field, opt, S);
  w.commit();
  return path;
}

}  // namespace cluster_stage

void ClusterSummary::warn(const std::string& w) {
  warnings.push_back(w);
  ds::warn(field + ": " + w);
}

Json ClusterSummary::to_json() const {
  Json cut_counts = Json::object();
  for (const auto& [k, v] : cuts) cut_counts[k] = v;
  Json j = {{"field", field},
            {"catalogue", catalogue_path},
            {"sources", sources},
            {"kept", kept},
            {"point_sources", point_sources},
            {"cuts", cut_counts},
            {"psf_fwhm_arcsec", json_printed(psf_fwhm)},
            {"psf_stars", psf_stars},
            {"noise", Json{{"field_rms", json_printed(noise_rms)},
                           {"model_rms", json_printed(model_noise_rms)},
                           {"ratio", json_printed(noise_ratio)},
                           {"patches", noise_patches},
                           {"background_mean", json_printed(background_mean)},
                           {"warning", noise_warning}}},
            {"ran_sextractor", ran_sextractor},
            {"sextractor_seconds", json_printed(sextractor_seconds)},
            {"seconds", json_printed(seconds)}};
  if (truth_matched > 0) {
    Json rms = Json::object();
    for (const auto& [e, r] : truth_rms)
      rms[e] = Json{{"g1", json_printed(r.rms1)}, {"g2", json_printed(r.rms2)}, {"n", r.n}};
    j["truth"] = Json{{"matched", truth_matched}, {"rms", rms}};
  }
  j["outputs"] = outputs;
  j["warnings"] = warnings;
  return j;
}

std::string ClusterSummary::text() const {
  std::ostringstream o;
  o << field << ": " << sources << " sources, " << kept << " kept (" << point_sources << " point sources), PSF FWHM "
    << json_number(psf_fwhm, 4) << "\", noise RMS " << json_number(noise_rms, 4) << " (model "
    << json_number(model_noise_rms, 4) << "), " << json_number(seconds, 3) << " s";
  if (ran_sextractor) o << " (SExtractor " << json_number(sextractor_seconds, 3) << " s)";
  o << " -> " << outputs.front() << "\n";
  if (truth_matched > 0) {
    o << field << ": " << truth_matched << " kept sources matched to the truth; RMS of g - g_true:";
    for (const auto& [e, r] : truth_rms)
      o << " " << e << " " << json_number(r.rms1, 3) << "/" << json_number(r.rms2, 3) << " (" << r.n << ")";
    o << "\n";
  }
  return o.str();
}

namespace {
double number(const Json& j) { return j.is_null() ? std::nan("") : j.get<double>(); }
}  // namespace

ClusterSummary ClusterSummary::from_json(const Json& j) {
  ClusterSummary s;
  s.field = j.at("field").get<std::string>();
  s.catalogue_path = j.at("catalogue").get<std::string>();
  s.sources = j.at("sources").get<long>();
  s.kept = j.at("kept").get<long>();
  s.point_sources = j.at("point_sources").get<long>();
  for (const auto& [k, v] : j.at("cuts").items()) s.cuts[k] = v.get<long>();
  s.psf_fwhm = number(j.at("psf_fwhm_arcsec"));
  s.psf_stars = j.at("psf_stars").get<long>();
  const Json& n = j.at("noise");
  s.noise_rms = number(n.at("field_rms"));
  s.model_noise_rms = number(n.at("model_rms"));
  s.noise_ratio = number(n.at("ratio"));
  s.noise_patches = n.at("patches").get<long>();
  s.background_mean = number(n.at("background_mean"));
  s.noise_warning = n.at("warning").get<bool>();
  s.ran_sextractor = j.at("ran_sextractor").get<bool>();
  s.sextractor_seconds = number(j.at("sextractor_seconds"));
  s.seconds = number(j.at("seconds"));
  if (j.contains("truth")) {
    s.truth_matched = j["truth"].at("matched").get<long>();
    for (const auto& [e, r] : j["truth"].at("rms").items())
      s.truth_rms[e] = Rms{number(r.at("g1")), number(r.at("g2")), r.at("n").get<long>()};
  }
  s.outputs = j.at("outputs").get<std::vector<std::string>>();
  s.warnings = j.at("warnings").get<std::vector<std::string>>();
  return s;
}

Json ClusterReport::to_json() const {
  Json list = Json::array();
  for (const auto& f : fields) list.push_back(f.to_json());
  return Json{{"fields", list}};
}

}  // namespace ds::lens
