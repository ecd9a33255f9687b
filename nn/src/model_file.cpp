// Model files (see model_file.hpp).
#include "deepshear/nn/model_file.hpp"

#include <cmath>
#include <cstring>
#include <sstream>

#include "deepshear/engine/error.hpp"
#include "deepshear/engine/provenance.hpp"
#include "deepshear/nn/blob_file.hpp"

namespace ds::nn {

void Model::calibrate(float* y, long n) const {
  if (cal_c.empty() && cal_m.empty()) return;
  const long k = net.arch().outputs();
  require(long(cal_c.size()) == k && long(cal_m.size()) == k, "model calibration has the wrong number of values");
  for (long i = 0; i < n; ++i)
    for (long j = 0; j < k; ++j)
      y[i * k + j] = float((double(y[i * k + j]) - cal_c[std::size_t(j)]) / (1.0 + cal_m[std::size_t(j)]));
}

namespace {
std::string join(const std::vector<double>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? " " : "") + exact(v[i]);
  return s;
}
std::vector<double> split(const std::string& s, const std::string& where) {
  std::istringstream in(s);
  std::vector<double> v;
  std::string tok;
  while (in >> tok) v.push_back(parse_double(tok, where));
  return v;
}
}  // namespace

void save_model(const Model& model, const std::string& path) {
  Blob b;
  b.magic = "DSNNMODL";
  b.version = Model::kFormatVersion;
  b.header["format"] = "deepshear-nn-model";
  b.header["architecture"] = model.net.arch().to_text();
  b.header["architecture.name"] = model.net.arch().name;
  b.header["input.normalisation"] = model.norm == InputNorm::MeanStd ? "mean_std" : "none";
  b.header["calibration.c"] = join(model.cal_c);
  b.header["calibration.m"] = join(model.cal_m);
  for (const auto& kv : model.provenance) b.header["provenance." + kv.first] = kv.second;
  b.arrays.emplace_back("weights",
                        std::vector<float>(model.net.params(), model.net.params() + model.net.num_params()));
  write_blob(path, b);
}

Model load_model(const std::string& path) {
  Blob b = read_blob(path, "DSNNMODL", Model::kFormatVersion, "model file");
  const std::string file = "model file '" + path + "'";
  Architecture arch = Architecture::parse(b.get("architecture", file), file + ": architecture");
  arch.name = b.get("architecture.name", file);
  const auto& w = b.array("weights", file);
  require(long(w.size()) == arch.param_count(), file + ": " + std::to_string(w.size()) +
                                                    " weights, the architecture needs " +
                                                    std::to_string(arch.param_count()));
  Model m;
  m.net = Network(arch);
  for (std::size_t i = 0; i < w.size(); ++i)
    if (!std::isfinite(w[i])) throw Error(file + ": weight " + std::to_string(i) + " is not finite");
  std::memcpy(m.net.params(), w.data(), sizeof(float) * w.size());
  const std::string& norm = b.get("input.normalisation", file);
  if (norm == "mean_std") m.norm = InputNorm::MeanStd;
  else if (norm == "none") m.norm = InputNorm::None;
  else throw Error(file + ": unknown input.normalisation '" + norm + "'");
  m.cal_c = split(b.get("calibration.c", file), file + " calibration.c");
  m.cal_m = split(b.get("calibration.m", file), file + " calibration.m");
  const std::size_t k = std::size_t(arch.outputs());
  require((m.cal_c.empty() && m.cal_m.empty()) || (m.cal_c.size() == k && m.cal_m.size() == k),
          file + ": calibration needs " + std::to_string(k) + " values of c and of m");
  for (std::size_t j = 0; j < m.cal_c.size(); ++j)
    require(std::isfinite(m.cal_c[j]) && std::isfinite(m.cal_m[j]) && std::abs(1 + m.cal_m[j]) > 1e-9,
            file + ": calibration " + std::to_string(j) + " (c, m) must be finite with m != -1");
  for (const auto& kv : b.header)
    if (kv.first.rfind("provenance.", 0) == 0) m.provenance[kv.first.substr(11)] = kv.second;
  add_provenance_model(path, file_checksum(path));  // the outputs of this run name the model they used
  return m;
}

}  // namespace ds::nn
