// A trained model: the network, its input normalisation, the output
// calibration and the training provenance, stored in one versioned binary
// file (a blob of kind "DSNNMODL", see blob_file.hpp):
//   header: format = deepshear-nn-model, architecture (text form, see
//           architecture.hpp), architecture.name, input.normalisation
//           (mean_std | none), calibration.c / calibration.m (one value per
//           output, space separated, %.17g), provenance.* (seed, config,
//           code_version, date, metrics, source, ...)
//   arrays: "weights", float32 little-endian, Network parameter layout.
// Loading refuses truncated, corrupted (checksum), foreign (magic) and newer
// (version) files with a message naming the file.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "deepshear/nn/network.hpp"

namespace ds::nn {

enum class InputNorm { None, MeanStd };

struct Model {
  static constexpr std::uint32_t kFormatVersion = 1;
  Network net;
  InputNorm norm = InputNorm::MeanStd;
  // Calibration per output component: calibrated = (raw - c) / (1 + m).
  // Empty vectors mean no calibration.
  std::vector<double> cal_c, cal_m;
  std::map<std::string, std::string> provenance;

  // Applies the calibration in place to y[n][outputs].
  void calibrate(float* y, long n) const;
};

void save_model(const Model& model, const std::string& path);
Model load_model(const std::string& path);

}  // namespace ds::nn
