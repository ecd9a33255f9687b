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
#include <string>
#include <vector>

#include "deepshear/engine/image.hpp"

namespace ds::plot {

struct Color {
  double r = 0, g = 0, b = 0, a = 1;
};
// A colour-blind-safe categorical palette (i wraps around).
Color palette(int i);

class Axes {
 public:
  // A polyline through (x, y); non-finite points break the line.
  void line(const std::vector<double>& x, const std::vector<double>& y, const std::string& label = "",
            int color = -1, bool dashed = false);
  // Markers with vertical error bars (yerr may be empty).
  void errorbars(const std::vector<double>& x, const std::vector<double>& y, const std::vector<double>& yerr,
                 const std::string& label = "", int color = -1);
  // Markers only.
  void scatter(const std::vector<double>& x, const std::vector<double>& y, const std::string& label = "",
               int color = -1, double size = 2.0);
  // Horizontal / vertical reference lines.
  void hline(double y, int color = 7);
  void vline(double x, int color = 7);
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

  void title(const std::string& s) { title_ = s; }
  void xlabel(const std::string& s) { xlabel_ = s; }
  void ylabel(const std::string& s) { ylabel_ = s; }
  void xlim(double lo, double hi) { xlim_ = {lo, hi, 1}; }
  void ylim(double lo, double hi) { ylim_ = {lo, hi, 1}; }
  // Same scale on both axes (maps).
  void equal_aspect(bool on = true) { equal_ = on; }

  struct Series {
    enum Kind { Line, ErrorBars, Scatter, HLine, VLine, Sticks, Text } kind;
    std::vector<double> x, y, e, g1, g2;
    std::string label;
    int color = 0;
    bool dashed = false;
    double size = 2, scale = 1, key = 0;
  };
  struct Map {
    Image<double> data;
    double x0 = 0, x1 = 1, y0 = 0, y1 = 1, vmin = 0, vmax = 0;
    std::string label;
    bool present = false;
  };
  const std::vector<Series>& series() const { return series_; }

 private:
  friend class Figure;
  int next_color(int c) { return c >= 0 ? c : auto_color_++; }
  std::vector<Series> series_;
  Map map_;
  std::string title_, xlabel_, ylabel_;
  std::array<double, 3> xlim_{0, 0, 0}, ylim_{0, 0, 0};
  bool equal_ = false;
  int auto_color_ = 0;
};

class Figure {
 public:
  // width x height in pixels (PNG) or points (SVG); a rows x cols grid of axes.
  Figure(double width = 800, double height = 500, int rows = 1, int cols = 1);
  Axes& axes(int row = 0, int col = 0);
  void title(const std::string& s) { title_ = s; }
  // Writes an SVG (.svg) or PNG (.png) file atomically; other extensions are an error.
  void save(const std::string& path) const;

 private:
  double width_, height_;
  int rows_, cols_;
  std::vector<Axes> axes_;
  std::string title_;
};

// "Nice" tick positions covering [lo, hi] (about n of them).
std::vector<double> nice_ticks(double lo, double hi, int n = 6);

}  // namespace ds::plot
