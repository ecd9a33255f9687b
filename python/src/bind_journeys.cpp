// The journeys from Python, each from the same parameters as its command
// (keys and value texts): render stamp sets and single stamps, train,
// evaluate, cluster fields and maps. Reports come back as JSON text, which
// the package turns into dicts.
#include <pybind11/stl.h>

#include <filesystem>
#include <string>
#include <vector>

#include "arrays.hpp"
#include "call.hpp"
#include "deepshear/engine/atomic_file.hpp"
#include "deepshear/engine/progress.hpp"
#include "deepshear/engine/provenance.hpp"
#include "deepshear/imaging/stamp_description.hpp"
#include "deepshear/lensing/cluster/cluster_run.hpp"
#include "deepshear/lensing/cluster/maps_folder.hpp"
#include "deepshear/lensing/cluster/maps_run.hpp"
#include "deepshear/lensing/training/evaluate_run.hpp"
#include "deepshear/lensing/training/stamp_set.hpp"
#include "deepshear/lensing/training/train_run.hpp"

namespace ds::py {

namespace {

namespace pyb = pybind11;

// The parameters a journey reads, declared as its command declares them.
Config journey_config(const std::string& journey) {
  Config c;
  if (journey == "simulate") lens::add_stamp_set_params(c, "");
  else if (journey == "render") img::declare_stamp_description(c);
  else if (journey == "train") lens::add_training_params(c);
  else if (journey == "evaluate") lens::add_evaluation_params(c);
  else if (journey == "cluster") lens::add_cluster_params(c);
  else if (journey == "maps") lens::add_maps_params(c);
  else throw Error::usage("python: no journey '" + journey + "' (simulate, render, train, evaluate, cluster, maps)");
  return c;
}

Config configured(const std::string& journey, const Params& params) {
  Config c = journey_config(journey);
  apply_params(c, params);
  return c;
}

// [(key, type, default text, help)] of a journey, in declaration order.
std::vector<std::vector<std::string>> journey_keys(const std::string& journey) {
  static const char* types[] = {"int", "float", "bool", "str", "list of float"};
  const Config c = journey_config(journey);
  std::vector<std::vector<std::string>> out;
  for (const auto& k : c.keys()) out.push_back({k, types[int(c.type(k))], c.text(k), c.help(k)});
  return out;
}

// A stamp set: (stamps (N, ny, nx) float32, truth columns as a dict).
pyb::tuple render_stamps(const Params& params, int threads, bool progress) {
  const Config c = configured("simulate", params);
  const lens::StampSetConfig cfg = lens::stamp_set_from_config(c, "");
  lens::StampSet set = released(threads, progress, [&] {
    Progress p("simulate", cfg.n, "stamps");
    auto s = lens::StampRenderer(cfg).render(cfg.first, cfg.n, &p);
    p.finish();
    return s;
  });
  return pyb::make_tuple(float_array(set.stamps.shape(), set.stamps.data()), table_dict(lens::truth_table(set, cfg)));
}

// One stamp (ny, nx) float32 from the render parameters and an optional JSON description.
pyb::array_t<float> render_stamp(const Params& params, const std::string& json) {
  const Config c = configured("render", params);
  img::StampDescription d = img::stamp_description_from_config(c);
  if (!json.empty()) img::apply_stamp_json(d, json, "description");
  const img::RenderedStamp s = img::render_described_stamp(d);
  return float_array({s.image.ny(), s.image.nx()}, s.image.data());
}

std::string train(const Params& params, int threads, bool progress) {
  const Config c = configured("train", params);
  return released(threads, progress, [&] { return lens::train_shear_model(c).to_json().dump(); });
}

std::string evaluate(const Params& params, int threads, bool progress) {
  const Config c = configured("evaluate", params);
  lens::evaluation_config(c);  // checks before any work
  return released(threads, progress, [&] {
    const auto report = lens::run_evaluation(c);
    if (!c.get_string("out").empty()) lens::write_evaluation(report, c.get_string("out"));
    return report.to_json().dump();
  });
}

std::string cluster(const Params& params, int threads, bool progress) {
  const Config c = configured("cluster", params);
  return released(threads, progress, [&] { return lens::run_cluster(c).to_json().dump(); });
}

std::string maps(const std::vector<std::string>& catalogues, const Params& params, int threads, bool progress) {
  const Config c = configured("maps", params);
  const lens::MapsConfig config = lens::maps_config(c);
  config.check();
  return released(threads, progress, [&] {
    const auto report = lens::run_maps(catalogues, config);
    if (const std::string out = c.get_string("out"); !out.empty()) {
      lens::write_maps_folder(report, out);
      write_text_atomic(out + "/config.cfg", config_text(c.dump()));
    }
    return report.to_json().dump();
  });
}

}  // namespace

void bind_journeys(pyb::module_& m) {
  const auto p = pyb::arg("params"), t = pyb::arg("threads"), g = pyb::arg("progress");
  m.def("journey_keys", &journey_keys, pyb::arg("journey"));
  m.def("render_stamps", &render_stamps, p, t, g);
  m.def("render_stamp", &render_stamp, p, pyb::arg("json"));
  m.def("train", &train, p, t, g);
  m.def("evaluate", &evaluate, p, t, g);
  m.def("cluster", &cluster, p, t, g);
  m.def("maps", &maps, pyb::arg("catalogues"), p, t, g);
}

}  // namespace ds::py
