// How a long library call runs from Python: the GIL released, a thread count
// and the progress lines for the call only, library errors as Python ones.
#pragma once
#include <pybind11/pybind11.h>

#include <string>
#include <utility>
#include <vector>

#include "deepshear/engine/config.hpp"

namespace ds::py {

// Sets threads (> 0; 0 keeps the current count) and quiet (!progress) for
// its lifetime, then restores both.
class CallSettings {
 public:
  CallSettings(int threads, bool progress);
  ~CallSettings();
  CallSettings(const CallSettings&) = delete;
  CallSettings& operator=(const CallSettings&) = delete;

 private:
  int threads_;
  bool quiet_;
};

// Runs f() with the settings above and without the GIL.
template <class F>
auto released(int threads, bool progress, F&& f) {
  CallSettings settings(threads, progress);
  pybind11::gil_scoped_release release;
  return f();
}

// Parameters as (key, value text) pairs, in the order given.
using Params = std::vector<std::pair<std::string, std::string>>;

// Sets each parameter in cfg; an unknown key or a bad value is the library's
// usage error ("python: unknown key 'x'" naming the key).
void apply_params(Config& cfg, const Params& params);

// Registers the exception translation: ds::Error of kind Usage -> ValueError,
// other ds::Error -> deepshear.Error (a RuntimeError).
void register_errors(pybind11::module_& m);

// The parts of the module (one file each).
void bind_estimate(pybind11::module_& m);
void bind_journeys(pybind11::module_& m);
void bind_tools(pybind11::module_& m);

}  // namespace ds::py
