// The total image and its inverse variance (eqs. 2-3): the mean of the filters,
// whose variance is sum(V_i) / n^2; zero weights mask a pixel.
#include <doctest/doctest.h>

#include "deepshear/lensing/cluster/total_image.hpp"

TEST_CASE("total image: mean of the filters, inverse variance n^2 / sum V, masked where any weight is zero") {
  std::vector<ds::ImageF> im, w;
  const float vals[3] = {1, 2, 6}, wts[3] = {4, 2, 1};  // variances 0.25, 0.5, 1
  for (int i = 0; i < 3; ++i) {
    im.emplace_back(2, 3, vals[i]);
    w.emplace_back(2, 3, wts[i]);
  }
  w[1](1, 2) = 0;
  auto t = ds::lens::total_image(im, w);
  CHECK(t.image(0, 0) == doctest::Approx(3.0));
  CHECK(t.weight(0, 0) == doctest::Approx(9.0 / 1.75));  // Var(mean) = (0.25 + 0.5 + 1) / 9
  CHECK(t.weight(1, 2) == 0.0f);
  CHECK(t.masked == 1);
  w.pop_back();
  CHECK_THROWS_AS(ds::lens::total_image(im, w), ds::Error);
}
