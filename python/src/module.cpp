// deepshear._core: the library's journeys and tools for Python. The package
// deepshear (python/deepshear/) wraps it with documented, keyword-friendly
// functions; everything here is a thin client of the library.
#include <pybind11/pybind11.h>

#include "call.hpp"
#include "deepshear/engine/error.hpp"
#include "deepshear/engine/log.hpp"
#include "deepshear/engine/parallel.hpp"

namespace ds::py {

CallSettings::CallSettings(int threads, bool progress) : threads_(ds::threads()), quiet_(ds::quiet()) {
  if (threads < 0) throw Error::usage("threads = " + std::to_string(threads) + " must be >= 1 (or 0/None: all cores)");
  if (threads > 0) set_threads(threads);
  set_quiet(quiet_ || !progress);
}

CallSettings::~CallSettings() {
  set_threads(threads_);
  set_quiet(quiet_);
}

void apply_params(Config& cfg, const Params& params) {
  for (const auto& [key, value] : params) {
    if (!cfg.has(key)) throw Error::usage("python: unknown key '" + key + "'");
    cfg.set(key, value, "python");
  }
}

void register_errors(pybind11::module_& m) {
  static pybind11::exception<Error> error(m, "Error", PyExc_RuntimeError);
  pybind11::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      if (e.kind() == Error::Kind::Usage) PyErr_SetString(PyExc_ValueError, e.what());
      else error(e.what());
    }
  });
}

}  // namespace ds::py

PYBIND11_MODULE(_core, m) {
  m.doc() = "deepshear's compiled core; use the deepshear package, which documents every call.";
  ds::py::register_errors(m);
  ds::py::bind_estimate(m);
  ds::py::bind_journeys(m);
  ds::py::bind_tools(m);
}
