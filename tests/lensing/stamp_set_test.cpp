// Simulated stamp sets: reproducible in chunks and on any thread count,
// augmentations as configured, disjoint source splits, bounded shears.
#include <doctest/doctest.h>

#include <cmath>
#include <set>

#include "deepshear/engine/parallel.hpp"
#include "deepshear/imaging/real_galaxy_catalog.hpp"
#include "deepshear/lensing/training/stamp_set.hpp"
#include "test_support.hpp"

using namespace ds::lens;

TEST_CASE("a stamp set made in chunks on 2 threads equals one made whole on 1 thread") {
  StampSetConfig c;
  c.n = 12;
  c.seed = 5;
  c.size_jitter = 0.15;
  c.shift_range = 3.5;
  ds::set_threads(1);
  StampSet whole = make_stamp_set(c);
  ds::set_threads(2);
  StampSetConfig a = c, b = c;
  a.n = 5;
  b.first = 5;
  b.n = 7;
  StampSet p = make_stamp_set(a), q = make_stamp_set(b);
  ds::set_threads(0);
  for (long i = 0; i < 12; ++i) {
    const StampSet& part = i < 5 ? p : q;
    long j = i < 5 ? i : i - 5;
    CHECK(part.truth[std::size_t(j)].g1 == whole.truth[std::size_t(i)].g1);
    CHECK(part.truth[std::size_t(j)].dx == whole.truth[std::size_t(i)].dx);
    bool same = true;
    for (long k = 0; k < 32 * 32; ++k) same = same && part.stamps[j * 1024 + k] == whole.stamps[i * 1024 + k];
    CHECK(same);
  }
}

TEST_CASE("shears stay in range; test sets only rotate and mirror; background adds a constant") {
  StampSetConfig c;
  c.n = 40;
  c.noise_scale = 0;
  StampSet s = make_stamp_set(c);
  bool mirrored = false;
  for (const auto& t : s.truth) {
    CHECK(std::abs(t.g1) <= 0.2);
    CHECK(std::abs(t.g2) <= 0.2);
    CHECK(t.dx == 0.0);
    CHECK(t.mu == 1.0);
    mirrored = mirrored || t.mirror;
    CHECK(t.magnitude >= 20.0);
    CHECK(t.magnitude <= 27.0);
  }
  CHECK(mirrored);
  c.background = 0.01;
  StampSet b = make_stamp_set(c);
  double worst = 0;
  for (long k = 0; k < b.stamps.size(); ++k) worst = std::max(worst, std::abs(double(b.stamps[k]) - s.stamps[k] - 0.01));
  CHECK(worst < 1e-6);
}

TEST_CASE("catalogue splits are disjoint and fixed by the seed") {
  DS_REQUIRE_SHARED(cat, "BlendingToolKit/data/cosmos/real_galaxy_catalog_26_extension_example.fits");
  StampSetConfig c;
  c.source = cat;
  c.n = 30;
  c.noise_scale = 0;
  std::set<long> seen[3];
  for (Split sp : {Split::Train, Split::Calibration, Split::Test}) {
    c.split = sp;
    StampSet s = make_stamp_set(c);
    for (const auto& t : s.truth) seen[int(sp)].insert(t.source);
    bool finite = true;
    for (long k = 0; k < s.stamps.size(); ++k) finite = finite && std::isfinite(s.stamps[k]);
    CHECK(finite);
  }
  for (long r : seen[0]) {
    CHECK(seen[1].count(r) == 0);
    CHECK(seen[2].count(r) == 0);
  }
  for (long r : seen[1]) CHECK(seen[2].count(r) == 0);
}
