// deepshear._core.Model and ._core.Estimators: a loaded model, and the
// estimators set up once and run on numpy stamps (read in place).
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <pybind11/stl.h>

#include "arrays.hpp"
#include "call.hpp"
#include "deepshear/engine/data_path.hpp"
#include "deepshear/engine/log.hpp"
#include "deepshear/engine/progress.hpp"
#include "deepshear/lensing/estimators/cnn.hpp"
#include "deepshear/lensing/estimators/estimator.hpp"
#include "deepshear/lensing/shear_catalogue.hpp"
#include "deepshear/nn/model_file.hpp"

namespace ds::py {

namespace {

namespace pyb = pybind11;

struct PyModel {
  std::string path;
  std::shared_ptr<const nn::Model> model;
  explicit PyModel(std::string p) : path(p.empty() ? data_path("model_default.dsm") : std::move(p)) {
    model = std::make_shared<const nn::Model>(nn::load_model(path));
  }
  pyb::tuple stamp_shape() const { return pyb::make_tuple(model->net.arch().in_h, model->net.arch().in_w); }
  pyb::dict trained_setup() const {
    const auto t = lens::model_training_setup(*model);
    pyb::dict d;
    d["psf_fwhm"] = t.psf_fwhm, d["pixel_scale"] = t.pixel_scale;
    return d;
  }
};

// The estimators of one set-up, made once. Each call is one population:
// set_psf() restarts it (RRG's susceptibility comes from the first chunk of
// each call). One call at a time per object (the GIL is released).
struct PyEstimators {
  std::vector<std::string> names;
  lens::EstimatorSetup setup;
  std::shared_ptr<PyModel> model;
  std::unique_ptr<lens::EstimatorSet> set;
  std::unique_ptr<std::mutex> busy = std::make_unique<std::mutex>();

  // Stamps (N, ny, nx) -> the estimate table's columns as a dict of arrays.
  pyb::dict estimate(const pyb::handle& stamps, int threads, bool progress) const {
    const std::string expected = model ? "(N, " + std::to_string(model->model->net.arch().in_h) + ", " +
                                             std::to_string(model->model->net.arch().in_w) + ") or (ny, nx)"
                                       : "(N, ny, nx) or (ny, nx)";
    const StampArray s = stamp_array(stamps, "deepshear.estimate: stamps", expected);
    if (model && (s.ny != model->model->net.arch().in_h || s.nx != model->model->net.arch().in_w))
      throw pyb::value_error("deepshear.estimate: stamps of " + std::to_string(s.ny) + " x " + std::to_string(s.nx) +
                             " px; the model reads shape " + expected);
    auto cols = released(threads, progress, [&] {
      std::lock_guard<std::mutex> lock(*busy);
      set->set_psf(setup.psf_fwhm, setup.pixel_scale);
      Progress p("estimate", s.n, "stamps");
      auto results = lens::estimate_stamps(*set, s.data, s.n, s.ny, s.nx, {}, &p);
      p.finish();
      return lens::catalogue::estimate_table(names, results);
    });
    return table_dict(cols);
  }
};

std::shared_ptr<PyEstimators> make_estimators(std::vector<std::string> names, std::shared_ptr<PyModel> model,
                                              double psf_fwhm, double pixel_scale, bool symmetrise, bool calibration,
                                              bool allow_mismatch) {
  lens::check_estimator_names(names, "deepshear.estimate: estimators");
  auto e = std::make_shared<PyEstimators>();
  e->names = names;
  e->setup.psf_fwhm = psf_fwhm, e->setup.pixel_scale = pixel_scale;
  e->setup.symmetrise = symmetrise, e->setup.model_calibration = calibration;
  for (const auto& n : names)
    if (lens::estimator_kind(n).needs.model && !model) model = std::make_shared<PyModel>("");
  if (model) {
    e->model = model;
    e->setup.model = model->model, e->setup.model_path = model->path;
    const std::string w = lens::check_model_setup(*model->model, model->path, psf_fwhm, pixel_scale, allow_mismatch);
    if (!w.empty()) warn("deepshear.estimate: " + w);
  }
  e->set = std::make_unique<lens::EstimatorSet>(names, e->setup, "deepshear.estimate");  // errors before any stamps
  return e;
}

}  // namespace

void bind_estimate(pyb::module_& m) {
  pyb::class_<PyModel, std::shared_ptr<PyModel>>(m, "Model")
      .def(pyb::init<std::string>(), pyb::arg("path") = "")
      .def_readonly("path", &PyModel::path)
      .def_property_readonly("stamp_shape", &PyModel::stamp_shape)
      .def_property_readonly("trained_setup", &PyModel::trained_setup)
      .def_property_readonly("provenance", [](const PyModel& p) { return p.model->provenance; });
  pyb::class_<PyEstimators, std::shared_ptr<PyEstimators>>(m, "Estimators")
      .def(pyb::init(&make_estimators), pyb::arg("names"), pyb::arg("model"), pyb::arg("psf_fwhm"),
           pyb::arg("pixel_scale"), pyb::arg("symmetrise"), pyb::arg("calibration"), pyb::arg("allow_mismatch"))
      .def_readonly("names", &PyEstimators::names)
      .def("estimate", &PyEstimators::estimate, pyb::arg("stamps"), pyb::arg("threads"), pyb::arg("progress"));
  m.def("known_estimators", [] {
    std::vector<std::string> out;
    for (const auto& k : lens::estimator_kinds()) out.push_back(k.name);
    return out;
  });
  m.def("_stamp_view", [](const pyb::handle& a) {
    const StampArray s = stamp_array(a, "stamps", "(N, ny, nx) or (ny, nx)");
    return pyb::make_tuple(reinterpret_cast<std::uintptr_t>(s.data), s.borrowed);
  }, "(data pointer, borrowed) of the stamps as the estimators would read them (for tests)");
}

}  // namespace ds::py
