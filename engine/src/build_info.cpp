#include "deepshear/engine/build_info.hpp"

#include <omp.h>

#include <Eigen/Core>
#include <fstream>

#include "deepshear/engine/config.hpp"
#include "deepshear/engine/fft.hpp"
#include "deepshear/engine/fits.hpp"
#include "deepshear/engine/parallel.hpp"

#if DEEPSHEAR_HAVE_HDF5
#include <hdf5.h>
#endif

namespace ds {

static std::vector<std::string> compiled_isa() {
  std::vector<std::string> v;
#ifdef __SSE4_2__
  v.push_back("SSE4.2");
#endif
#ifdef __AVX__
  v.push_back("AVX");
#endif
#ifdef __AVX2__
  v.push_back("AVX2");
#endif
#ifdef __FMA__
  v.push_back("FMA");
#endif
#ifdef __AVX512F__
  v.push_back("AVX-512F");
#endif
#ifdef __AVX512BW__
  v.push_back("AVX-512BW");
#endif
#ifdef __AVX512VL__
  v.push_back("AVX-512VL");
#endif
#ifdef __AVX512VNNI__
  v.push_back("AVX-512VNNI");
#endif
  return v;
}

static std::vector<std::string> cpu_isa() {
  std::vector<std::string> v;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("sse4.2")) v.push_back("SSE4.2");
  if (__builtin_cpu_supports("avx")) v.push_back("AVX");
  if (__builtin_cpu_supports("avx2")) v.push_back("AVX2");
  if (__builtin_cpu_supports("fma")) v.push_back("FMA");
  if (__builtin_cpu_supports("avx512f")) v.push_back("AVX-512F");
  if (__builtin_cpu_supports("avx512bw")) v.push_back("AVX-512BW");
  if (__builtin_cpu_supports("avx512vl")) v.push_back("AVX-512VL");
  if (__builtin_cpu_supports("avx512vnni")) v.push_back("AVX-512VNNI");
#endif
  return v;
}

static std::string cpu_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      auto c = line.find(':');
      if (c != std::string::npos) return trim(line.substr(c + 1));
    }
  return "unknown";
}

BuildInfo build_info() {
  BuildInfo b;
  b.version = DEEPSHEAR_VERSION;
  b.build_type = DEEPSHEAR_BUILD_TYPE;
  b.compiler = DEEPSHEAR_COMPILER;
  b.arch_option = DEEPSHEAR_ARCH;
  b.git_commit = DEEPSHEAR_GIT_COMMIT;
  b.compiled_isa = compiled_isa();
  b.cpu_isa = cpu_isa();
  b.cpu_name = cpu_name();
  b.cores = hardware_threads();
  b.threads = threads();
  b.eigen_version = std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
                    std::to_string(EIGEN_MINOR_VERSION);
  b.fftw_version = fftw_version_string();
  b.cfitsio_version = fits::cfitsio_version();
  b.openmp_version = std::to_string(_OPENMP);
#if DEEPSHEAR_HAVE_HDF5
  b.hdf5 = true;
  unsigned maj = 0, min = 0, rel = 0;
  H5get_libversion(&maj, &min, &rel);
  b.hdf5_version = std::to_string(maj) + "." + std::to_string(min) + "." + std::to_string(rel);
#endif
  return b;
}

static std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out.empty() ? "none" : out;
}

std::string build_info_text(const BuildInfo& b) {
  std::string out;
  out += "deepshear " + b.version + " (" + b.build_type + ", " + b.compiler +
         (b.git_commit.empty() ? "" : ", commit " + b.git_commit) + ")\n";
  out += "built for:      " + b.arch_option + ": " + join(b.compiled_isa, " ") + "\n";
  out += "this CPU:       " + b.cpu_name + ": " + join(b.cpu_isa, " ") + "\n";
  out += "threads:        " + std::to_string(b.threads) + " of " + std::to_string(b.cores) + " cores\n";
  out += "Eigen:          " + b.eigen_version + "\n";
  out += "FFTW:           " + b.fftw_version + "\n";
  out += "CFITSIO:        " + b.cfitsio_version + "\n";
  out += "OpenMP:         " + b.openmp_version + "\n";
  out += "HDF5 (Keras):   " + (b.hdf5 ? b.hdf5_version : std::string("not built in")) + "\n";
  return out;
}

static std::string json_list(const std::vector<std::string>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + std::string("\"") + json_escape(v[i]) + "\"";
  return out + "]";
}

std::string build_info_json(const BuildInfo& b) {
  auto s = [](const std::string& v) { return "\"" + json_escape(v) + "\""; };
  return "{\"version\": " + s(b.version) + ", \"commit\": " + s(b.git_commit) + ", \"build_type\": " + s(b.build_type) + ", \"compiler\": " +
         s(b.compiler) + ", \"arch\": " + s(b.arch_option) + ", \"compiled_isa\": " + json_list(b.compiled_isa) +
         ", \"cpu\": " + s(b.cpu_name) + ", \"cpu_isa\": " + json_list(b.cpu_isa) +
         ", \"cores\": " + std::to_string(b.cores) + ", \"threads\": " + std::to_string(b.threads) +
         ", \"eigen\": " + s(b.eigen_version) + ", \"fftw\": " + s(b.fftw_version) + ", \"cfitsio\": " +
         s(b.cfitsio_version) + ", \"openmp\": " + s(b.openmp_version) + ", \"hdf5\": " +
         (b.hdf5 ? s(b.hdf5_version) : std::string("null")) + "}";
}

}  // namespace ds
