// deepshear selfcheck: a quick check that this build works on this machine:
// FFT round trip against the identity, random streams reproducible across
// thread counts, a FITS image and table written atomically and read back.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <unistd.h>

#include "cli.hpp"
#include "deepshear/engine/fft.hpp"
#include "deepshear/engine/fits.hpp"
#include "deepshear/engine/parallel.hpp"
#include "deepshear/engine/random.hpp"

namespace {

bool check_fft() {
  const long ny = 48, nx = 40;
  ds::ImageD a(ny, nx), back(ny, nx);
  ds::RandomStream r(1, "selfcheck.fft");
  for (auto& v : a) v = r.normal();
  ds::AlignedBuffer<std::complex<double>> spec(std::size_t(ny * (nx / 2 + 1)));
  const auto& fft = ds::Fft2dD::get(ny, nx);
  fft.forward(a.data(), spec.data());
  fft.inverse(spec.data(), back.data());
  double worst = 0;
  for (long i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(back.data()[i] / double(ny * nx) - a.data()[i]));
  return worst < 1e-12;
}

bool check_random() {
  const long n = 10000;
  auto draw = [&](int threads) {
    ds::set_threads(threads);
    std::vector<double> v(static_cast<std::size_t>(n));
    ds::parallel_for(n, [&](long i, int) { v[std::size_t(i)] = ds::RandomStream(42, "selfcheck", std::uint64_t(i)).normal(); });
    return v;
  };
  int saved = ds::threads();
  bool same = draw(1) == draw(std::max(2, saved));
  ds::set_threads(saved);
  return same;
}

bool check_fits() {
  auto dir = std::filesystem::temp_directory_path() / ("deepshear-selfcheck-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "check.fits").string();
  ds::ImageF img(5, 7);
  for (long i = 0; i < img.size(); ++i) img.data()[i] = float(i) * 0.5f;
  {
    ds::fits::FitsWriter w(path);
    w.write_image(img, ds::fits::PixelType::Float32);
    w.write_table({ds::fits::TableColumn::doubles("G1", {0.1, -0.2})}, "SHEAR");
    w.commit();
  }
  ds::fits::FitsFile f(path);
  auto back = f.hdu(0).read_image<float>();
  bool ok = back.ny() == 5 && back.nx() == 7 && back(4, 6) == img(4, 6);
  auto g1 = f.hdu("SHEAR").read_column("g1");
  ok = ok && g1.size() == 2 && g1[1] == -0.2;
  std::filesystem::remove_all(dir);
  return ok;
}

int run(int argc, char** argv) {
  ds::app::Args args("deepshear selfcheck", "Quick checks that this build works here: FFT, random streams, FITS I/O.");
  if (!args.parse(argc, argv)) return 0;
  struct Check {
    const char* name;
    std::function<bool()> fn;
  };
  std::vector<Check> checks = {{"FFT forward + inverse is the identity (double)", check_fft},
                               {"random streams equal on 1 and N threads", check_random},
                               {"FITS image + table written atomically and read back", check_fits}};
  int failed = 0;
  for (const auto& c : checks) {
    bool ok = c.fn();
    failed += !ok;
    std::printf("  %s  %s\n", ok ? "ok  " : "FAIL", c.name);
  }
  std::printf("selfcheck: %zu passed, %d failed\n", checks.size() - std::size_t(failed), failed);
  return failed ? 1 : 0;
}

ds::app::Register reg("selfcheck", "quick checks that this build works on this machine", run);

}  // namespace
