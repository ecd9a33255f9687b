#include "deepshear/lensing/cluster/cluster_run.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "deepshear/engine/atomic_file.hpp"
#include "deepshear/engine/config.hpp"
#include "deepshear/engine/error.hpp"
#include "deepshear/engine/fits.hpp"
#include "deepshear/engine/log.hpp"
#include "deepshear/engine/stats.hpp"
#include "deepshear/imaging/moments.hpp"
#include "deepshear/lensing/calibration.hpp"
#include "deepshear/lensing/estimators/ksb.hpp"
#include "deepshear/lensing/estimators/rrg.hpp"
#include "deepshear/lensing/estimators/stamp_psf.hpp"
#include "deepshear/lensing/training/stamp_set.hpp"

namespace ds::lens {

namespace {

// The upper middle value of v (reordered), a median that needs no averaging.
float middle_value(std::vector<float>& v) {
  auto mid = v.begin() + std::ptrdiff_t(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

// A `key = value` line of a configuration dump (Config::dump), "" if absent.
std::string config_value(const std::string& dump, const std::string& key) {
  std::stringstream ss(dump);
  std::string line;
  while (std::getline(ss, line)) {
    auto eq = line.find('=');
    if (eq == std::string::npos || line[0] == '#') continue;
    std::string k = line.substr(0, eq), v = line.substr(eq + 1);
    if (trim(k) == key) return trim(v);
  }
  return "";
}

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

// Source mask for the noise step: the segmentation grown by `grow` px, or
// discs of radius max(5, 4 r_half) px around the sources; plus bad pixels.
Image<unsigned char> noise_mask(const LoadedField& field, const ImageF& seg, const std::vector<double>& x,
                                const std::vector<double>& y, const std::vector<double>& rh_px, long grow) {
  const long ny = field.ny(), nx = field.nx();
  Image<unsigned char> m(ny, nx, 0);
  if (seg.size()) {
    // Grow with a separable max filter of half-width `grow`.
    Image<unsigned char> rows(ny, nx, 0);
    for (long yy = 0; yy < ny; ++yy) {
      long last = -1000000;
      for (long xx = 0; xx < nx + grow; ++xx) {
        if (xx < nx && seg(yy, xx) > 0) last = xx;
        const long t = xx - grow;
        if (t >= 0 && t < nx && xx - last <= 2 * grow) rows(yy, t) = 1;
      }
    }
    for (long xx = 0; xx < nx; ++xx) {
      long last = -1000000;
      for (long yy = 0; yy < ny + grow; ++yy) {
        if (yy < ny && rows(yy, xx)) last = yy;
        const long t = yy - grow;
        if (t >= 0 && t < ny && yy - last <= 2 * grow) m(t, xx) = 1;
      }
    }
  } else {
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double r = std::max(5.0, 4 * rh_px[i]);
      if (!std::isfinite(r) || !std::isfinite(x[i]) || !std::isfinite(y[i])) continue;
      for (long yy = std::max(0L, long(y[i] - r)); yy <= std::min(ny - 1, long(y[i] + r)); ++yy)
        for (long xx = std::max(0L, long(x[i] - r)); xx <= std::min(nx - 1, long(x[i] + r)); ++xx)
          if ((xx - x[i]) * (xx - x[i]) + (yy - y[i]) * (yy - y[i]) <= r * r) m(yy, xx) = 1;
    }
  }
  for (long k = 0; k < ny * nx; ++k)
    if (field.bad.data()[k]) m.data()[k] = 1;
  return m;
}

// A stamp (side n) of image - background with its corner at (sx, sy): the
// background is `map` (when given) or the constant b.
void cut_stamp(const ImageF& image, const ImageF* map, double b, long sx, long sy, long n, float* out) {
  for (long yy = 0; yy < n; ++yy)
    for (long xx = 0; xx < n; ++xx)
      out[yy * n + xx] = float(image(sy + yy, sx + xx) - (map ? double((*map)(sy + yy, sx + xx)) : b));
}

// Median of the unmasked pixels in a box of side `box` centred on (x, y) (the
// median resists the wings of faint galaxies better than the mean); NaN when
// fewer than box^2 / 8 are unmasked.
double masked_box_median(const ImageF& image, const Image<unsigned char>& mask, double x, double y, long box) {
  const long x0 = std::max(0L, std::lround(x) - box / 2), y0 = std::max(0L, std::lround(y) - box / 2);
  const long x1 = std::min(image.nx(), x0 + box), y1 = std::min(image.ny(), y0 + box);
  std::vector<float> v;
  v.reserve(std::size_t(box * box));
  for (long yy = y0; yy < y1; ++yy)
    for (long xx = x0; xx < x1; ++xx)
      if (!mask(yy, xx)) v.push_back(image(yy, xx));
  if (long(v.size()) * 8 < box * box) return std::numeric_limits<double>::quiet_NaN();
  return middle_value(v);
}

std::string upper(std::string s) {
  for (auto& c : s) c = char(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

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

img::NoiseKernel model_noise_kernel(const nn::Model* model, const ClusterOptions& opt) {
  std::string kernel = opt.model_noise_kernel;
  double scale = opt.model_noise_scale;
  if (model) {
    auto it = model->provenance.find("config");
    if (it != model->provenance.end()) {
      if (kernel.empty()) kernel = config_value(it->second, "train.noise_kernel");
      if (scale == 0) {
        const std::string v = config_value(it->second, "train.noise_scale");
        if (!v.empty()) scale = std::stod(v);
      }
    }
  }
  if (scale == 0) scale = 1;
  img::NoiseKernel k = kernel.empty() ? img::NoiseKernel::load(default_noise_kernel_path()) : img::NoiseKernel::load(kernel);
  return k.scaled(scale);
}

std::string ClusterSummary::json() const {
  std::ostringstream o;
  o << "{\"field\": \"" << json_escape(field) << "\", \"catalogue\": \"" << json_escape(catalogue_path)
    << "\", \"sources\": " << sources << ", \"kept\": " << kept << ", \"point_sources\": " << point_sources
    << ", \"cuts\": {";
  bool first = true;
  for (const auto& [k, v] : cuts) o << (first ? "" : ", ") << "\"" << k << "\": " << v, first = false;
  o << "}, \"psf_fwhm_arcsec\": " << json_number(psf_fwhm) << ", \"psf_stars\": " << psf_stars
    << ", \"noise\": {\"field_rms\": " << json_number(noise_rms) << ", \"model_rms\": " << json_number(model_noise_rms)
    << ", \"ratio\": " << json_number(noise_ratio) << ", \"patches\": " << noise_patches
    << ", \"background_mean\": " << json_number(background_mean)
    << ", \"warning\": " << (noise_warning ? "true" : "false") << "}, \"ran_sextractor\": "
    << (ran_sextractor ? "true" : "false") << ", \"sextractor_seconds\": " << json_number(sextractor_seconds)
    << ", \"seconds\": " << json_number(seconds);
  if (truth_matched > 0) {
    o << ", \"truth\": {\"matched\": " << truth_matched << ", \"rms\": {";
    bool f = true;
    for (const auto& [e, r] : truth_rms)
      o << (f ? "" : ", ") << "\"" << e << "\": {\"g1\": " << json_number(r.rms1) << ", \"g2\": " << json_number(r.rms2)
        << ", \"n\": " << r.n << "}",
          f = false;
    o << "}}";
  }
  o << ", \"outputs\": [";
  for (std::size_t i = 0; i < outputs.size(); ++i) o << (i ? ", " : "") << "\"" << json_escape(outputs[i]) << "\"";
  o << "], \"warnings\": [";
  for (std::size_t i = 0; i < warnings.size(); ++i) o << (i ? ", " : "") << "\"" << json_escape(warnings[i]) << "\"";
  o << "]}";
  return o.str();
}

ClusterSummary run_cluster_field(const FieldInputs& in, const ClusterOptions& opt, CnnEstimator* cnn,
                                 const std::string& out_dir) {
  const auto t0 = std::chrono::steady_clock::now();
  ClusterSummary S;
  S.field = in.display_name();
  if (opt.background != "masked" && opt.background != "global" && opt.background != "sextractor" &&
      opt.background != "none")
    throw Error::usage("cluster: --background must be masked, global, sextractor or none, not '" + opt.background + "'");
  for (const auto& e : opt.estimators)
    if (e != "cnn" && e != "rrg" && e != "ksb")
      throw Error::usage("cluster: unknown estimator '" + e + "' (known: cnn, rrg, ksb)");
  if (std::find(opt.estimators.begin(), opt.estimators.end(), "cnn") != opt.estimators.end())
    require(cnn != nullptr, "cluster: the CNN estimator needs a model");
  std::filesystem::create_directories(out_dir);
  const std::string base = out_dir + "/" + S.field;
  auto warn_now = [&](const std::string& w) {
    S.warnings.push_back(w);
    ds::warn(S.field + ": " + w);
  };

  // 1. The total image (eqs. 2-3) and its WCS.
  LoadedField field = load_field(in);
  const double scale = field.pixel_scale;

  // 2. Sources.
  SourceList src;
  ImageF seg, bkg;
  if (!in.catalogue.empty()) {
    src = SourceList::read(in.catalogue);
    S.catalogue_path = in.catalogue;
  } else {
    SExtractorOptions so = opt.sextractor;
    so.zero_point = opt.zero_point, so.pixel_scale = scale;
    if (opt.psf_fwhm > 0) so.seeing_fwhm = opt.psf_fwhm;
    const std::string work = opt.keep_work ? base + "_work" : out_dir + "/." + S.field + ".sextractor";
    auto r = run_sextractor(field.total.image, field.total.weight, so, work);
    if (!opt.keep_work) std::filesystem::remove_all(work);
    src = std::move(r.sources), seg = std::move(r.segmentation), bkg = std::move(r.background);
    S.ran_sextractor = true, S.sextractor_seconds = r.seconds;
    S.catalogue_path = r.command;
  }
  const long n = src.size();
  const std::size_t N = std::size_t(n);
  S.sources = n;
  std::vector<double> x = src.column("X_IMAGE"), y = src.column("Y_IMAGE");
  for (auto& v : x) v -= 1;  // SExtractor's pixels are 1-based
  for (auto& v : y) v -= 1;
  const std::vector<double>& mag = src.column("MAG_AUTO");
  std::vector<double> rh_px = src.column("FLUX_RADIUS"), rh(N), fwhm(N, NAN),
                      mu(N);
  for (long i = 0; i < n; ++i) rh[std::size_t(i)] = rh_px[std::size_t(i)] * scale;
  if (src.has("FWHM_IMAGE"))
    for (long i = 0; i < n; ++i) fwhm[std::size_t(i)] = src.column("FWHM_IMAGE")[std::size_t(i)] * scale;
  if (src.has("MU_MAX")) mu = src.column("MU_MAX");
  else
    for (long i = 0; i < n; ++i)
      mu[std::size_t(i)] = peak_surface_brightness(field.total.image, bkg, x[std::size_t(i)], y[std::size_t(i)],
                                                   opt.zero_point, scale);
  const std::vector<double> flags = src.has("FLAGS") ? src.column("FLAGS") : std::vector<double>();
  std::vector<long long> ids(static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) ids[std::size_t(i)] = src.has("NUMBER") ? std::llround(src.column("NUMBER")[std::size_t(i)]) : i + 1;

  // 3. Point sources and cuts.
  auto stars = select_point_sources(mag, rh, mu, opt.stars);
  S.point_sources = stars.stars;
  std::vector<double> exposure;
  auto cuts = source_cuts(field, x, y, flags, stars.star, opt.cuts, &exposure);
  const auto names = cut_names();
  for (std::size_t b = 0; b < names.size(); ++b) {
    long c = 0;
    for (auto v : cuts) c += (v >> b) & 1u;
    S.cuts[names[b]] = c;
  }
  std::vector<long> kept;
  for (long i = 0; i < n; ++i)
    if (cuts[std::size_t(i)] == 0) kept.push_back(i);
  S.kept = long(kept.size());
  const std::string star_plot = base + "_point_sources." + opt.picture_format;
  plot_point_sources(mag, rh, mu, stars, opt.stars, star_plot, S.field + ": point-source selection");
  S.outputs.push_back(star_plot);

  // 4. The background noise of the field, and the background under each source.
  if (opt.background == "sextractor" && !bkg.size())
    throw Error::usage("cluster: --background sextractor needs SExtractor's background (no catalogue given)");
  const ImageF* bmap = opt.background == "sextractor" ? &bkg : nullptr;
  auto mask = noise_mask(field, seg, x, y, rh_px, opt.mask_grow);
  double global_bg = 0;
  {
    ImageF sub(field.ny(), field.nx());
    // As in sec. 2.1.4: patches of the image minus SExtractor's background, off its segmentation.
    for (long k = 0; k < sub.size(); ++k)
      sub.data()[k] = field.total.image.data()[k] - (bkg.size() ? bkg.data()[k] : 0.0f);
    try {
      auto pc = img::background_covariance(sub.view(), mask.view(), opt.noise_step);
      auto kernel = img::kernel_from_covariance(pc.sigma);
      S.noise_rms = kernel.rms(), S.noise_patches = pc.patches;
      const std::string kpath = base + "_noise_kernel.txt";
      kernel.save_text(kpath, "background noise kernel of " + S.field + " from " + std::to_string(pc.patches) +
                                  " 7x7 patches (sec. 2.1.4); RMS " + json_number(S.noise_rms));
      S.outputs.push_back(kpath);
    } catch (const Error& e) {
      warn_now(std::string("no noise kernel: ") + e.what());
    }
    if (S.noise_rms > 0) {
      auto mk = model_noise_kernel(cnn ? &cnn->model() : nullptr, opt);
      S.model_noise_rms = mk.rms();
      S.noise_ratio = S.noise_rms / S.model_noise_rms;
      if (std::abs(S.noise_ratio - 1) > opt.noise_tolerance) {
        S.noise_warning = true;
        warn_now("the field's noise RMS " + json_number(S.noise_rms, 4) + " is " + json_number(S.noise_ratio, 3) +
                 " x the model's training noise " + json_number(S.model_noise_rms, 4) +
                 "; the CNN is trained for one noise level (see --model-noise-kernel, --noise-tolerance)");
      }
    }
  }
  // The field's background level: the median of its source-free pixels (every 3rd).
  {
    std::vector<float> v;
    for (long k = 0; k < field.total.image.size(); k += 3)
      if (!mask.data()[k]) v.push_back(field.total.image.data()[k]);
    if (!v.empty()) global_bg = middle_value(v);
  }
  std::vector<double> source_bg(N, 0.0);
  if (opt.background == "masked")
    for (std::size_t i = 0; i < N; ++i) {
      const double b = masked_box_median(field.total.image, mask, x[i], y[i], opt.background_box);
      source_bg[i] = std::isfinite(b) ? b : global_bg;
    }
  if (opt.background == "global") source_bg.assign(N, global_bg);
  {
    double sum = 0;
    long cnt = 0;
    if (bmap) {
      for (long k = 0; k < bkg.size(); ++k)
        if (!field.bad.data()[k]) sum += bkg.data()[k], ++cnt;
    } else {
      for (double b : source_bg) sum += b, ++cnt;
    }
    S.background_mean = cnt ? sum / double(cnt) : 0;
  }

  // 5. The PSF: given, or the median FWHM of the measurable point sources.
  const long side = opt.cuts.stamp;
  if (opt.psf_fwhm > 0) {
    S.psf_fwhm = opt.psf_fwhm;
  } else {
    std::vector<double> f;
    std::vector<float> buf(std::size_t(side * side));
    for (long i = 0; i < n; ++i) {
      if (!stars.star[std::size_t(i)] || (cuts[std::size_t(i)] & (kCutEdge | kCutBadPixel))) continue;
      cut_stamp(field.total.image, bmap, source_bg[std::size_t(i)], stamp_corner(x[std::size_t(i)], side),
                stamp_corner(y[std::size_t(i)], side), side, buf.data());
      auto am = img::adaptive_moments(ImageView<const float>(buf.data(), side, side), img::AdaptiveParams{});
      const double s2 = am.sigma * am.sigma - 1.0 / 12.0;
      if (am.ok() && s2 > 0) f.push_back(2.354820045 * std::sqrt(s2) * scale);
    }
    S.psf_stars = long(f.size());
    if (f.empty()) {
      S.psf_fwhm = opt.psf_fwhm_fallback;
      warn_now("no measurable point source; RRG uses a Gaussian PSF of FWHM " + json_number(S.psf_fwhm) + "\"");
    } else {
      S.psf_fwhm = median(f);
    }
  }

  // 6. Stamps and the estimators on the same stamps.
  const long m = long(kept.size());
  Tensor stamps({std::max(1L, m), side, side});
  for (long j = 0; j < m; ++j) {
    const long i = kept[std::size_t(j)];
    cut_stamp(field.total.image, bmap, source_bg[std::size_t(i)], stamp_corner(x[std::size_t(i)], side),
              stamp_corner(y[std::size_t(i)], side), side, stamps.data() + j * side * side);
  }
  std::map<std::string, std::vector<ShearEstimate>> results;
  std::vector<double> kept_mag(static_cast<std::size_t>(m));  // for calibrations in magnitude
  for (long j = 0; j < m; ++j) kept_mag[std::size_t(j)] = mag[std::size_t(kept[std::size_t(j)])];
  const auto psf = StampPsf::gaussian(S.psf_fwhm, scale);
  for (const auto& e : opt.estimators) {
    std::vector<ShearEstimate> g;
    if (m > 0) {
      Tensor t = stamps;
      if (e == "cnn") g = cnn->estimate(t);
      if (e == "rrg") {
        RrgOptions ro;
        g = rrg_estimate(t, psf.moments, ro);
      }
      if (e == "ksb") g = ksb_estimate(t, psf.image.view());
      auto cal_file = opt.calibrations.find(e);
      if (cal_file != opt.calibrations.end() && !cal_file->second.empty()) {
        const std::string& path = cal_file->second;
        if (BinnedCalibration::is_binned_file(path)) {
          auto cal = BinnedCalibration::load(path);
          require(cal.quantity == "magnitude", path + ": key quantity: the cluster pipeline applies calibrations in "
                                                      "magnitude, not '" + cal.quantity + "'");
          calibrate(g, cal, kept_mag);
        } else {
          calibrate(g, Calibration::load(path));
        }
      }
      g.resize(std::size_t(m));
    }
    for (auto& v : g) pixel_to_sky_shear(field.wcs, v.g1, v.g2);
    results[e] = g;
  }

  // With a truth table (simulations): RMS error of each estimator.
  const std::string truth_path = in.truth.empty() ? opt.truth : in.truth;
  if (!truth_path.empty()) {
    fits::FitsFile tf(truth_path);
    tf.hdu(1);
    const auto tx = tf.read_column("X"), ty = tf.read_column("Y"), tg1 = tf.read_column("G1"), tg2 = tf.read_column("G2");
    const auto tk = tf.has_column("KIND") ? tf.read_column("KIND") : std::vector<double>(tx.size(), 0.0);
    std::vector<long> match(std::size_t(m), -1);
    for (long j = 0; j < m; ++j) {
      const auto i = std::size_t(kept[std::size_t(j)]);
      double best = 4.0;  // (2 px)^2
      for (std::size_t t = 0; t < tx.size(); ++t) {
        const double r2 = (tx[t] - x[i]) * (tx[t] - x[i]) + (ty[t] - y[i]) * (ty[t] - y[i]);
        if (r2 < best) best = r2, match[std::size_t(j)] = long(t);
      }
      if (match[std::size_t(j)] >= 0 && tk[std::size_t(match[std::size_t(j)])] != 0) match[std::size_t(j)] = -1;
    }
    for (long j = 0; j < m; ++j) S.truth_matched += match[std::size_t(j)] >= 0;
    for (const auto& e : opt.estimators) {
      ClusterSummary::Rms r;
      for (long j = 0; j < m; ++j) {
        const long t = match[std::size_t(j)];
        const auto& v = results[e][std::size_t(j)];
        if (t < 0 || v.flags) continue;
        double g1 = tg1[std::size_t(t)], g2 = tg2[std::size_t(t)];
        pixel_to_sky_shear(field.wcs, g1, g2);
        r.rms1 += (v.g1 - g1) * (v.g1 - g1), r.rms2 += (v.g2 - g2) * (v.g2 - g2), ++r.n;
      }
      if (r.n) r.rms1 = std::sqrt(r.rms1 / double(r.n)), r.rms2 = std::sqrt(r.rms2 / double(r.n));
      S.truth_rms[e] = r;
    }
  }

  // 7. The catalogue: every source, cut ones flagged.
  std::vector<double> ra(N), dec(N);
  for (long i = 0; i < n; ++i) field.wcs.pixel_to_world(x[std::size_t(i)], y[std::size_t(i)], ra[std::size_t(i)], dec[std::size_t(i)]);
  std::vector<std::int32_t> cut_col(N), star_col(N), sexf(N);
  std::vector<std::string> reason(N);
  for (long i = 0; i < n; ++i) {
    cut_col[std::size_t(i)] = std::int32_t(cuts[std::size_t(i)]);
    star_col[std::size_t(i)] = stars.star[std::size_t(i)];
    sexf[std::size_t(i)] = flags.empty() ? 0 : std::int32_t(std::llround(flags[std::size_t(i)]));
    reason[std::size_t(i)] = cuts[std::size_t(i)] ? describe_cuts(cuts[std::size_t(i)]) : "kept";
  }
  std::vector<fits::TableColumn> cols = {
      fits::TableColumn::int64s("ID", std::vector<std::int64_t>(ids.begin(), ids.end())),
      fits::TableColumn::doubles("X", x, 1, "pixel"),
      fits::TableColumn::doubles("Y", y, 1, "pixel"),
      fits::TableColumn::doubles("RA", ra, 1, "deg"),
      fits::TableColumn::doubles("DEC", dec, 1, "deg"),
      fits::TableColumn::doubles("MAG", mag, 1, "mag"),
      fits::TableColumn::doubles("MU_MAX", mu, 1, "mag/arcsec**2"),
      fits::TableColumn::doubles("R_HALF", rh, 1, "arcsec"),
      fits::TableColumn::doubles("FWHM", fwhm, 1, "arcsec"),
      fits::TableColumn::doubles("EXPOSURE", exposure, 1, "ADU**-2"),
      fits::TableColumn::int32s("SEX_FLAGS", sexf),
      fits::TableColumn::int32s("STAR", star_col),
      fits::TableColumn::int32s("CUT", cut_col),
      fits::TableColumn::strings("CUT_REASON", reason)};
  for (const auto& e : opt.estimators) {
    std::vector<double> g1(N, 0), g2(N, 0);
    std::vector<std::int32_t> fl(N, std::int32_t(kFlagCut));
    const auto& r = results[e];
    for (long j = 0; j < m; ++j) {
      const std::size_t i = std::size_t(kept[std::size_t(j)]);
      g1[i] = r[std::size_t(j)].g1, g2[i] = r[std::size_t(j)].g2, fl[i] = std::int32_t(r[std::size_t(j)].flags);
    }
    cols.push_back(fits::TableColumn::doubles("G1_" + upper(e), g1));
    cols.push_back(fits::TableColumn::doubles("G2_" + upper(e), g2));
    cols.push_back(fits::TableColumn::int32s("FLAGS_" + upper(e), fl));
  }
  const std::string cat = base + "_shear.fits";
  {
    fits::FitsWriter w(cat);
    w.write_table(cols, "SHEAR");
    w.write_key("FIELD", S.field, "field name");
    w.write_key("IMAGE", in.images[0], "first science image");
    w.write_key("NFILTER", (long long)in.images.size(), "filter images in the total image (eq. 2)");
    w.write_key("PIXSCALE", scale, "arcsec / pixel (WCS)");
    w.write_key("ZEROPNT", opt.zero_point, "magnitude zero point");
    w.write_key("PSF_FWHM", S.psf_fwhm, "Gaussian PSF FWHM of RRG [arcsec]");
    w.write_key("NOISERMS", S.noise_rms, "background noise RMS of the field");
    w.write_key("ESTIMATR", [&] {
      std::string s;
      for (const auto& e : opt.estimators) s += (s.empty() ? "" : ",") + e;
      return s;
    }());
    for (const auto& e : opt.estimators) {
      auto c = opt.calibrations.find(e);
      if (c != opt.calibrations.end() && !c->second.empty())
        w.write_key("CAL_" + upper(e), std::filesystem::path(c->second).filename().string(), "calibration applied");
    }
    w.write_key("SHEARFRM", "SKY", "G1/G2: x = east, y = north on the tangent plane");
    w.write_key("XYORIGIN", 0LL, "X, Y are 0-based pixel centres (SExtractor's minus 1)");
    w.write_key("KEPT", (long long)S.kept, "sources passing every cut (CUT = 0)");
    w.commit();
  }
  S.outputs.insert(S.outputs.begin(), cat);
  S.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::string sj = base + "_summary.json";
  S.outputs.push_back(sj);
  write_text_atomic(sj, S.json() + "\n");
  return S;
}

}  // namespace ds::lens
