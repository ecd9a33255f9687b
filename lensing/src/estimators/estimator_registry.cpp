#include <algorithm>

#include "deepshear/engine/error.hpp"
#include "deepshear/engine/progress.hpp"
#include "deepshear/lensing/estimators/estimator.hpp"
#include "deepshear/lensing/estimators/metacal.hpp"

namespace ds::lens {

// The registry: one line per estimator.
// One line per estimator; each base estimator also gets its metacal kind.
static std::vector<EstimatorKind> builtin_estimators() {
  std::vector<EstimatorKind> k = {cnn_estimator_kind(), rrg_estimator_kind(), ksb_estimator_kind()};
  for (std::size_t i = 0, n = k.size(); i < n; ++i) k.push_back(metacal_estimator_kind(k[i]));
  return k;
}

const std::vector<EstimatorKind>& estimator_kinds() {
  static const std::vector<EstimatorKind> kinds = builtin_estimators();
  return kinds;
}

std::string known_estimators() {
  std::string s;
  for (const auto& k : estimator_kinds()) s += (s.empty() ? "" : ", ") + k.name;
  return s;
}

const EstimatorKind& estimator_kind(const std::string& name, const std::string& context) {
  for (const auto& k : estimator_kinds())
    if (k.name == name) return k;
  throw Error::usage(context + ": unknown estimator '" + name + "' (known: " + known_estimators() + ")");
}

void check_estimator_names(const std::vector<std::string>& names, const std::string& context) {
  if (names.empty()) throw Error::usage(context + ": no estimator given (known: " + known_estimators() + ")");
  for (std::size_t i = 0; i < names.size(); ++i) {
    estimator_kind(names[i], context);
    if (std::find(names.begin(), names.begin() + long(i), names[i]) != names.begin() + long(i))
      throw Error::usage(context + ": estimator '" + names[i] + "' given twice");
  }
}

std::unique_ptr<ShearEstimator> make_estimator(const std::string& name, const EstimatorSetup& setup,
                                               const std::string& context) {
  const auto& kind = estimator_kind(name, context);
  if (kind.needs.model && !setup.model && setup.model_path.empty())
    throw Error::usage(context + ": the " + name + " estimator needs a model (--model MODEL)");
  return kind.make(setup);
}

EstimatorSet::EstimatorSet(const std::vector<std::string>& names, const EstimatorSetup& setup,
                           const std::string& context)
    : names_(names) {
  check_estimator_names(names, context);
  for (const auto& n : names) estimators_.push_back(make_estimator(n, setup, context));
}

bool EstimatorSet::has(const std::string& name) const {
  return std::find(names_.begin(), names_.end(), name) != names_.end();
}

ShearEstimator& EstimatorSet::operator[](const std::string& name) {
  for (std::size_t i = 0; i < names_.size(); ++i)
    if (names_[i] == name) return *estimators_[i];
  throw Error("estimators: '" + name + "' is not among those set up");
}

std::map<std::string, EstimateBatch> EstimatorSet::estimate(const Tensor& stamps) {
  std::map<std::string, EstimateBatch> out;
  for (std::size_t i = 0; i < names_.size(); ++i) out[names_[i]] = estimators_[i]->estimate(stamps);
  return out;
}

void EstimatorSet::estimate_into(const Tensor& stamps, std::map<std::string, EstimateBatch>& out) {
  for (std::size_t i = 0; i < names_.size(); ++i) append_batch(out[names_[i]], estimators_[i]->estimate(stamps));
}

void EstimatorSet::set_psf(double fwhm, double pixel_scale) {
  for (auto& e : estimators_) e->set_psf(fwhm, pixel_scale);
}

bool EstimatorSet::settled() const {
  return std::all_of(estimators_.begin(), estimators_.end(), [](const auto& e) { return e->settled(); });
}

void append_batch(EstimateBatch& a, const EstimateBatch& b) {
  const std::size_t before = a.estimates.size();
  a.estimates.insert(a.estimates.end(), b.estimates.begin(), b.estimates.end());
  for (const auto& column : b.extra) {
    const std::string& name = column.first;
    auto it = std::find_if(a.extra.begin(), a.extra.end(), [&](const auto& c) { return c.first == name; });
    if (it == a.extra.end()) it = a.extra.insert(a.extra.end(), {name, std::vector<double>(before, 0.0)});
    it->second.insert(it->second.end(), column.second.begin(), column.second.end());
  }
}

void estimate_chunk_into(EstimatorSet& set, const Tensor& stamps, const std::map<std::string, Calibration>& calibrations,
                         std::map<std::string, EstimateBatch>& results) {
  for (auto& [name, batch] : set.estimate(stamps)) {
    if (auto c = calibrations.find(name); c != calibrations.end()) calibrate(batch.estimates, c->second);
    append_batch(results[name], batch);
  }
}

std::map<std::string, EstimateBatch> estimate_stamps(EstimatorSet& set, const float* stamps, long n, long ny, long nx,
                                                     const std::map<std::string, Calibration>& calibrations,
                                                     Progress* progress) {
  require(n >= 0 && ny > 0 && nx > 0, "estimate: stamps (" + std::to_string(n) + ", " + std::to_string(ny) + ", " +
                                          std::to_string(nx) + ") have no pixels");
  std::map<std::string, EstimateBatch> results;
  for (const auto& name : set.names()) results[name];
  for (long first = 0; first < n; first += kEstimateChunk) {
    const long m = std::min(kEstimateChunk, n - first);
    estimate_chunk_into(set, Tensor::borrow(stamps + first * ny * nx, {m, ny, nx}), calibrations, results);
    if (progress) progress->tick(m);
  }
  return results;
}

}  // namespace ds::lens
