// FFTs against a direct DFT written here, round trips, and concurrent use of
// one cached plan from several threads.
#include <doctest/doctest.h>

#include <cmath>
#include <complex>
#include <vector>

#include "deepshear/engine/fft.hpp"
#include "deepshear/engine/parallel.hpp"
#include "deepshear/engine/random.hpp"

namespace {

// Direct 2-D DFT of a real ny x nx array (long double accumulation):
// X[ky][kx] = sum_y sum_x a[y][x] exp(-2 pi i (ky y / ny + kx x / nx)).
std::vector<std::complex<long double>> direct_dft(const std::vector<double>& a, long ny, long nx) {
  std::vector<std::complex<long double>> out(std::size_t(ny * (nx / 2 + 1)));
  const long double tau = 2.0L * 3.14159265358979323846264338327950288L;
  for (long ky = 0; ky < ny; ++ky)
    for (long kx = 0; kx <= nx / 2; ++kx) {
      std::complex<long double> s = 0;
      for (long y = 0; y < ny; ++y)
        for (long x = 0; x < nx; ++x) {
          long double ph = -tau * ((long double)(ky * y % ny) / ny + (long double)(kx * x % nx) / nx);
          s += (long double)a[std::size_t(y * nx + x)] * std::complex<long double>(std::cos(ph), std::sin(ph));
        }
      out[std::size_t(ky * (nx / 2 + 1) + kx)] = s;
    }
  return out;
}

template <class T>
double relative_error_vs_dft(long ny, long nx, std::uint64_t seed) {
  ds::RandomStream r(seed, "test.fft");
  std::vector<double> a(std::size_t(ny * nx));
  for (auto& v : a) v = r.normal();
  ds::AlignedBuffer<T> in(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) in[i] = T(a[i]);
  ds::AlignedBuffer<std::complex<T>> out(std::size_t(ny * (nx / 2 + 1)));
  ds::Fft2d<T>::get(ny, nx).forward(in.data(), out.data());
  auto ref = direct_dft(a, ny, nx);
  long double num = 0, den = 0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    num += std::norm(std::complex<long double>(out[i].real(), out[i].imag()) - ref[i]);
    den += std::norm(ref[i]);
  }
  return double(std::sqrt(num / den));
}

}  // namespace

TEST_CASE("double FFT equals the direct DFT to 1e-12 (even, odd and prime shapes)") {
  for (auto [ny, nx] : {std::pair<long, long>{8, 8}, {12, 10}, {9, 7}, {13, 17}, {32, 20}})
    CHECK(relative_error_vs_dft<double>(ny, nx, std::uint64_t(ny * 100 + nx)) < 1e-12);
}

TEST_CASE("float FFT equals the direct DFT to 1e-5") {
  for (auto [ny, nx] : {std::pair<long, long>{8, 8}, {12, 10}, {9, 7}, {32, 20}})
    CHECK(relative_error_vs_dft<float>(ny, nx, std::uint64_t(ny * 100 + nx)) < 1e-5);
}

TEST_CASE("forward then inverse is the identity times ny * nx, also on unaligned arrays") {
  const long ny = 24, nx = 18;
  ds::RandomStream r(3, "test.fft.roundtrip");
  std::vector<double> a(std::size_t(ny * nx) + 1), back(std::size_t(ny * nx) + 1);
  for (auto& v : a) v = r.normal();
  std::vector<std::complex<double>> k(std::size_t(ny * (nx / 2 + 1)) + 1);
  const auto& fft = ds::Fft2dD::get(ny, nx);
  fft.forward(a.data() + 1, k.data() + 1);  // deliberately misaligned
  fft.inverse(k.data() + 1, back.data() + 1);
  double worst = 0;
  for (long i = 1; i <= ny * nx; ++i) worst = std::max(worst, std::abs(back[std::size_t(i)] / double(ny * nx) - a[std::size_t(i)]));
  CHECK(worst < 1e-13);
  CHECK(&ds::Fft2dD::get(ny, nx) == &fft);  // the plan is cached
}

TEST_CASE("one plan used by many threads at once gives the serial answer") {
  const long ny = 64, nx = 64, n = 64;
  std::vector<ds::AlignedBuffer<float>> in;
  for (long i = 0; i < n; ++i) {
    in.emplace_back(std::size_t(ny * nx));
    ds::RandomStream r(8, "test.fft.threads", std::uint64_t(i));
    for (auto& v : in.back()) v = float(r.normal());
  }
  auto run = [&](int threads) {
    ds::set_threads(threads);
    std::vector<ds::AlignedBuffer<std::complex<float>>> out(static_cast<std::size_t>(n));
    ds::parallel_for(n, [&](long i, int) {
      out[std::size_t(i)].resize(std::size_t(ny * (nx / 2 + 1)));
      ds::Fft2dF::get(ny, nx).forward(in[std::size_t(i)].data(), out[std::size_t(i)].data());
    });
    ds::set_threads(0);
    return out;
  };
  auto a = run(1), b = run(2);
  bool same = true;
  for (long i = 0; i < n; ++i)
    for (std::size_t j = 0; j < a[std::size_t(i)].size(); ++j) same = same && a[std::size_t(i)][j] == b[std::size_t(i)][j];
  CHECK(same);
}
