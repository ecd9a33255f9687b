// deepshear bench render: stamps/s of the full training-stamp pipeline (source,
// transforms, reconvolution, target PSF + pixel, 64x64 -> central 32x32,
// correlated noise) for the parametric and the real-galaxy source, on 1 and 2
// threads (or --threads N), as one JSON line.
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "deepshear/engine/build_info.hpp"
#include "deepshear/engine/constants.hpp"
#include "deepshear/engine/error.hpp"
#include "deepshear/engine/parallel.hpp"
#include "deepshear/engine/random.hpp"
#include "deepshear/engine/tensor.hpp"
#include "deepshear/imaging/galaxy.hpp"
#include "deepshear/imaging/noise.hpp"
#include "deepshear/imaging/real_galaxy_catalog.hpp"

namespace {

using namespace ds::img;
using Clock = std::chrono::steady_clock;

// Stamps per second of `one(i)` on the current thread count, run in batches for >= seconds.
template <class Fn>
double rate(double seconds, Fn&& one) {
  const long batch = 64;
  ds::parallel_for(batch, [&](long i, int) { one(i); });  // warm-up (tables, plans)
  long done = 0;
  auto t0 = Clock::now();
  double el = 0;
  do {
    ds::parallel_for(batch, [&](long i, int) { one(done + i); });
    done += batch;
    el = std::chrono::duration<double>(Clock::now() - t0).count();
  } while (el < seconds);
  return double(done) / el;
}

// The measured pipeline: the sources and what every stamp shares.
struct Pipeline {
  StampSetup setup;
  RealGalaxyTreatment rt;
  ParametricPopulation pop;
  NoiseKernel kernel = NoiseKernel::load_default(DEEPSHEAR_DATA_DIR);
  std::unique_ptr<RealGalaxySource> real;  // null: no catalogue (or --source parametric)

  // Stamp i's random shear, rotation, mirror and sub-pixel offset (ox, oy) [px].
  static TransformChain chain(std::uint64_t i, double& ox, double& oy) {
    ds::RandomStream r(7, "bench", i);
    TransformChain t;
    t.g1 = r.uniform(-0.2, 0.2);
    t.g2 = r.uniform(-0.2, 0.2);
    t.rotation = r.uniform(0, 2 * ds::kPi);
    t.mirror = r.uniform() < 0.5;
    ox = r.uniform(-0.5, 0.5);
    oy = r.uniform(-0.5, 0.5);
    return t;
  }
  // Renders stamp i of the parametric (real = false) or the real-galaxy source.
  void one(long i, bool from_real) const {
    thread_local ds::ImageF out(32, 32);
    double ox, oy;
    TransformChain t = chain(std::uint64_t(i), ox, oy);
    ProfilePtr g = from_real ? real->profile(std::size_t(i) % real->size()) : pop.draw(7, std::uint64_t(i)).profile();
    ds::RandomStream nr(7, "noise", std::uint64_t(i));
    render_stamp(g, t, setup, ox, oy, out.view(), from_real ? &rt : nullptr, &kernel, &nr);
  }
};

// Stamps/s of each source on each thread count, as the JSON report.
nlohmann::ordered_json measure(const Pipeline& p, bool parametric, const std::vector<int>& thread_counts,
                               double seconds) {
  nlohmann::ordered_json j;
  j["bench"] = "render";
  j["pipeline"] = "source+transforms+psf+pixel+64->32+noise";
  const int saved = ds::threads();
  for (int nt : thread_counts) {
    ds::set_threads(nt);
    if (parametric)
      j["parametric_stamps_per_s_" + std::to_string(nt) + "t"] = rate(seconds, [&](long i) { p.one(i, false); });
    if (p.real) j["real_stamps_per_s_" + std::to_string(nt) + "t"] = rate(seconds, [&](long i) { p.one(i, true); });
  }
  ds::set_threads(saved);
  return j;
}

int run(int argc, char** argv) {
  ds::app::Args args("deepshear bench render [--seconds S] [--catalog FILE] [--threads N]",
                     "Measures the stamp pipeline: parametric source (population draw + bulge/disk/knots) and\n"
                     "real-galaxy source (reconvolution of catalogue stamps, wlenet treatment), each with random\n"
                     "shear, rotation, mirror, sub-pixel offset, Gaussian PSF FWHM 0.12\", 0.065\"/px, 64x64 ->\n"
                     "32x32 and default correlated noise. Without --threads: 1 and 2 threads.");
  args.option("--seconds", "S", "seconds per measurement", "2");
  args.option("--source", "KIND", "parametric, real or both", "both");
  std::string default_cat;
#ifdef DEEPSHEAR_DATA_DIR
  default_cat = std::string(DEEPSHEAR_DATA_DIR) +
                "/../../shared/data/BlendingToolKit/data/cosmos/real_galaxy_catalog_26_extension_example.fits";
#endif
  args.option("--catalog", "FILE", "RealGalaxyCatalog for the real-galaxy source (default: BTK COSMOS in ../shared)",
              default_cat);
  if (!args.parse(argc, argv)) return 0;
  std::vector<int> thread_counts = {1, 2};
  if (args.has("--threads")) thread_counts = {ds::threads()};
  const std::string cat_path = args.get("--catalog"), which = args.get("--source");
  if (which != "both" && which != "parametric" && which != "real")
    throw ds::Error::usage("bench render: --source must be parametric, real or both");
  Pipeline p;
  if (which != "parametric" && !cat_path.empty() && std::filesystem::exists(cat_path))
    p.real = std::make_unique<RealGalaxySource>(std::make_shared<RealGalaxyCatalog>(RealGalaxyCatalog::load(cat_path)));
  if (p.real)  // build every profile once (the method preloads its catalogue)
    ds::parallel_for(long(p.real->size()), [&](long i, int) { p.real->profile(std::size_t(i)); });
  nlohmann::ordered_json j = measure(p, which != "real", thread_counts, args.get_double("--seconds"));
  j["real_catalog"] = p.real ? nlohmann::ordered_json(cat_path) : nlohmann::ordered_json(nullptr);
  j["hardware_threads"] = ds::hardware_threads();
  std::printf("%s\n", j.dump().c_str());
  return 0;
}

ds::app::RegisterBench reg("render", "stamps/s of the rendering pipeline, parametric and real-galaxy sources", run);

}  // namespace
