// Source masks: growing a mask against the brute-force definition (every
// pixel within Chebyshev distance `grow` of a masked one), and the robust
// threshold mask on an image whose median and MAD are known.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>

#include "deepshear/engine/error.hpp"
#include "deepshear/imaging/mask.hpp"

namespace {

// The definition, O(n grow^2).
ds::img::Mask grown_by_definition(const ds::img::Mask& m, long grow) {
  ds::img::Mask out(m.ny(), m.nx(), 0);
  for (long y = 0; y < m.ny(); ++y)
    for (long x = 0; x < m.nx(); ++x)
      for (long v = std::max(0L, y - grow); v <= std::min(m.ny() - 1, y + grow); ++v)
        for (long u = std::max(0L, x - grow); u <= std::min(m.nx() - 1, x + grow); ++u)
          if (m(v, u)) out(y, x) = 1;
  return out;
}

}  // namespace

TEST_CASE("grow_mask sets exactly the pixels within Chebyshev distance grow of a masked pixel") {
  std::srand(7);
  ds::img::Mask m(23, 31, 0);
  for (long k = 0; k < m.size(); ++k) m.data()[k] = std::rand() % 37 == 0;
  m(0, 0) = m(22, 30) = 1;  // corners: the growth is clipped at the edges
  for (long grow : {0L, 1L, 3L, 8L, 40L}) {
    const auto a = ds::img::grow_mask(m, grow), b = grown_by_definition(m, grow);
    long differ = 0;
    for (long k = 0; k < m.size(); ++k) differ += a.data()[k] != b.data()[k];
    CHECK_MESSAGE(differ == 0, "grow ", grow);
  }
  CHECK_THROWS_AS(ds::img::grow_mask(m, -1), ds::Error);
}

TEST_CASE("threshold_mask masks pixels above median + k x 1.4826 MAD, then grows them") {
  // Background alternating 0 and 1 (median 1 as the upper middle, MAD 0 or
  // 1): with values -1, 0, 1 in equal thirds the median is 0 and the MAD 1.
  ds::ImageF im(30, 30, 0.0f);
  for (long k = 0; k < im.size(); ++k) im.data()[k] = float(k % 3) - 1.0f;
  im(10, 10) = 4.5f;   // above 0 + 3 x 1.4826 = 4.448
  im(20, 20) = 4.4f;   // below
  const auto m = ds::img::threshold_mask(im, 3.0, 1);
  long masked = 0;
  for (auto v : m) masked += v;
  CHECK(masked == 9);
  CHECK(m(9, 9) == 1);
  CHECK(m(11, 11) == 1);
  CHECK(m(20, 20) == 0);
  ds::ImageF tiny(5, 5, 0.0f);
  CHECK_THROWS_AS(ds::img::threshold_mask(tiny, 3.0, 1), ds::Error);
}
