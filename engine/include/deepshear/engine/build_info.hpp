// What this build of deepshear is and what the machine offers: version, build
// type, the instruction sets compiled in, the CPU's instruction sets, threads,
// and the versions of the libraries (Eigen, FFTW, CFITSIO, OpenMP).
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace ds {

struct BuildInfo {
  std::string version, build_type, compiler, arch_option;
  std::string git_commit;  // short commit of the source tree at configure time, "" if unknown
  std::vector<std::string> compiled_isa;  // e.g. SSE4.2, AVX2, FMA, AVX-512F
  std::vector<std::string> cpu_isa;       // what this CPU supports
  std::string cpu_name;
  int cores = 0, threads = 0;
  std::string eigen_version, fftw_version, cfitsio_version, openmp_version;
  bool hdf5 = false;
  std::string hdf5_version;
};

BuildInfo build_info();
// "key: value" lines for people.
std::string build_info_text(const BuildInfo& b);
// One JSON object.
std::string build_info_json(const BuildInfo& b);

}  // namespace ds
