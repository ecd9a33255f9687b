// Keras 2 HDF5 weights import (see keras.hpp).
#include "deepshear/nn/keras.hpp"

#include <cstring>

#include "deepshear/engine/error.hpp"

#if DEEPSHEAR_HAVE_HDF5
#include <hdf5.h>
#endif

namespace ds::nn {

bool keras_import_available() { return DEEPSHEAR_HAVE_HDF5 != 0; }

#if DEEPSHEAR_HAVE_HDF5

namespace {

// Owns an HDF5 identifier and closes it with the matching function.
struct H5Handle {
  hid_t id = -1;
  herr_t (*close)(hid_t) = nullptr;
  H5Handle(hid_t i, herr_t (*c)(hid_t)) : id(i), close(c) {}
  ~H5Handle() {
    if (id >= 0 && close) close(id);
  }
  H5Handle(const H5Handle&) = delete;
  H5Handle& operator=(const H5Handle&) = delete;
};

// Silences libhdf5's own error printing while we probe files.
struct QuietHdf5 {
  H5E_auto2_t func = nullptr;
  void* data = nullptr;
  QuietHdf5() {
    H5Eget_auto2(H5E_DEFAULT, &func, &data);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~QuietHdf5() { H5Eset_auto2(H5E_DEFAULT, func, data); }
};

hid_t open_file(const std::string& file) {
  require(H5Fis_hdf5(file.c_str()) > 0, "'" + file + "' is not an HDF5 file (or cannot be read)");
  hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  require(f >= 0, "'" + file + "': cannot open as HDF5");
  return f;
}

}  // namespace

Hdf5Array read_hdf5_dataset(const std::string& file, const std::string& dataset) {
  QuietHdf5 quiet;
  H5Handle f(open_file(file), H5Fclose);
  require(H5Lexists(f.id, dataset.c_str(), H5P_DEFAULT) > 0 || dataset.find('/') == std::string::npos,
          "'" + file + "': no dataset '" + dataset + "'");
  H5Handle d(H5Dopen2(f.id, dataset.c_str(), H5P_DEFAULT), H5Dclose);
  require(d.id >= 0, "'" + file + "': no dataset '" + dataset + "'");
  H5Handle type(H5Dget_type(d.id), H5Tclose);
  require(H5Tget_class(type.id) == H5T_FLOAT, "'" + file + "': dataset '" + dataset + "' is not floating point");
  H5Handle space(H5Dget_space(d.id), H5Sclose);
  int rank = H5Sget_simple_extent_ndims(space.id);
  require(rank >= 0 && rank <= 8, "'" + file + "': dataset '" + dataset + "' has an unsupported shape");
  hsize_t dims[8] = {0};
  H5Sget_simple_extent_dims(space.id, dims, nullptr);
  Hdf5Array a;
  std::size_t count = 1;
  for (int i = 0; i < rank; ++i) {
    a.shape.push_back(long(dims[i]));
    count *= std::size_t(dims[i]);
  }
  a.data.resize(count);
  require(H5Dread(d.id, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, a.data.data()) >= 0,
          "'" + file + "': cannot read dataset '" + dataset + "'");
  return a;
}

std::vector<std::string> keras_layer_names(const std::string& file) {
  QuietHdf5 quiet;
  H5Handle f(open_file(file), H5Fclose);
  std::vector<std::string> names;
  if (H5Aexists(f.id, "layer_names") <= 0) return names;
  H5Handle attr(H5Aopen(f.id, "layer_names", H5P_DEFAULT), H5Aclose);
  H5Handle type(H5Aget_type(attr.id), H5Tclose);
  H5Handle space(H5Aget_space(attr.id), H5Sclose);
  require(H5Tget_class(type.id) == H5T_STRING, "'" + file + "': attribute layer_names is not a string array");
  hssize_t n = H5Sget_simple_extent_npoints(space.id);
  if (H5Tis_variable_str(type.id) > 0) {
    std::vector<char*> ptrs(static_cast<std::size_t>(n));
    H5Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem.id, H5T_VARIABLE);
    require(H5Aread(attr.id, mem.id, ptrs.data()) >= 0, "'" + file + "': cannot read layer_names");
    for (char* p : ptrs) names.emplace_back(p ? p : "");
    H5Dvlen_reclaim(mem.id, space.id, H5P_DEFAULT, ptrs.data());
  } else {
    std::size_t len = H5Tget_size(type.id);
    std::vector<char> buf(static_cast<std::size_t>(n) * len);
    require(H5Aread(attr.id, type.id, buf.data()) >= 0, "'" + file + "': cannot read layer_names");
    for (hssize_t i = 0; i < n; ++i) {
      std::string s(buf.data() + std::size_t(i) * len, len);
      s.erase(s.find_last_not_of(std::string("\0 ", 2)) + 1);
      names.push_back(s);
    }
  }
  return names;
}

Model import_keras(const std::string& file, const Architecture& arch) {
  std::vector<std::string> names = keras_layer_names(file);
  // Keep layers with weights (dropout/flatten layers have none).
  std::vector<std::string> weighted;
  {
    QuietHdf5 quiet;
    H5Handle f(open_file(file), H5Fclose);
    for (const auto& n : names) {
      std::string k = n + "/" + n + "/kernel:0";
      if (H5Lexists(f.id, n.c_str(), H5P_DEFAULT) > 0 && H5Lexists(f.id, (n + "/" + n).c_str(), H5P_DEFAULT) > 0 &&
          H5Lexists(f.id, k.c_str(), H5P_DEFAULT) > 0)
        weighted.push_back(n);
    }
  }
  if (weighted.empty() && arch.to_text() == Architecture::springer2018().to_text())
    weighted = {"conv_1", "conv_2", "conv_3", "dense_1", "dense_2", "label_pred"};
  require(weighted.size() == arch.layers.size(), "'" + file + "': " + std::to_string(weighted.size()) +
                                                     " layers with weights, the architecture has " +
                                                     std::to_string(arch.layers.size()));
  Model m;
  m.net = Network(arch);
  for (std::size_t l = 0; l < weighted.size(); ++l) {
    const auto& p = m.net.plans()[l];
    const auto& spec = arch.layers[l];
    const std::string kn = weighted[l] + "/" + weighted[l] + "/kernel:0", bn = weighted[l] + "/" + weighted[l] + "/bias:0";
    Hdf5Array k = read_hdf5_dataset(file, kn), b = read_hdf5_dataset(file, bn);
    std::vector<long> want = spec.kind == LayerSpec::Kind::Conv ? std::vector<long>{spec.k, spec.k, p.in_c, p.out_c}
                                                                : std::vector<long>{p.in_c, p.out_c};
    auto shape_str = [](const std::vector<long>& s) {
      std::string o = "[";
      for (std::size_t i = 0; i < s.size(); ++i) o += (i ? ", " : "") + std::to_string(s[i]);
      return o + "]";
    };
    require(k.shape == want, "'" + file + "': " + kn + " has shape " + shape_str(k.shape) +
                                 ", architecture layer " + std::to_string(l) + " needs " + shape_str(want));
    require(b.shape == std::vector<long>{p.out_c}, "'" + file + "': " + bn + " has shape " + shape_str(b.shape));
    std::memcpy(m.net.weights(int(l)), k.data.data(), sizeof(float) * k.data.size());
    std::memcpy(m.net.bias(int(l)), b.data.data(), sizeof(float) * b.data.size());
  }
  m.norm = InputNorm::MeanStd;
  m.provenance["source"] = "keras-hdf5:" + file;
  m.provenance["keras_layers"] = [&] {
    std::string s;
    for (const auto& w : weighted) s += (s.empty() ? "" : " ") + w;
    return s;
  }();
  return m;
}

#else  // no HDF5

namespace {
[[noreturn]] void unavailable() {
  throw Error("Keras import is not available: this deepshear was built without HDF5 (install libhdf5-dev and rebuild)");
}
}  // namespace
Hdf5Array read_hdf5_dataset(const std::string&, const std::string&) { unavailable(); }
std::vector<std::string> keras_layer_names(const std::string&) { unavailable(); }
Model import_keras(const std::string&, const Architecture&) { unavailable(); }

#endif

}  // namespace ds::nn
