#include "deepshear/lensing/cluster/sextractor_run.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "deepshear/engine/data_path.hpp"
#include "deepshear/engine/error.hpp"
#include "deepshear/engine/fits.hpp"
#include "deepshear/lensing/cluster/field_inputs.hpp"

namespace ds::lens {

namespace {

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string fmt(double v) {
  std::ostringstream ss;
  ss.precision(10);
  ss << v;
  return ss.str();
}

std::string tail_of(const std::string& path, std::size_t max_chars = 600) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  if (s.size() > max_chars) s = "..." + s.substr(s.size() - max_chars);
  for (auto& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

}  // namespace

std::string find_sextractor(const std::string& preferred) {
  std::vector<std::string> names;
  if (!preferred.empty()) names.push_back(preferred);
  names.push_back("source-extractor");
  names.push_back("sex");
  const char* path_env = std::getenv("PATH");
  std::string path = path_env ? path_env : "/usr/bin:/bin";
  for (const auto& n : names) {
    if (n.find('/') != std::string::npos) {
      if (::access(n.c_str(), X_OK) == 0) return n;
      continue;
    }
    std::stringstream ss(path);
    std::string d;
    while (std::getline(ss, d, ':')) {
      std::string p = (d.empty() ? "." : d) + "/" + n;
      if (::access(p.c_str(), X_OK) == 0 && std::filesystem::is_regular_file(p)) return p;
    }
  }
  return "";
}

SExtractorResult run_sextractor(const ImageF& image, const ImageF& weight, const SExtractorOptions& options,
                                const std::string& workdir) {
  const std::string exe = find_sextractor(options.binary);
  if (exe.empty())
    throw Error("SExtractor not found" +
                (options.binary.empty() ? std::string() : " (asked for '" + options.binary + "')") +
                ": install it with 'apt-get install source-extractor' (Debian), or give a source catalogue "
                "(--catalogue, or catalog= in the field list)");
  const std::string conf = options.config_dir.empty() ? std::filesystem::path(data_path("sextractor/deepshear.sex"))
                                                            .parent_path()
                                                            .string()
                                                      : options.config_dir;
  for (const char* f : {"deepshear.sex", "deepshear.param", "gauss_2.5_5x5.conv"})
    require(std::filesystem::exists(conf + "/" + f), conf + "/" + f + ": SExtractor configuration file missing");
  std::filesystem::create_directories(workdir);
  const std::string img = workdir + "/detect.fits", wht = workdir + "/detect_wht.fits", cat = workdir + "/sources.ldac",
                    seg = workdir + "/segmentation.fits", bkg = workdir + "/background.fits",
                    log = workdir + "/sextractor.log";
  {
    fits::FitsWriter w(img);
    w.write_image(image, fits::PixelType::Float32);
    w.commit();
  }
  {
    fits::FitsWriter w(wht);
    w.write_image(weight, fits::PixelType::Float32);
    w.commit();
  }
  std::vector<std::string> argv = {exe,
                                   img,
                                   "-c",
                                   conf + "/deepshear.sex",
                                   "-PARAMETERS_NAME",
                                   conf + "/deepshear.param",
                                   "-FILTER_NAME",
                                   conf + "/gauss_2.5_5x5.conv",
                                   "-CATALOG_NAME",
                                   cat,
                                   "-CATALOG_TYPE",
                                   "FITS_LDAC",
                                   "-WEIGHT_IMAGE",
                                   wht,
                                   "-WEIGHT_TYPE",
                                   "MAP_WEIGHT",
                                   "-CHECKIMAGE_TYPE",
                                   "SEGMENTATION,BACKGROUND",
                                   "-CHECKIMAGE_NAME",
                                   seg + "," + bkg,
                                   "-MAG_ZEROPOINT",
                                   fmt(options.zero_point),
                                   "-PIXEL_SCALE",
                                   fmt(options.pixel_scale),
                                   "-SEEING_FWHM",
                                   fmt(options.seeing_fwhm)};
  argv.insert(argv.end(), options.extra.begin(), options.extra.end());
  SExtractorResult r;
  for (const auto& a : argv) r.command += (r.command.empty() ? "" : " ") + shell_quote(a);
  const auto t0 = std::chrono::steady_clock::now();
  const int status = std::system((r.command + " >" + shell_quote(log) + " 2>&1").c_str());
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (status != 0 || !std::filesystem::exists(cat))
    throw Error(exe + " failed (exit status " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : status) +
                "): " + tail_of(log));
  r.sources = SourceList::read(cat);
  r.segmentation = read_first_image(seg);
  r.background = read_first_image(bkg);
  require(r.segmentation.ny() == image.ny() && r.segmentation.nx() == image.nx(),
          seg + ": segmentation image is not the size of the detection image");
  require(r.background.ny() == image.ny() && r.background.nx() == image.nx(),
          bkg + ": background image is not the size of the detection image");
  return r;
}

}  // namespace ds::lens
