// Stages 2-3 of a cluster field: the sources, their point-source selection
// and cuts.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>

#include "cluster_stages.hpp"

namespace ds::lens::cluster_stage {

namespace {

// mu_max (mag arcsec^-2) from the brightest pixel within 1 px of (x, y), when
// the catalogue has no MU_MAX column.
double peak_surface_brightness(const ImageF& image, const ImageF& background, double x, double y, double zp,
                               double scale) {
  double peak = 0;
  const long cx = std::lround(x), cy = std::lround(y);
  for (long yy = cy - 1; yy <= cy + 1; ++yy)
    for (long xx = cx - 1; xx <= cx + 1; ++xx)
      if (yy >= 0 && xx >= 0 && yy < image.ny() && xx < image.nx())
        peak = std::max(peak, double(image(yy, xx)) - (background.size() ? double(background(yy, xx)) : 0.0));
  return peak > 0 ? zp - 2.5 * std::log10(peak / (scale * scale)) : std::numeric_limits<double>::quiet_NaN();
}

// The catalogue of the field: the one given, or SExtractor's on the total image.
SourceList source_list(const FieldInputs& in, const LoadedField& field, const ClusterOptions& opt,
                       const std::string& base, ClusterSummary& S, FieldSources& out) {
  if (!in.catalogue.empty()) {
    S.catalogue_path = in.catalogue;
    return SourceList::read(in.catalogue);
  }
  SExtractorOptions so = opt.sextractor;
  so.zero_point = opt.zero_point, so.pixel_scale = field.pixel_scale;
  if (opt.psf_fwhm > 0) so.seeing_fwhm = opt.psf_fwhm;
  const auto dir = std::filesystem::path(base).parent_path().string();
  const std::string work = opt.keep_work ? base + "_work" : dir + "/." + S.field + ".sextractor";
  auto r = run_sextractor(field.total.image, field.total.weight, so, work);
  if (!opt.keep_work) std::filesystem::remove_all(work);
  out.segmentation = std::move(r.segmentation), out.background = std::move(r.background);
  S.ran_sextractor = true, S.sextractor_seconds = r.seconds;
  S.catalogue_path = r.command;
  return std::move(r.sources);
}

}  // namespace

namespace {

// The catalogue's positions, numbers and flags are finite, and positions lie
// within a field's width of the image, before anything rounds them.
void check_catalogue_values(const SourceList& src, const LoadedField& field) {
  const double reach = 1.0 + double(std::max(field.total.image.nx(), field.total.image.ny()));
  for (const char* name : {"X_IMAGE", "Y_IMAGE", "NUMBER", "FLAGS"}) {
    if (!src.has(name)) continue;
    const auto& v = src.column(name);
    for (std::size_t i = 0; i < v.size(); ++i) {
      const bool position = name[0] != 'N' && name[0] != 'F';
      if (std::isfinite(v[i]) && (!position || std::abs(v[i]) <= 2 * reach) && std::abs(v[i]) < 9e15) continue;
      throw Error(src.path() + ": row " + std::to_string(i + 1) + ": " + name + " = " + std::to_string(v[i]) +
                  (position ? " is not a position in the " + std::to_string(field.total.image.nx()) + "x" +
                                  std::to_string(field.total.image.ny()) + " image"
                            : " is not an integer"));
    }
  }
}

}  // namespace

FieldSources find_sources(const FieldInputs& in, const LoadedField& field, const ClusterOptions& opt,
                          const std::string& base, ClusterSummary& S) {
  FieldSources s;
  const SourceList src = source_list(in, field, opt, base, S, s);
  const double scale = field.pixel_scale;
  const auto n = std::size_t(src.size());
  S.sources = long(n);
  s.x = src.column("X_IMAGE"), s.y = src.column("Y_IMAGE");
  check_catalogue_values(src, field);
  for (std::size_t i = 0; i < n; ++i) s.x[i] -= 1, s.y[i] -= 1;  // SExtractor's pixels are 1-based
  s.mag = src.column("MAG_AUTO");
  s.rh_px = src.column("FLUX_RADIUS");
  // Optional columns, null when the catalogue has none.
  auto optional = [&](const char* name) { return src.has(name) ? &src.column(name) : nullptr; };
  const std::vector<double> *fwhm = optional("FWHM_IMAGE"), *mu = optional("MU_MAX"), *number = optional("NUMBER");
  s.rh.resize(n), s.fwhm.assign(n, NAN), s.mu.resize(n), s.id.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    s.rh[i] = s.rh_px[i] * scale;
    if (fwhm) s.fwhm[i] = (*fwhm)[i] * scale;
    s.mu[i] = mu ? (*mu)[i]
                 : peak_surface_brightness(field.total.image, s.background, s.x[i], s.y[i], opt.zero_point, scale);
    s.id[i] = number ? std::llround((*number)[i]) : (long long)(i + 1);
  }
  if (src.has("FLAGS")) s.flags = src.column("FLAGS");
  return s;
}

SourceSelection select_sources(const LoadedField& field, const FieldSources& src, const ClusterOptions& opt,
                               const std::string& base, ClusterSummary& S) {
  SourceSelection sel;
  sel.stars = select_point_sources(src.mag, src.rh, src.mu, opt.stars);
  S.point_sources = sel.stars.stars;
  sel.cuts = source_cuts(field, src.x, src.y, src.flags, sel.stars.star, opt.cuts, &sel.exposure);
  const auto names = cut_names();
  for (std::size_t b = 0; b < names.size(); ++b) {
    long c = 0;
    for (auto v : sel.cuts) c += (v >> b) & 1u;
    S.cuts[names[b]] = c;
  }
  for (long i = 0; i < src.size(); ++i)
    if (sel.cuts[std::size_t(i)] == 0) sel.kept.push_back(i);
  S.kept = long(sel.kept.size());
  const std::string plot = base + "_point_sources." + opt.picture_format;
  plot_point_sources(src.mag, src.rh, src.mu, sel.stars, opt.stars, plot, S.field + ": point-source selection");
  S.outputs.push_back(plot);
  return sel;
}

}  // namespace ds::lens::cluster_stage
