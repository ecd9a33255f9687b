// deepshear bench estimators: RRG and KSB stamps/s on 1 and N threads, on
// 32x32 stamps of noisy elliptical Gaussians convolved with a Gaussian PSF.
#include <chrono>
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "deepshear/engine/build_info.hpp"
#include "deepshear/engine/parallel.hpp"
#include "deepshear/engine/random.hpp"
#include "deepshear/lensing/estimators/ksb.hpp"
#include "deepshear/lensing/estimators/rrg.hpp"

namespace {

ds::Tensor make_stamps(long n) {
  const long s = 32;
  ds::Tensor t({n, s, s});
  ds::parallel_for(n, [&](long i, int) {
    ds::RandomStream r(7, "bench.estimators", std::uint64_t(i));
    double sig = r.uniform(1.5, 3.5), e1 = r.uniform(-0.3, 0.3), e2 = r.uniform(-0.3, 0.3);
    double t2 = 2 * sig * sig / std::sqrt(1 - e1 * e1 - e2 * e2);
    double cxx = t2 / 2 * (1 + e1) + 1.2, cyy = t2 / 2 * (1 - e1) + 1.2, cxy = t2 / 2 * e2;
    double det = cxx * cyy - cxy * cxy;
    float* p = t.data() + i * s * s;
    for (long y = 0; y < s; ++y)
      for (long x = 0; x < s; ++x) {
        double dx = x - 15.5, dy = y - 15.5;
        p[y * s + x] = float(std::exp(-0.5 * (cyy * dx * dx - 2 * cxy * dx * dy + cxx * dy * dy) / det) + 0.01 * r.normal());
      }
  });
  return t;
}

template <class F>
double rate(long n, F&& f, double min_seconds) {
  long done = 0;
  auto start = std::chrono::steady_clock::now();
  double elapsed = 0;
  do {
    f();
    done += n;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  } while (elapsed < min_seconds);
  return double(done) / elapsed;
}

int run(int argc, char** argv) {
  ds::app::Args args("deepshear bench estimators [--n N] [--seconds S] [--threads N]",
                     "RRG and KSB throughput (stamps/s) on 32x32 stamps, on 1 thread and on --threads threads.");
  args.option("--n", "N", "stamps per batch", "20000");
  args.option("--seconds", "S", "minimum time per measurement", "1.0");
  if (!args.parse(argc, argv)) return 0;
  const long n = args.get_int("--n");
  const double secs = args.get_double("--seconds");
  const int nt = ds::threads();
  ds::Tensor stamps = make_stamps(n);
  ds::ImageD psf(25, 25);
  for (long y = 0; y < 25; ++y)
    for (long x = 0; x < 25; ++x) psf(y, x) = std::exp(-((x - 12.0) * (x - 12.0) + (y - 12.0) * (y - 12.0)) / 2.88);
  ds::lens::RrgOptions opt;
  auto psf_m = ds::lens::gaussian_psf_moments(1.2);
  double rrg[2], ksb[2];
  for (int k = 0; k < 2; ++k) {
    ds::set_threads(k == 0 ? 1 : nt);
    rrg[k] = rate(n, [&] { ds::lens::rrg_estimate(stamps, psf_m, opt); }, secs);
    ksb[k] = rate(n / 4, [&] {
      ds::Tensor part({n / 4, 32, 32});
      std::copy(stamps.data(), stamps.data() + part.size(), part.data());
      ds::lens::ksb_estimate(part, psf.view());
    }, secs);
  }
  const nlohmann::ordered_json j = {{"benchmark", "estimators"},
                                    {"stamp", "32x32"},
                                    {"threads", nt},
                                    {"rrg_stamps_per_s_1thread", std::llround(rrg[0])},
                                    {"rrg_stamps_per_s", std::llround(rrg[1])},
                                    {"ksb_stamps_per_s_1thread", std::llround(ksb[0])},
                                    {"ksb_stamps_per_s", std::llround(ksb[1])},
                                    {"cpu", ds::build_info().cpu_name}};
  std::printf("%s\n", j.dump().c_str());
  return 0;
}

ds::app::RegisterBench reg("estimators", "RRG and KSB stamps/s on 1 and N threads", run);

}  // namespace
