// Population matching: sources resampled by the weights follow the target's
// (magnitude, size) distribution.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>

#include "deepshear/engine/random.hpp"
#include "deepshear/lensing/training/population.hpp"
#include "deepshear/lensing/training/stamp_set.hpp"
#include "test_support.hpp"

using namespace ds::lens;

TEST_CASE("resampling by the weights moves a flat source population onto the target's") {
  ds::RandomStream r(8, "test.population");
  PopulationSample src, tgt;
  for (int i = 0; i < 40000; ++i) {
    src.magnitude.push_back(r.uniform(18, 26));
    src.log_rhalf.push_back(r.uniform(-1.5, 0));
  }
  for (int i = 0; i < 20000; ++i) {  // fainter and smaller on average
    tgt.magnitude.push_back(std::min(25.99, std::max(18.0, r.normal(24, 0.8))));
    tgt.log_rhalf.push_back(std::min(-0.01, std::max(-1.49, r.normal(-0.9, 0.2))));
  }
  auto w = population_weights(src, tgt, 16);
  ds::WeightedSampler pick(w);
  double m = 0, lr = 0, m2 = 0;
  const int n = 40000;
  for (int k = 0; k < n; ++k) {
    std::size_t i = pick(r);
    m += src.magnitude[i], lr += src.log_rhalf[i], m2 += src.magnitude[i] * src.magnitude[i];
  }
  m /= n, lr /= n;
  double sd = std::sqrt(m2 / n - m * m);
  CHECK(m == doctest::Approx(24.0).epsilon(0.005));
  CHECK(lr == doctest::Approx(-0.9).epsilon(0.03));
  CHECK(sd == doctest::Approx(0.8).epsilon(0.08));
  // A source outside the target's range is never drawn.
  src.magnitude.push_back(30);
  src.log_rhalf.push_back(-0.5);
  CHECK(population_weights(src, tgt, 16).back() == 0.0);
}

TEST_CASE("a target table is read with its errors naming the line") {
  ds::test::TempDir tmp;
  std::ofstream(tmp / "t.txt") << "# mag r_half\n22.5 0.3\n24.0 0.12\n";
  auto p = read_population(tmp / "t.txt");
  REQUIRE(p.magnitude.size() == 2);
  CHECK(p.log_rhalf[1] == doctest::Approx(std::log10(0.12)));
  std::ofstream(tmp / "bad.txt") << "22.5 0.3\n24.0 -1\n";
  CHECK_THROWS_WITH_AS(read_population(tmp / "bad.txt"), doctest::Contains("bad.txt:2"), ds::Error);
}

TEST_CASE("a matched catalogue stamp set draws only rows inside the target population") {
  DS_REQUIRE_SHARED(cat, "BlendingToolKit/data/cosmos/real_galaxy_catalog_26_extension_example.fits");
  ds::test::TempDir tmp;
  // Target: the brighter galaxies only (the catalogue's MAG spans 20.2 to 26.0).
  std::ofstream(tmp / "bright.txt") << "19.0 0.02\n24.0 2.0\n21.5 0.3\n";
  StampSetConfig c;
  c.source = cat;
  c.split = Split::Train;
  c.n = 40;
  c.noise_scale = 0;
  c.match_population = tmp / "bright.txt";
  c.match_bins = 1;
  auto s = make_stamp_set(c);
  for (const auto& t : s.truth) {
    CHECK(t.magnitude >= 19.0);
    CHECK(t.magnitude <= 24.0);
  }
}
