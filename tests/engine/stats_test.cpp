// Order statistics: the median (averaging the middle pair of an even count)
// and the upper middle value (one of the values, no averaging).
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "deepshear/engine/stats.hpp"

TEST_CASE("median averages the middle pair; upper_middle takes the upper one") {
  CHECK(ds::median({5, 1, 3}) == 3);
  CHECK(ds::median({4, 1, 3, 2}) == 2.5);
  CHECK(std::isnan(ds::median({})));
  std::vector<float> odd = {5, 1, 3}, even = {4, 1, 3, 2};
  CHECK(ds::upper_middle(odd) == 3);
  CHECK(ds::upper_middle(even) == 3);
  std::vector<float> one = {-2};
  CHECK(ds::upper_middle(one) == -2);
}
