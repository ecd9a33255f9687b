// Pictures: tick placement, and SVG / PNG files that are what they claim to be.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>
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

namespace {
// The columns of row y whose pixel is dark grey or black (antialiased frame lines, text).
std::vector<int> dark_columns(const ds::plot::Raster& r, int y) {
  std::vector<int> xs;
  for (int x = 0; x < r.width; ++x)
    if (r.red(x, y) < 170 && r.green(x, y) < 170 && r.blue(x, y) < 170) xs.push_back(x);
  return xs;
}
}  // namespace

TEST_CASE("an inverted x axis draws the map's high-x side on the left (sky maps: east left)") {
  ds::ImageD map(4, 8);
  for (long y = 0; y < 4; ++y)
    for (long x = 0; x < 8; ++x) map(y, x) = x < 4 ? 0.0 : 1.0;  // low x dark, high x yellow
  for (bool inverted : {false, true}) {
    ds::plot::Figure fig(400, 300);
    auto& ax = fig.axes();
    ax.image(map.view(), 0, 8, 0, 4, 0, 1);
    ax.invert_x(inverted);
    const auto r = fig.raster();
    // The plot box spans x = 70 .. 290 (70 px left, 110 px for the colour bar).
    const int left = r.red(110, 130), right = r.red(250, 130);
    CHECK((inverted ? left : right) > 200);  // yellow (0.99, 0.91, 0.15)
    CHECK((inverted ? right : left) < 100);  // dark purple (0.27, 0.0, 0.33)
  }
}

TEST_CASE("the legend takes a free corner, else goes outside the data") {
  // Points filling the upper right quarter: the legend moves to the upper left corner.
  std::vector<double> x, y;
  for (int i = 0; i < 10; ++i)
    for (int j = 0; j < 10; ++j) x.push_back(5 + 0.5 * i), y.push_back(5 + 0.5 * j);
  x.push_back(0), y.push_back(0);
  ds::plot::Figure fig(400, 300);
  fig.axes().scatter(x, y, "data points", 0, 2.0);
  const auto r = fig.raster();
  // Frame: left edge at x = 70, right edge at 380; the legend's text sits in the top left.
  int text = 0;
  for (int yy = 20; yy < 40; ++yy)
    for (int xx = 100; xx < 200; ++xx) text += r.red(xx, yy) < 60 && r.green(xx, yy) < 60 ? 1 : 0;
  CHECK(text > 20);
  CHECK(dark_columns(r, 150).back() >= 378);
  // Data everywhere: the legend goes right of the plot box, which shrinks.
  std::vector<double> gx, gy;
  for (int i = 0; i <= 20; ++i)
    for (int j = 0; j <= 20; ++j) gx.push_back(0.5 * i), gy.push_back(0.5 * j);
  ds::plot::Figure full(400, 300);
  full.axes().scatter(gx, gy, "data points", 0, 1.0);
  const auto rf = full.raster();
  const auto cols = dark_columns(rf, 152);  // the frame's edges (the points are blue)
  REQUIRE(cols.size() >= 2);
  CHECK(cols.front() < 75);
  CHECK(cols.back() < 300);
  ds::plot::Figure none(400, 300);
  none.axes().scatter(gx, gy, "data points", 0, 1.0);
  none.axes().legend(ds::plot::LegendPlace::None);
  CHECK(dark_columns(none.raster(), 150).back() >= 378);
}
