// Import of Keras 2 HDF5 weight files (the published wlenet models) through
// libhdf5, an optional build component: without it these functions throw
// ds::Error saying so, and keras_import_available() is false.
//
// A Keras 2 weights file holds, per layer L with weights, the datasets
// "L/L/kernel:0" and "L/L/bias:0" (float32); the root attribute
// "layer_names" lists the layers in order. Conv kernels are [kh, kw, in, out],
// dense kernels [in, out], and the flatten takes (y, x, channel) order:
// exactly nn/'s NHWC layouts, so the import copies the arrays as they are.
// Strides and activations are not in a weights file: the architecture is
// given (springer2018 by default) and every kernel shape is checked against it.
#pragma once
#include <string>
#include <vector>

#include "deepshear/nn/model_file.hpp"

namespace ds::nn {

bool keras_import_available();

struct Hdf5Array {
  std::vector<long> shape;
  std::vector<float> data;  // row-major, converted to float32
};
// One floating-point dataset by its full path (e.g. "conv_1/conv_1/kernel:0").
Hdf5Array read_hdf5_dataset(const std::string& file, const std::string& dataset);
// The root attribute "layer_names" of a Keras weights file (empty if absent).
std::vector<std::string> keras_layer_names(const std::string& file);

// Builds a model from a Keras weights file. The i-th layer of `arch` takes the
// i-th layer of the file that has weights. Input normalisation: mean_std; no
// calibration; provenance records the source file.
Model import_keras(const std::string& file, const Architecture& arch = Architecture::springer2018());

}  // namespace ds::nn
