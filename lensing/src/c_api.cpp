// The C API (deepshear/deepshear.h) over the estimator interface: every
// exception becomes a return value and the thread's last error.
#include "deepshear/deepshear.h"

#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "deepshear/engine/build_info.hpp"
#include "deepshear/engine/data_path.hpp"
#include "deepshear/engine/error.hpp"
#include "deepshear/engine/parallel.hpp"
#include "deepshear/lensing/estimators/estimator.hpp"
#include "deepshear/nn/model_file.hpp"

struct ds_model {
  std::string path;
  std::shared_ptr<const ds::nn::Model> model;
};

struct ds_estimator {
  ds::lens::EstimatorSetup setup;
  std::string name;
  std::unique_ptr<ds::lens::EstimatorSet> set;  // set up once; each ds_estimate restarts its population
};

namespace {

thread_local std::string last_error;

// Runs f, turning any exception into `failed` and the last error.
template <class F, class R>
R guarded(F&& f, R failed) {
  try {
    last_error.clear();
    return f();
  } catch (const std::exception& e) {
    last_error = e.what();
  } catch (...) {
    last_error = "unknown error";
  }
  return failed;
}

}  // namespace

extern "C" {

const char* ds_version(void) {
  static const std::string version = ds::build_info().version;
  return version.c_str();
}
const char* ds_last_error(void) { return last_error.c_str(); }
void ds_set_threads(int n) { ds::set_threads(n); }

ds_model* ds_model_load(const char* path) {
  return guarded([&] {
    auto m = std::make_unique<ds_model>();
    m->path = path && *path ? path : ds::data_path("model_default.dsm");
    m->model = std::make_shared<const ds::nn::Model>(ds::nn::load_model(m->path));
    return m.release();
  }, static_cast<ds_model*>(nullptr));
}

void ds_model_free(ds_model* model) { delete model; }

long ds_model_stamp_size(const ds_model* model) { return model ? model->model->net.arch().in_h : 0; }

ds_estimator* ds_estimator_new(const char* name, const ds_model* model, double psf_fwhm, double pixel_scale,
                               int symmetrise) {
  return guarded([&] {
    ds::require(name != nullptr, "ds_estimator_new: no estimator name");
    auto e = std::make_unique<ds_estimator>();
    e->name = name;
    e->setup.psf_fwhm = psf_fwhm, e->setup.pixel_scale = pixel_scale, e->setup.symmetrise = symmetrise != 0;
    if (model) e->setup.model = model->model, e->setup.model_path = model->path;
    e->set = std::make_unique<ds::lens::EstimatorSet>(std::vector<std::string>{e->name}, e->setup,
                                                      "ds_estimator_new");  // errors now, not at the first estimate
    return e.release();
  }, static_cast<ds_estimator*>(nullptr));
}

void ds_estimator_free(ds_estimator* estimator) { delete estimator; }

int ds_estimate(ds_estimator* estimator, const float* stamps, long n, long ny, long nx, double* g1, double* g2,
                uint32_t* flags) {
  return guarded([&] {
    ds::require(estimator != nullptr, "ds_estimate: no estimator (ds_estimator_new failed?)");
    ds::require(stamps != nullptr || n == 0, "ds_estimate: no stamps");
    estimator->set->set_psf(estimator->setup.psf_fwhm, estimator->setup.pixel_scale);  // a new population
    const auto results = ds::lens::estimate_stamps(*estimator->set, stamps, n, ny, nx);
    const auto& est = results.at(estimator->name).estimates;
    for (long i = 0; i < n; ++i) {
      if (g1) g1[i] = est[std::size_t(i)].g1;
      if (g2) g2[i] = est[std::size_t(i)].g2;
      if (flags) flags[i] = est[std::size_t(i)].flags;
    }
    return 0;
  }, -1);
}

}  // extern "C"
