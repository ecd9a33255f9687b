// Random streams: known-answer vectors of Philox4x32-10 (Salmon et al. 2011,
// the Random123 distribution's test vectors), thread-count independence, and
// the distribution of the draws.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "deepshear/engine/parallel.hpp"
#include "deepshear/engine/random.hpp"

using ds::RandomStream;

TEST_CASE("philox4x32-10 reproduces the published known-answer vectors") {
  auto a = ds::philox4x32({0, 0, 0, 0}, {0, 0});
  CHECK(a[0] == 0x6627e8d5u);
  CHECK(a[1] == 0xe169c58du);
  CHECK(a[2] == 0xbc57ac4cu);
  CHECK(a[3] == 0x9b00dbd8u);
  auto b = ds::philox4x32({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}, {0xffffffffu, 0xffffffffu});
  CHECK(b[0] == 0x408f276du);
  CHECK(b[1] == 0x41c83b0eu);
  CHECK(b[2] == 0xa20bc7c6u);
  CHECK(b[3] == 0x6d5451fdu);
  auto c = ds::philox4x32({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}, {0xa4093822u, 0x299f31d0u});
  CHECK(c[0] == 0xd16cfe09u);
  CHECK(c[1] == 0x94fdccebu);
  CHECK(c[2] == 0x5001e420u);
  CHECK(c[3] == 0x24126ea1u);
}

static std::vector<double> draw_all(int nthreads, long n) {
  ds::set_threads(nthreads);
  std::vector<double> v(static_cast<std::size_t>(3 * n));
  ds::parallel_for(n, [&](long i, int) {
    RandomStream r(2024, "test.items", std::uint64_t(i));
    v[std::size_t(3 * i)] = r.normal();
    v[std::size_t(3 * i + 1)] = r.uniform();
    v[std::size_t(3 * i + 2)] = double(r.integer(-5, 5));
  });
  ds::set_threads(0);
  return v;
}

TEST_CASE("the same seed gives the same numbers on 1 and 2 threads") {
  auto one = draw_all(1, 20000), two = draw_all(2, 20000);
  CHECK(one == two);
}

TEST_CASE("streams differ by seed, purpose and item") {
  RandomStream a(1, "noise", 0), b(2, "noise", 0), c(1, "shear", 0), d(1, "noise", 1), a2(1, "noise", 0);
  auto x = a.next_u64();
  CHECK(x == a2.next_u64());
  CHECK(x != b.next_u64());
  CHECK(x != c.next_u64());
  CHECK(x != d.next_u64());
}

TEST_CASE("normal draws: mean, variance and Kolmogorov-Smirnov on 1e6 samples") {
  const long n = 1000000;
  std::vector<double> z(static_cast<std::size_t>(n));
  RandomStream r(99, "test.normal");
  for (auto& v : z) v = r.normal();
  double mean = 0, var = 0;
  for (double v : z) mean += v;
  mean /= double(n);
  for (double v : z) var += (v - mean) * (v - mean);
  var /= double(n - 1);
  // Standard errors: 1e-3 for the mean, 1.4e-3 for the variance; allow 5 sigma.
  CHECK(std::abs(mean) < 5e-3);
  CHECK(std::abs(var - 1) < 7.1e-3);
  std::sort(z.begin(), z.end());
  double d = 0;
  for (long i = 0; i < n; ++i) {
    double cdf = 0.5 * std::erfc(-z[std::size_t(i)] / std::sqrt(2.0));
    d = std::max({d, std::abs(cdf - double(i) / double(n)), std::abs(cdf - double(i + 1) / double(n))});
  }
  // KS critical value at 1% significance: 1.628 / sqrt(n).
  CHECK(d < 1.628 / std::sqrt(double(n)));
}

TEST_CASE("uniform draws lie in [0, 1) and integers are unbiased (chi-square)") {
  RandomStream r(5, "test.uniform");
  double lo = 1, hi = 0;
  for (int i = 0; i < 100000; ++i) {
    double u = r.uniform();
    lo = std::min(lo, u);
    hi = std::max(hi, u);
  }
  CHECK(lo >= 0.0);
  CHECK(hi < 1.0);
  CHECK(lo < 1e-3);
  CHECK(hi > 1 - 1e-3);
  const int k = 7;
  const long n = 700000;
  std::vector<long> count(k);
  for (long i = 0; i < n; ++i) ++count[std::size_t(r.integer(3, 3 + k - 1) - 3)];
  double chi2 = 0, expect = double(n) / k;
  for (long c : count) chi2 += (double(c) - expect) * (double(c) - expect) / expect;
  CHECK(chi2 < 22.46);  // chi-square, 6 degrees of freedom, 0.1% tail
}

TEST_CASE("weighted choice and the alias sampler follow their weights") {
  std::vector<double> w = {1, 0, 3, 6};
  ds::WeightedSampler s(w);
  RandomStream r(11, "test.choice");
  const long n = 200000;
  std::vector<long> a(4), b(4);
  for (long i = 0; i < n; ++i) {
    ++a[r.choice(w)];
    ++b[s(r)];
  }
  CHECK(a[1] == 0);
  CHECK(b[1] == 0);
  for (std::size_t i : {0ul, 2ul, 3ul}) {
    double p = w[i] / 10.0, sd = std::sqrt(p * (1 - p) / double(n));
    CHECK(std::abs(double(a[i]) / double(n) - p) < 5 * sd);
    CHECK(std::abs(double(b[i]) / double(n) - p) < 5 * sd);
  }
  CHECK_THROWS_AS(r.choice({0, 0}), ds::Error);
  CHECK_THROWS_AS(r.integer(3, 2), ds::Error);
}

TEST_CASE("a stream resumes exactly from its saved position") {
  RandomStream a(3, "test.seek", 17);
  for (int i = 0; i < 13; ++i) a.next_u32();
  auto pos = a.position();
  std::vector<std::uint32_t> expect;
  for (int i = 0; i < 9; ++i) expect.push_back(a.next_u32());
  RandomStream b(3, "test.seek", 17);
  b.seek(pos);
  for (int i = 0; i < 9; ++i) CHECK(b.next_u32() == expect[std::size_t(i)]);
}
