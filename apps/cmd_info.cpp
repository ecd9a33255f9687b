// deepshear info [--json]: what was compiled in and what the CPU offers.
#include <cstdio>

#include "cli.hpp"
#include "deepshear/engine/build_info.hpp"

namespace {

int run(int argc, char** argv) {
  ds::app::Args args("deepshear info [--json]",
                     "Shows the deepshear version, the instruction sets compiled in and those of this CPU,\n"
                     "the thread count, and the versions of Eigen, FFTW, CFITSIO, OpenMP and HDF5.");
  args.flag("--json", "print one JSON object instead of text");
  if (!args.parse(argc, argv)) return 0;
  ds::BuildInfo b = ds::build_info();
  if (args.has("--json"))
    std::printf("%s\n", ds::build_info_json(b).c_str());
  else
    std::fputs(ds::build_info_text(b).c_str(), stdout);
  return 0;
}

ds::app::Register reg("info", "what was compiled in, what this CPU offers, library versions", run);
ds::app::Register reg_version("version", "print the version", [](int, char**) {
  std::printf("deepshear %s\n", ds::build_info().version.c_str());
  return 0;
});

}  // namespace
