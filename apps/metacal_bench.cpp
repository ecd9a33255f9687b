// deepshear bench metacal: metacal image sets/s (the five images of a 32x32
// stamp, with and without fixnoise), the operator's build time per PSF, and
// metacal-rrg / metacal-cnn galaxies/s beside their plain estimators, on
// noisy exponential galaxies with the shipped PSF and noise kernel.
#include <chrono>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "deepshear/engine/build_info.hpp"
#include "deepshear/engine/data_path.hpp"
#include "deepshear/engine/parallel.hpp"
#include "deepshear/engine/random.hpp"
#include "deepshear/imaging/draw.hpp"
#include "deepshear/imaging/metacal.hpp"
#include "deepshear/imaging/noise.hpp"
#include "deepshear/lensing/estimators/estimator.hpp"

namespace {

constexpr long kSide = 32;

// n stamps (n, 32, 32): exponential galaxies (hlr 0.1-0.3", |e| < 0.3) through the
// 0.12" Gaussian PSF at 0.065" / px, with the kernel's noise.
ds::Tensor make_stamps(long n, const ds::img::NoiseKernel& k) {
  ds::Tensor t({n, kSide, kSide});
  ds::parallel_for(n, [&](long i, int) {
    ds::RandomStream r(7, "bench.metacal", std::uint64_t(i));
    auto gal = ds::img::sheared(ds::img::exponential_hlr(r.uniform(0.1, 0.3), 2.0), r.uniform(-0.3, 0.3) / 1.5,
                                r.uniform(-0.3, 0.3) / 1.5);
    ds::ImageView<float> v(t.data() + i * kSide * kSide, kSide, kSide);
    ds::img::draw(*ds::img::convolve({gal, ds::img::gaussian_fwhm(0.12)}), v);
    ds::img::add_correlated_noise(v, k, r);
  });
  return t;
}

template <class F>
double rate(long n, F&& f, double min_seconds) {
  long done = 0;
  const auto start = std::chrono::steady_clock::now();
  double elapsed = 0;
  do {
    f();
    done += n;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  } while (elapsed < min_seconds);
  return double(done) / elapsed;
}

int run(int argc, char** argv) {
  ds::app::Args args("deepshear bench metacal [--n N] [--seconds S] [--model M] [--threads N]",
                     "Metacalibration throughput on 32x32 stamps: image sets/s and galaxies/s of metacal-rrg and "
                     "metacal-cnn beside rrg and cnn.");
  args.option("--n", "N", "stamps per batch", "4096");
  args.option("--seconds", "S", "minimum time per measurement", "2.0");
  args.option("--model", "M", "CNN model file", ds::data_path_or_empty("model_default.dsm"));
  if (!args.parse(argc, argv)) return 0;
  const long n = args.get_int("--n");
  const double secs = args.get_double("--seconds");
  const auto kernel = ds::img::NoiseKernel::load_default();
  const ds::Tensor stamps = make_stamps(n, kernel);

  const auto psf = ds::img::convolve({ds::img::gaussian_fwhm(0.12), ds::img::pixel(0.065)});
  const auto t0 = std::chrono::steady_clock::now();
  ds::img::MetacalOperator op(psf, {});
  const double build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ds::Tensor noise({n, kSide, kSide}), out({n, ds::img::kMetacalImages, kSide, kSide});
  const double sets = rate(n, [&] { op.apply(stamps.data(), n, out.data()); }, secs);
  const double sets_fix = rate(n, [&] {
    ds::parallel_for(n, [&](long b, int) {
      ds::img::metacal_noise_field(ds::ImageView<float>(noise.data() + b * kSide * kSide, kSide, kSide), kernel, 1,
                                   std::uint64_t(b));
    });
    op.apply_fixnoise(stamps.data(), noise.data(), n, out.data());
  }, secs);

  ds::lens::EstimatorSetup s;
  s.model_path = args.get("--model");
  s.symmetrise = false;
  s.noise_kernel = kernel.values();
  auto galaxies_per_s = [&](const std::string& name) {
    auto e = ds::lens::make_estimator(name, s);
    e->estimate(stamps);  // settles RRG's G and builds the metacal operator
    return rate(n, [&] { e->estimate(stamps); }, secs);
  };
  const double rrg = galaxies_per_s("rrg"), mrrg = galaxies_per_s("metacal-rrg");
  const double cnn = galaxies_per_s("cnn"), mcnn = galaxies_per_s("metacal-cnn");
  const nlohmann::ordered_json j = {{"benchmark", "metacal"},
                                    {"stamp", "32x32"},
                                    {"threads", ds::threads()},
                                    {"operator_build_s", std::round(build_s * 1000) / 1000},
                                    {"image_sets_per_s", std::llround(sets)},
                                    {"image_sets_per_s_fixnoise", std::llround(sets_fix)},
                                    {"rrg_galaxies_per_s", std::llround(rrg)},
                                    {"metacal_rrg_galaxies_per_s", std::llround(mrrg)},
                                    {"cnn_galaxies_per_s", std::llround(cnn)},
                                    {"metacal_cnn_galaxies_per_s", std::llround(mcnn)},
                                    {"cnn_symmetrised", false},
                                    {"cpu", ds::build_info().cpu_name}};
  std::printf("%s\n", j.dump().c_str());
  return 0;
}

ds::app::RegisterBench reg("metacal", "metacal image sets/s and metacal-rrg / metacal-cnn galaxies/s", run);

}  // namespace
