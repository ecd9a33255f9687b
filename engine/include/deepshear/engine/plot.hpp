// Pictures of results (RMS curves, calibration plots, shear maps), drawn with
// cairo and written as SVG or PNG (by the file's extension), atomically.
//
//   ds::plot::Figure fig(800, 500);            // pixels (PNG) or points (SVG)
//   auto& ax = fig.axes();                     // or fig.axes(row, col) on a grid
//   ax.line(x, rms_cnn, "CNN");
//   ax.errorbars(x, rms_rrg, err_rrg, "RRG");
//   ax.xlabel("magnitude"); ax.ylabel("RMS error");
//   fig.save("rms.svg");
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "deepshear/engine/image.hpp"

namespace ds::plot {

struct Color {
  double r = 0, g = 0, b = 0, a = 1;
};
// A colour-blind-safe categorical palette (i wraps around).
Color palette(int i);

// Marker shapes of scatter and error-bar series (open ones are drawn hollow). Plus is a
// thick cross with a dark outline that shows on any map (e.g. a cluster centre).
enum class Marker { Circle, OpenCircle, Square, OpenSquare, Plus };

// Where the legend goes: Best tries the four inner corners (upper right first) for one
// that covers no data and otherwise puts it outside, right of the plot; None hides it.
enum class LegendPlace { Best, Outside, None };

class Axes {
 public:
  // A polyline through (x, y); non-finite points break the line.
  void line(const std::vector<double>& x, const std::vector<double>& y, const std::string& label = "",
            int color = -1, bool dashed = false);
  // Markers with vertical error bars (yerr may be empty).
  void errorbars(const std::vector<double>& x, const std::vector<double>& y, const std::vector<double>& yerr,
                 const std::string& label = "", int color = -1, Marker marker = Marker::Circle);
  // Markers only (size: radius in pixels).
  void scatter(const std::vector<double>& x, const std::vector<double>& y, const std::string& label = "",
               int color = -1, double size = 2.0, Marker marker = Marker::Circle);
  // Horizontal / vertical dashed reference lines (a label puts them in the legend).
  void hline(double y, int color = 7, const std::string& label = "");
  void vline(double x, int color = 7, const std::string& label = "");
  // A map: data (ny, nx) row-major [y][x] spanning [x0, x1] x [y0, y1] in data
  // units, colours from vmin to vmax (viridis-like), with a colour bar.
  // vmin == vmax: from the data's finite range. NaN pixels are left blank.
  void image(ImageView<const double> data, double x0, double x1, double y0, double y1, double vmin = 0,
             double vmax = 0, const std::string& bar_label = "");
  // Whisker (stick) marks at (x, y): length `scale` * |g| in data units, at
  // position angle phi = arg(g1 + i g2) / 2 from the x axis. A legend stick of
  // shear `key` is drawn in the corner when key > 0.
  void sticks(const std::vector<double>& x, const std::vector<double>& y, const std::vector<double>& g1,
              const std::vector<double>& g2, double scale, double key = 0, int color = 0);
  // A free text label at data coordinates.
  void text(double x, double y, const std::string& s);
  // A line of text in the legend, without a swatch (a caveat, a fitted value).
  void note(const std::string& s);

  void title(const std::string& s) { opt_.title = s; }
  void xlabel(const std::string& s) { opt_.xlabel = s; }
  void ylabel(const std::string& s) { opt_.ylabel = s; }
  void xlim(double lo, double hi) { opt_.xlim = {lo, hi, 1}; }
  void ylim(double lo, double hi) { opt_.ylim = {lo, hi, 1}; }
  // Same scale on both axes (maps).
  void equal_aspect(bool on = true) { opt_.equal = on; }
  // x grows to the left (sky maps: east left when x points east).
  void invert_x(bool on = true) { opt_.invert_x = on; }
  void legend(LegendPlace where) { opt_.legend = where; }
  // A small N / E compass in the upper left corner: N up (y is north), E along +x if
  // x_is_east, else along -x (so to the left on an inverted x axis).
  void compass(bool x_is_east = true) { opt_.compass = x_is_east ? 1 : -1; }

  struct Series {
    enum Kind { Line, ErrorBars, Scatter, HLine, VLine, Sticks, Text, Note } kind;
    std::vector<double> x, y, e, g1, g2;
    std::string label;
    int color = 0;
    bool dashed = false;
    double size = 2, scale = 1, key = 0;
    Marker marker = Marker::Circle;
  };
  struct Map {
    Image<double> data;
    double x0 = 0, x1 = 1, y0 = 0, y1 = 1, vmin = 0, vmax = 0;
    std::string label;
    bool present = false;
  };
  struct Options {
    std::string title, xlabel, ylabel;
    std::array<double, 3> xlim{0, 0, 0}, ylim{0, 0, 0};  // lo, hi, set
    bool equal = false, invert_x = false;
    LegendPlace legend = LegendPlace::Best;
    int compass = 0;  // 0 none, +1 east along +x, -1 east along -x
  };
  const std::vector<Series>& series() const { return series_; }
  const Map& map() const { return map_; }
  const Options& options() const { return opt_; }

 private:
  int next_color(int c) { return c >= 0 ? c : auto_color_++; }
  std::vector<Series> series_;
  Map map_;
  Options opt_;
  int auto_color_ = 0;
};

// A figure painted in memory: width x height pixels, row-major, each 0xAARRGGBB
// (premultiplied alpha; the ground is opaque white).
struct Raster {
  int width = 0, height = 0;
  std::vector<std::uint32_t> argb;
  std::uint32_t at(int x, int y) const { return argb[std::size_t(y) * std::size_t(width) + std::size_t(x)]; }
  int red(int x, int y) const { return int((at(x, y) >> 16) & 0xff); }
  int green(int x, int y) const { return int((at(x, y) >> 8) & 0xff); }
  int blue(int x, int y) const { return int(at(x, y) & 0xff); }
};

class Figure {
 public:
  // width x height in pixels (PNG) or points (SVG); a rows x cols grid of axes.
  Figure(double width = 800, double height = 500, int rows = 1, int cols = 1);
  Axes& axes(int row = 0, int col = 0);
  void title(const std::string& s) { title_ = s; }
  // Writes an SVG (.svg) or PNG (.png) file atomically; other extensions are an error.
  void save(const std::string& path) const;
  // The figure as PNG would hold it, in memory (tests, embedding).
  Raster raster() const;

 private:
  double width_, height_;
  int rows_, cols_;
  std::vector<Axes> axes_;
  std::string title_;
  void paint(void* cairo_surface) const;
};

// "Nice" tick positions covering [lo, hi] (about n of them).
std::vector<double> nice_ticks(double lo, double hi, int n = 6);

}  // namespace ds::plot
