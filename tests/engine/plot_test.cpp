// Pictures: tick placement, and SVG / PNG files that are what they claim to be.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>

#include "deepshear/engine/atomic_file.hpp"
#include "deepshear/engine/plot.hpp"
#include "test_support.hpp"

TEST_CASE("nice ticks are round numbers covering the range") {
  auto u = ds::plot::nice_ticks(0, 1, 6);
  REQUIRE(u.size() == 6);
  for (int i = 0; i < 6; ++i) CHECK(u[std::size_t(i)] == doctest::Approx(0.2 * i));
  auto t = ds::plot::nice_ticks(-0.23, 0.27, 6);
  REQUIRE(!t.empty());
  CHECK(t.front() >= -0.23);
  CHECK(t.back() <= 0.27);
  CHECK(t[1] - t[0] == doctest::Approx(0.1));
  CHECK(ds::plot::nice_ticks(1, 1).empty());
}

TEST_CASE("a figure with lines, error bars, a map and sticks saves as SVG and PNG") {
  ds::test::TempDir tmp;
  ds::plot::Figure fig(900, 400, 1, 2);
  auto& a = fig.axes(0, 0);
  a.line({20, 22, 24, 26}, {0.15, 0.18, 0.22, 0.3}, "CNN");
  a.errorbars({20, 22, 24, 26}, {0.2, 0.22, 0.26, 0.33}, {0.01, 0.01, 0.02, 0.03}, "RRG");
  a.xlabel("magnitude");
  a.ylabel("RMS");
  auto& b = fig.axes(0, 1);
  ds::ImageD map(10, 12);
  for (long i = 0; i < map.size(); ++i) map.data()[i] = std::sin(0.1 * double(i));
  b.image(map.view(), 0, 12, 0, 10, 0, 0, "g1");
  b.sticks({2, 5, 8}, {2, 5, 8}, {0.05, 0.0, -0.05}, {0.0, 0.05, 0.0}, 20, 0.05);
  b.equal_aspect();
  fig.save(tmp / "f.svg");
  fig.save(tmp / "f.png");
  std::string svg = ds::read_text_file(tmp / "f.svg");
  CHECK(svg.find("<svg") != std::string::npos);
  std::string png = ds::read_text_file(tmp / "f.png");
  REQUIRE(png.size() > 1000);
  CHECK(png.substr(1, 3) == "PNG");
  CHECK_THROWS_AS(fig.save(tmp / "f.jpg"), ds::Error);
}
