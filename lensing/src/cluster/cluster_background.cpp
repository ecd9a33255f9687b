// Stage 4 of a cluster field: the source mask, the field's background noise
// kernel against the model's, and the background under each stamp.
#include <cmath>
#include <limits>

#include "cluster_stages.hpp"
#include "deepshear/engine/config.hpp"
#include "deepshear/engine/error.hpp"
#include "deepshear/engine/stats.hpp"
#include "deepshear/lensing/training/stamp_set.hpp"
#include "deepshear/nn/model_file.hpp"

namespace ds::lens {

img::NoiseKernel model_noise_kernel(const nn::Model* model, const ClusterOptions& opt) {
  std::string kernel = opt.model_noise_kernel;
  double scale = opt.model_noise_scale;
  std::string trained;  // the model's training configuration (a Config::dump), when it records one
  if (model && model->provenance.count("config")) trained = model->provenance.at("config");
  for (const auto& l : Config::parse_lines(trained, "model provenance")) {
    if (l.key == "train.noise_kernel" && kernel.empty()) kernel = l.value;
    if (l.key == "train.noise_scale" && scale == 0 && !l.value.empty()) {
      char* end = nullptr;
      scale = std::strtod(l.value.c_str(), &end);
      if (*end || !(scale >= 0) || !std::isfinite(scale))
        throw Error("model provenance: train.noise_scale '" + l.value + "' is not a scale >= 0 (" + l.where + ")");
    }
  }
  if (scale == 0) scale = 1;
  img::NoiseKernel k = kernel.empty() ? img::NoiseKernel::load(default_noise_kernel_path()) : img::NoiseKernel::load(kernel);
  return k.scaled(scale);
}

namespace cluster_stage {

namespace {

// Discs of radius max(5, 4 r_half) px around the sources (ny x nx).
img::Mask source_discs(long ny, long nx, const FieldSources& src) {
  img::Mask m(ny, nx, 0);
  for (std::size_t i = 0; i < src.x.size(); ++i) {
    const double r = std::max(5.0, 4 * src.rh_px[i]), x = src.x[i], y = src.y[i];
    if (!std::isfinite(r) || !std::isfinite(x) || !std::isfinite(y)) continue;
    for (long yy = std::max(0L, long(y - r)); yy <= std::min(ny - 1, long(y + r)); ++yy)
      for (long xx = std::max(0L, long(x - r)); xx <= std::min(nx - 1, long(x + r)); ++xx)
        if ((xx - x) * (xx - x) + (yy - y) * (yy - y) <= r * r) m(yy, xx) = 1;
  }
  return m;
}

// Median of the unmasked pixels in a box of side `box` centred on (x, y) (the
// median resists the wings of faint galaxies better than the mean); NaN when
// fewer than box^2 / 8 are unmasked.
double masked_box_median(const ImageF& image, const img::Mask& mask, double x, double y, long box) {
  const long x0 = std::max(0L, std::lround(x) - box / 2), y0 = std::max(0L, std::lround(y) - box / 2);
  const long x1 = std::min(image.nx(), x0 + box), y1 = std::min(image.ny(), y0 + box);
  std::vector<float> v;
  v.reserve(std::size_t(box * box));
  for (long yy = y0; yy < y1; ++yy)
    for (long xx = x0; xx < x1; ++xx)
      if (!mask(yy, xx)) v.push_back(image(yy, xx));
  if (long(v.size()) * 8 < box * box) return std::numeric_limits<double>::quiet_NaN();
  return upper_middle(v);
}

// The field's background level: the median of its source-free pixels (every 3rd); 0 when none.
double global_background(const ImageF& image, const img::Mask& mask) {
  std::vector<float> v;
  for (long k = 0; k < image.size(); k += 3)
    if (!mask.data()[k]) v.push_back(image.data()[k]);
  return v.empty() ? 0.0 : upper_middle(v);
}

// The field's noise kernel from patches of image - SExtractor's background
// (as in sec. 2.1.4), written beside the catalogue.
void field_noise_kernel(const LoadedField& field, const FieldSources& src, const img::Mask& mask,
                        const ClusterOptions& opt, const std::string& base, ClusterSummary& S) {
  ImageF sub(field.ny(), field.nx());
  const ImageF& bkg = src.background;
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
    S.warn(std::string("no noise kernel: ") + e.what());
  }
}

}  // namespace

img::Mask source_mask(const LoadedField& field, const FieldSources& src, long grow) {
  img::Mask m;
  if (src.segmentation.size()) {
    img::Mask seg(field.ny(), field.nx(), 0);
    for (long k = 0; k < seg.size(); ++k) seg.data()[k] = src.segmentation.data()[k] > 0;
    m = img::grow_mask(seg, grow);
  } else {
    m = source_discs(field.ny(), field.nx(), src);
  }
  for (long k = 0; k < m.size(); ++k)
    if (field.bad.data()[k]) m.data()[k] = 1;
  return m;
}

void measure_noise(const LoadedField& field, const FieldSources& src, const img::Mask& mask,
                   const ClusterOptions& opt, const nn::Model* model, const std::string& base, ClusterSummary& S) {
  field_noise_kernel(field, src, mask, opt, base, S);
  if (S.noise_rms <= 0) return;
  S.model_noise_rms = model_noise_kernel(model, opt).rms();
  S.noise_ratio = S.noise_rms / S.model_noise_rms;
  if (std::abs(S.noise_ratio - 1) > opt.noise_tolerance) {
    S.noise_warning = true;
    S.warn("the field's noise RMS " + json_number(S.noise_rms, 4) + " is " + json_number(S.noise_ratio, 3) +
           " x the model's training noise " + json_number(S.model_noise_rms, 4) +
           "; the CNN is trained for one noise level (see --model-noise-kernel, --noise-tolerance)");
  }
}

StampBackground stamp_background(const LoadedField& field, const FieldSources& src, const img::Mask& mask,
                                 const ClusterOptions& opt, ClusterSummary& S) {
  StampBackground b;
  const auto n = std::size_t(src.size());
  b.level.assign(n, 0.0);
  double sum = 0;
  long count = 0;
  if (opt.background == "sextractor") {
    b.map = &src.background;
    for (long k = 0; k < b.map->size(); ++k)
      if (!field.bad.data()[k]) sum += b.map->data()[k], ++count;
  } else {
    const double global = global_background(field.total.image, mask);
    for (std::size_t i = 0; i < n; ++i) {
      if (opt.background == "global") b.level[i] = global;
      if (opt.background != "masked") continue;
      const double m = masked_box_median(field.total.image, mask, src.x[i], src.y[i], opt.background_box);
      b.level[i] = std::isfinite(m) ? m : global;
    }
    for (double v : b.level) sum += v, ++count;
  }
  S.background_mean = count ? sum / double(count) : 0;
  return b;
}

}  // namespace cluster_stage
}  // namespace ds::lens
