// deepshear import-keras WEIGHTS.hdf5 -o MODEL: converts a Keras 2 HDF5
// weights file (e.g. the published wlenet model) into a deepshear model file.
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "cli.hpp"
#include "deepshear/engine/atomic_file.hpp"
#include "deepshear/engine/build_info.hpp"
#include "deepshear/engine/log.hpp"
#include "deepshear/nn/blob_file.hpp"
#include "deepshear/nn/keras.hpp"

namespace {

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

int run(int argc, char** argv) {
  ds::app::Args args("deepshear import-keras WEIGHTS.hdf5 -o MODEL [--architecture TEXT] [--calibration c1,m1,c2,m2]",
                     "Imports Keras 2 HDF5 weights into a deepshear model file. Strides and activations are not\n"
                     "stored in a weights file: the architecture is springer2018 unless --architecture gives\n"
                     "its text form (e.g. \"input 32 32 1; conv 64 5 3 relu; ...; affine 2 none 0\").\n"
                     "Needs a build with HDF5 (Debian: libhdf5-dev).");
  args.positional("WEIGHTS", "Keras 2 HDF5 weights file");
  args.option("--output", "MODEL", "output model file");
  args.option("--architecture", "TEXT", "architecture text form (default: springer2018)");
  args.option("--calibration", "c1,m1,c2,m2", "calibration (c, m) per output to store in the model");
  args.alias("-o", "--output");
  if (!args.parse(argc, argv)) return 0;
  if (!args.has("--output")) throw ds::Error::usage("import-keras: -o MODEL is required");
  if (!ds::nn::keras_import_available())
    throw ds::Error("import-keras: this deepshear was built without HDF5 (install libhdf5-dev and rebuild)");
  ds::nn::Architecture arch = args.has("--architecture")
                                  ? ds::nn::Architecture::parse(args.get("--architecture"), "--architecture")
                                  : ds::nn::Architecture::springer2018();
  const std::string in = args.positionals()[0];
  ds::check_output_file(args.get("--output"), "import-keras: -o");
  ds::nn::Model m = ds::nn::import_keras(in, arch);
  if (args.has("--calibration")) {
    std::string s = args.get("--calibration");
    std::vector<double> v;
    std::size_t start = 0;
    while (start <= s.size()) {
      std::size_t end = s.find(',', start);
      if (end == std::string::npos) end = s.size();
      v.push_back(ds::nn::parse_double(s.substr(start, end - start), "--calibration"));
      start = end + 1;
    }
    if (long(v.size()) != 2 * arch.outputs())
      throw ds::Error::usage("--calibration needs c,m for each of the " + std::to_string(arch.outputs()) + " outputs");
    for (long j = 0; j < arch.outputs(); ++j) {
      m.cal_c.push_back(v[std::size_t(2 * j)]);
      m.cal_m.push_back(v[std::size_t(2 * j + 1)]);
    }
  }
  m.provenance["date"] = utc_now();
  m.provenance["code_version"] = ds::build_info().version;
  ds::nn::save_model(m, args.get("--output"));
  ds::info("import-keras: " + in + " -> " + args.get("--output") + " (" + std::to_string(m.net.num_params()) +
           " parameters, " + m.net.arch().name + ")");
  return 0;
}

ds::app::Register reg("import-keras", "convert Keras 2 HDF5 CNN weights into a deepshear model file", run);

}  // namespace
