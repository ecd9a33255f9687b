#include "deepshear/lensing/estimators/cnn.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "deepshear/engine/config.hpp"
#include "deepshear/engine/error.hpp"
#include "deepshear/lensing/shear.hpp"

namespace ds::lens {

TrainedSetup model_training_setup(const nn::Model& model) {
  TrainedSetup s;
  auto it = model.provenance.find("config");
  if (it == model.provenance.end()) return s;
  for (const auto& l : Config::parse_lines(it->second, "model provenance")) {
    char* end = nullptr;
    const double v = std::strtod(l.value.c_str(), &end);
    if (end == l.value.c_str() || *end) continue;
    if (l.key == "train.psf_fwhm") s.psf_fwhm = v;
    if (l.key == "train.pixel_scale") s.pixel_scale = v;
  }
  return s;
}

std::string check_model_setup(const nn::Model& model, const std::string& path, double psf_fwhm, double pixel_scale,
                              bool allow, double tolerance) {
  const TrainedSetup t = model_training_setup(model);
  std::string diff;
  auto compare = [&](const char* what, double used, double trained) {
    if (trained > 0 && std::abs(used / trained - 1) > tolerance) {
      char buf[200];
      std::snprintf(buf, sizeof buf, "%s%s %.4g arcsec, the model was trained at %.4g", diff.empty() ? "" : "; ",
                    what, used, trained);
      diff += buf;
    }
  };
  compare("PSF FWHM", psf_fwhm, t.psf_fwhm);
  compare("pixel scale", pixel_scale, t.pixel_scale);
  if (diff.empty()) return "";
  if (!allow) throw Error::usage(path + ": " + diff + " (--allow-mismatch to go on)");
  return path + ": " + diff;
}

void unmap_shear(int t, float* g) {
  Complex back = undo_dihedral({g[0], g[1]}, Dihedral::from_index(t));
  g[0] = float(back.real());
  g[1] = float(back.imag());
}

CnnEstimator::CnnEstimator(nn::Model model, bool symmetrise, bool calibrate)
    : model_(std::make_unique<nn::Model>(std::move(model))), symmetrise_(symmetrise), calibrate_(calibrate) {
  const auto& a = model_->net.arch();
  require(a.in_h == a.in_w && a.in_h > 0 && a.in_c == 1 && a.outputs() == 2,
          "CNN: the model reads " + std::to_string(a.in_h) + "x" + std::to_string(a.in_w) + "x" +
              std::to_string(a.in_c) + " and gives " + std::to_string(a.outputs()) +
              " outputs; a shear model reads square one-channel stamps and gives (g1, g2)");
  predictor_ = std::make_unique<nn::Predictor>(model_->net);
}

CnnEstimator CnnEstimator::load(const std::string& path, bool symmetrise, bool calibrate) {
  return CnnEstimator(nn::load_model(path), symmetrise, calibrate);
}

std::vector<ShearEstimate> CnnEstimator::estimate(const Tensor& stamps) {
  require(stamps.rank() == 3, "CNN: stamps must be (n, ny, nx), got " + Tensor::shape_string(stamps.shape()));
  const long n = stamps.dim(0), m = stamps.dim(1) * stamps.dim(2);
  require(m == model_->net.arch().input_size(), "CNN: stamps of " + std::to_string(stamps.dim(1)) + "x" +
                                            std::to_string(stamps.dim(2)) + " do not fit the model's input of " +
                                            std::to_string(model_->net.arch().input_size()) + " values");
  std::vector<ShearEstimate> out(static_cast<std::size_t>(n));
  // Screen the stamps: non-finite pixels or a flat stamp give a flagged zero.
  Tensor clean(stamps.shape());
  for (long i = 0; i < n; ++i) {
    const float* s = stamps.data() + i * m;
    float* c = clean.data() + i * m;
    bool finite = true;
    float lo = s[0], hi = s[0];
    for (long k = 0; k < m; ++k) {
      finite = finite && std::isfinite(s[k]);
      lo = std::min(lo, s[k]), hi = std::max(hi, s[k]);
      c[k] = s[k];
    }
    if (!finite) {
      out[std::size_t(i)].flags |= kFlagNonFinite;
      for (long k = 0; k < m; ++k) c[k] = 0;
    } else if (!(hi > lo)) {
      out[std::size_t(i)].flags |= kFlagBlank;
    }
  }
  const long k = model_->net.arch().outputs();
  require(k >= 2, "CNN: the model has " + std::to_string(k) + " outputs; a shear model needs 2");
  std::vector<float> y(static_cast<std::size_t>(n * k));
  if (symmetrise_) {
    require(stamps.dim(1) == stamps.dim(2), "CNN: symmetrisation needs square stamps");
    predictor_->predict_symmetrised(clean.data(), n, y.data(), unmap_shear, model_->norm);
  } else {
    predictor_->predict(clean.data(), n, y.data(), model_->norm);
  }
  if (calibrate_) model_->calibrate(y.data(), n);
  for (long i = 0; i < n; ++i) {
    auto& o = out[std::size_t(i)];
    if (o.flags) continue;
    o.g1 = y[std::size_t(i * k)];
    o.g2 = y[std::size_t(i * k + 1)];
    if (!std::isfinite(o.g1) || !std::isfinite(o.g2)) o.g1 = o.g2 = 0, o.flags |= kFlagNonFinite;
  }
  return out;
}

}  // namespace ds::lens

// ---------------------------------------------------------------- registry entry
#include "deepshear/lensing/estimators/estimator.hpp"

namespace ds::lens {
namespace {

class CnnShear : public ShearEstimator {
 public:
  explicit CnnShear(const EstimatorSetup& s)
      : cnn_(s.model ? nn::Model(*s.model) : nn::load_model(s.model_path), s.symmetrise, s.model_calibration),
        path_(s.model_path) {
    const auto& arch = cnn_.model().net.arch();
    const std::string where = path_.empty() ? std::string("CNN model") : path_;
    require(arch.in_h == arch.in_w && arch.in_c == 1, where + ": the model does not read square 1-channel stamps");
    require(arch.outputs() == 2, where + ": the model has " + std::to_string(arch.outputs()) +
                                     " outputs; shear estimation needs 2 (g1, g2)");
  }
  std::string name() const override { return "cnn"; }
  EstimateBatch estimate(const Tensor& stamps) override { return {cnn_.estimate(stamps), {}}; }
  std::vector<std::array<std::string, 3>> header_cards() const override {
    std::vector<std::array<std::string, 3>> c;
    if (!path_.empty()) c.push_back({"MODEL", path_, "model file"});
    c.push_back({"SYMMETR", cnn_.symmetrise() ? "T" : "F", "8-fold symmetrised (eq. 14)"});
    c.push_back({"CALIBR", cnn_.calibrate() && !cnn_.model().cal_c.empty() ? "T" : "F", "(g - c) / (1 + m) applied"});
    return c;
  }

 private:
  CnnEstimator cnn_;
  std::string path_;
};

}  // namespace

EstimatorKind cnn_estimator_kind() {
  EstimatorKind k;
  k.name = "cnn";
  k.description = "the trained CNN (8-fold symmetrised, the model's calibration)";
  k.needs.model = true;
  k.make = [](const EstimatorSetup& s) { return std::make_unique<CnnShear>(s); };
  return k;
}

}  // namespace ds::lens
