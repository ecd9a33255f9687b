// Stages 5-6 of a cluster field: the PSF, the stamps, and the estimators on
// them (calibrated, in the sky frame).
#include <cmath>

#include "cluster_stages.hpp"
#include "deepshear/engine/config.hpp"
#include "deepshear/engine/error.hpp"
#include "deepshear/engine/stats.hpp"
#include "deepshear/imaging/moments.hpp"
#include "deepshear/lensing/calibration.hpp"

namespace ds::lens {

void pixel_to_sky_shear(const img::TanWcs& wcs, double& g1, double& g2) {
  const double det = wcs.cd(0, 0) * wcs.cd(1, 1) - wcs.cd(0, 1) * wcs.cd(1, 0);
  const double s = std::sqrt(std::abs(det));
  require(s > 0, "shear frame: the WCS CD matrix is singular");
  const double a[2][2] = {{wcs.cd(0, 0) / s, wcs.cd(0, 1) / s}, {wcs.cd(1, 0) / s, wcs.cd(1, 1) / s}};
  const double m[2][2] = {{g1, g2}, {g2, -g1}};
  double am[2][2], r[2][2];
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) am[i][j] = a[i][0] * m[0][j] + a[i][1] * m[1][j];
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) r[i][j] = am[i][0] * a[j][0] + am[i][1] * a[j][1];
  g1 = r[0][0], g2 = r[0][1];
}

namespace cluster_stage {

namespace {

// Applies the calibration file of estimator e (global, or binned in
// magnitude at each stamp's mag) to g; no file, no change.
void apply_calibration_file(const std::string& e, const ClusterOptions& opt, const std::vector<double>& mag,
                            std::vector<ShearEstimate>& g) {
  auto file = opt.calibrations.find(e);
  if (file == opt.calibrations.end() || file->second.empty()) return;
  const std::string& path = file->second;
  if (!BinnedCalibration::is_binned_file(path)) return calibrate(g, Calibration::load(path));
  auto cal = BinnedCalibration::load(path);
  require(cal.quantity == "magnitude", path + ": key quantity: the cluster pipeline applies calibrations in "
                                              "magnitude, not '" + cal.quantity + "'");
  calibrate(g, cal, mag);
}

}  // namespace

void cut_source_stamp(const LoadedField& field, const FieldSources& src, const StampBackground& bg, long i,
                      long side, float* out) {
  const long sx = stamp_corner(src.x[std::size_t(i)], side), sy = stamp_corner(src.y[std::size_t(i)], side);
  const ImageF& image = field.total.image;
  const double b = bg.level[std::size_t(i)];
  for (long yy = 0; yy < side; ++yy)
    for (long xx = 0; xx < side; ++xx)
      out[yy * side + xx] = float(image(sy + yy, sx + xx) - (bg.map ? double((*bg.map)(sy + yy, sx + xx)) : b));
}

double field_psf_fwhm(const LoadedField& field, const FieldSources& src, const SourceSelection& sel,
                      const StampBackground& bg, const ClusterOptions& opt, ClusterSummary& S) {
  if (opt.psf_fwhm > 0) return opt.psf_fwhm;
  const long side = opt.cuts.stamp;
  std::vector<double> f;
  std::vector<float> buf(std::size_t(side * side));
  for (long i = 0; i < src.size(); ++i) {
    if (!sel.stars.star[std::size_t(i)] || (sel.cuts[std::size_t(i)] & (kCutEdge | kCutBadPixel))) continue;
    cut_source_stamp(field, src, bg, i, side, buf.data());
    auto am = img::adaptive_moments(ImageView<const float>(buf.data(), side, side), img::AdaptiveParams{});
    const double s2 = am.sigma * am.sigma - 1.0 / 12.0;
    if (am.ok() && s2 > 0) f.push_back(2.354820045 * std::sqrt(s2) * field.pixel_scale);
  }
  S.psf_stars = long(f.size());
  if (!f.empty()) return median(f);
  S.warn("no measurable point source; RRG uses a Gaussian PSF of FWHM " + json_number(opt.psf_fwhm_fallback) + "\"");
  return opt.psf_fwhm_fallback;
}

Tensor kept_stamps(const LoadedField& field, const FieldSources& src, const SourceSelection& sel,
                   const StampBackground& bg, long side) {
  const long m = long(sel.kept.size());
  Tensor stamps({std::max(1L, m), side, side});
  for (long j = 0; j < m; ++j)
    cut_source_stamp(field, src, bg, sel.kept[std::size_t(j)], side, stamps.data() + j * side * side);
  return stamps;
}

std::map<std::string, EstimateBatch> estimate_shears(const Tensor& stamps, long kept, ClusterEstimators& est,
                                                     const std::vector<double>& kept_mag, const ClusterOptions& opt,
                                                     const img::TanWcs& wcs) {
  std::map<std::string, EstimateBatch> out;
  for (const auto& e : est.set.names()) {
    EstimateBatch b;
    if (kept > 0) {
      b = est.set[e].estimate(stamps);
      apply_calibration_file(e, opt, kept_mag, b.estimates);
      b.estimates.resize(std::size_t(kept));
      for (auto& [name, values] : b.extra) values.resize(std::size_t(kept));
    }
    for (auto& v : b.estimates) pixel_to_sky_shear(wcs, v.g1, v.g2);
    out[e] = std::move(b);
  }
  return out;
}

}  // namespace cluster_stage
}  // namespace ds::lens
