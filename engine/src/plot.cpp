#include "deepshear/engine/plot.hpp"

#include <cairo-svg.h>
#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "deepshear/engine/atomic_file.hpp"
#include "deepshear/engine/constants.hpp"
#include "deepshear/engine/error.hpp"

namespace ds::plot {

Color palette(int i) {
  // Okabe & Ito (2008) colour-blind-safe palette, black last.
  static const Color c[] = {{0.000, 0.447, 0.698}, {0.835, 0.369, 0.000}, {0.000, 0.620, 0.451},
                            {0.800, 0.475, 0.655}, {0.902, 0.624, 0.000}, {0.337, 0.706, 0.914},
                            {0.941, 0.894, 0.259}, {0.3, 0.3, 0.3}};
  return c[((i % 8) + 8) % 8];
}

// Viridis-like colour map through five anchor colours.
static Color colormap(double t) {
  static const Color a[] = {{0.267, 0.005, 0.329}, {0.231, 0.322, 0.545}, {0.129, 0.569, 0.549},
                            {0.369, 0.788, 0.384}, {0.992, 0.906, 0.145}};
  t = std::clamp(t, 0.0, 1.0) * 4;
  int i = std::min(3, int(t));
  double f = t - i;
  return {a[i].r + f * (a[i + 1].r - a[i].r), a[i].g + f * (a[i + 1].g - a[i].g), a[i].b + f * (a[i + 1].b - a[i].b)};
}

std::vector<double> nice_ticks(double lo, double hi, int n) {
  std::vector<double> out;
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return out;
  double raw = (hi - lo) / std::max(1, n - 1);
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  long k0 = long(std::ceil(lo / step - 1e-9)), k1 = long(std::floor(hi / step + 1e-9));
  for (long k = k0; k <= k1; ++k) out.push_back(double(k) * step);
  return out;
}

// ------------------------------------------------------------------ Axes

void Axes::line(const std::vector<double>& x, const std::vector<double>& y, const std::string& label, int color,
                bool dashed) {
  require(x.size() == y.size(), "plot: line x and y differ in length");
  series_.push_back({Series::Line, x, y, {}, {}, {}, label, next_color(color), dashed});
}

void Axes::errorbars(const std::vector<double>& x, const std::vector<double>& y, const std::vector<double>& e,
                     const std::string& label, int color, Marker marker) {
  require(x.size() == y.size() && (e.empty() || e.size() == y.size()), "plot: error bars differ in length");
  Series s{Series::ErrorBars, x, y, e, {}, {}, label, next_color(color)};
  s.size = 3.0, s.marker = marker;
  series_.push_back(s);
}

void Axes::scatter(const std::vector<double>& x, const std::vector<double>& y, const std::string& label, int color,
                   double size, Marker marker) {
  require(x.size() == y.size(), "plot: scatter x and y differ in length");
  Series s{Series::Scatter, x, y, {}, {}, {}, label, next_color(color)};
  s.size = size, s.marker = marker;
  series_.push_back(s);
}

void Axes::hline(double y, int color, const std::string& label) {
  series_.push_back({Series::HLine, {}, {y}, {}, {}, {}, label, color, true});
}
void Axes::vline(double x, int color, const std::string& label) {
  series_.push_back({Series::VLine, {x}, {}, {}, {}, {}, label, color, true});
}

void Axes::image(ImageView<const double> data, double x0, double x1, double y0, double y1, double vmin, double vmax,
                 const std::string& bar_label) {
  map_.data = Image<double>::copy_of(data);
  map_.x0 = x0, map_.x1 = x1, map_.y0 = y0, map_.y1 = y1;
  if (!(vmax > vmin)) {
    vmin = INFINITY, vmax = -INFINITY;
    for (double v : map_.data)
      if (std::isfinite(v)) vmin = std::min(vmin, v), vmax = std::max(vmax, v);
    if (!(vmax > vmin)) vmin = std::isfinite(vmin) ? vmin - 1 : 0, vmax = vmin + 2;
  }
  map_.vmin = vmin, map_.vmax = vmax, map_.label = bar_label, map_.present = true;
}

void Axes::sticks(const std::vector<double>& x, const std::vector<double>& y, const std::vector<double>& g1,
                  const std::vector<double>& g2, double scale, double key, int color) {
  require(x.size() == y.size() && g1.size() == x.size() && g2.size() == x.size(), "plot: sticks differ in length");
  Series s{Series::Sticks, x, y, {}, g1, g2, "", color};
  s.scale = scale, s.key = key;
  series_.push_back(s);
}

void Axes::text(double x, double y, const std::string& str) {
  series_.push_back({Series::Text, {x}, {y}, {}, {}, {}, str, 7});
}

void Axes::note(const std::string& str) { series_.push_back({Series::Note, {}, {}, {}, {}, {}, str, 7}); }

// ------------------------------------------------------------------ Figure

Figure::Figure(double width, double height, int rows, int cols)
    : width_(width), height_(height), rows_(rows), cols_(cols), axes_(std::size_t(rows * cols)) {
  require(rows > 0 && cols > 0 && width > 0 && height > 0, "plot: bad figure size");
}

Axes& Figure::axes(int row, int col) {
  require(row >= 0 && row < rows_ && col >= 0 && col < cols_, "plot: no axes at (" + std::to_string(row) + ", " +
                                                                   std::to_string(col) + ")");
  return axes_[std::size_t(row * cols_ + col)];
}

namespace {

using Series = Axes::Series;

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

void set_color(cairo_t* cr, Color c) { cairo_set_source_rgba(cr, c.r, c.g, c.b, c.a); }

void show_text(cairo_t* cr, double x, double y, const std::string& s, double ax, double ay, double angle = 0) {
  cairo_text_extents_t e;
  cairo_text_extents(cr, s.c_str(), &e);
  cairo_save(cr);
  cairo_translate(cr, x, y);
  cairo_rotate(cr, angle);
  cairo_move_to(cr, -e.x_bearing - ax * e.width, -e.y_bearing - ay * e.height);
  cairo_show_text(cr, s.c_str());
  cairo_restore(cr);
}

struct Range {
  double lo = INFINITY, hi = -INFINITY;
  void add(double v) {
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  }
  void finish(bool pad) {
    if (!(hi >= lo)) lo = 0, hi = 1;
    if (hi == lo) lo -= 0.5 * (std::abs(lo) + 1), hi += 0.5 * (std::abs(hi) + 1);
    if (pad) {
      double p = 0.05 * (hi - lo);
      lo -= p, hi += p;
    }
  }
};

// The plot box (pixels) and the data ranges it shows.
struct Frame {
  double px = 0, py = 0, pw = 0, ph = 0;
  Range rx, ry;
  bool invert_x = false;
  double tx(double x) const {
    const double f = (x - rx.lo) / (rx.hi - rx.lo);
    return px + (invert_x ? 1 - f : f) * pw;
  }
  double ty(double y) const { return py + ph - (y - ry.lo) / (ry.hi - ry.lo) * ph; }
};

// The data ranges of every series (error bars included) and the map, padded unless a
// map is shown, then the axes' limits.
std::array<Range, 2> data_ranges(const Axes& ax) {
  Range rx, ry;
  for (const auto& s : ax.series()) {
    if (s.kind == Series::VLine || s.kind == Series::HLine || s.kind == Series::Note) continue;
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      rx.add(s.x[i]);
      const bool bar = s.kind == Series::ErrorBars && !s.e.empty() && std::isfinite(s.e[i]);
      ry.add(bar ? s.y[i] - s.e[i] : s.y[i]);
      if (bar) ry.add(s.y[i] + s.e[i]);
    }
  }
  const auto& map = ax.map();
  if (map.present) rx.add(map.x0), rx.add(map.x1), ry.add(map.y0), ry.add(map.y1);
  rx.finish(!map.present);
  ry.finish(!map.present);
  const auto& o = ax.options();
  if (o.xlim[2] != 0) rx.lo = o.xlim[0], rx.hi = o.xlim[1];
  if (o.ylim[2] != 0) ry.lo = o.ylim[0], ry.hi = o.ylim[1];
  return {rx, ry};
}

// The plot box inside the cell (X, Y, W, H) with `extra_right` pixels kept free right of
// it (an outside legend); equal aspect shrinks the box to one scale.
Frame make_frame(const Axes& ax, double X, double Y, double W, double H, double extra_right) {
  const auto& o = ax.options();
  const double left = 70, right = (ax.map().present ? 110 : 20) + extra_right;
  const double top = o.title.empty() ? 15 : 32, bottom = 50;
  Frame f;
  f.px = X + left, f.py = Y + top, f.pw = W - left - right, f.ph = H - top - bottom;
  const auto r = data_ranges(ax);
  f.rx = r[0], f.ry = r[1], f.invert_x = o.invert_x;
  if (o.equal && f.pw > 0 && f.ph > 0) {
    const double s = std::min(f.pw / (f.rx.hi - f.rx.lo), f.ph / (f.ry.hi - f.ry.lo));
    const double nw = s * (f.rx.hi - f.rx.lo), nh = s * (f.ry.hi - f.ry.lo);
    f.px += (f.pw - nw) / 2, f.py += (f.ph - nh) / 2, f.pw = nw, f.ph = nh;
  }
  return f;
}

// A marker of radius r at pixel (x, y) in the current colour.
void draw_marker(cairo_t* cr, double x, double y, double r, Marker m) {
  switch (m) {
    case Marker::Circle:
    case Marker::OpenCircle:
      cairo_new_sub_path(cr);
      cairo_arc(cr, x, y, r, 0, 2 * kPi);
      break;
    case Marker::Square:
    case Marker::OpenSquare:
      cairo_rectangle(cr, x - r, y - r, 2 * r, 2 * r);
      break;
    case Marker::Plus: {
      cairo_save(cr);
      for (int pass = 0; pass < 2; ++pass) {
        cairo_set_line_width(cr, pass == 0 ? 5 : 2.5);
        cairo_set_source_rgb(cr, pass == 0 ? 0 : 1, pass == 0 ? 0 : 1, pass == 0 ? 0 : 1);
        cairo_move_to(cr, x - r, y), cairo_line_to(cr, x + r, y);
        cairo_move_to(cr, x, y - r), cairo_line_to(cr, x, y + r);
        cairo_stroke(cr);
      }
      cairo_restore(cr);
      return;
    }
  }
  if (m == Marker::OpenCircle || m == Marker::OpenSquare) {
    cairo_save(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_fill_preserve(cr);
    cairo_restore(cr);
    cairo_set_line_width(cr, 1.6);
    cairo_stroke(cr);
  } else {
    cairo_fill(cr);
  }
}

// The map, pixel by pixel: data (ny, nx) over [x0, x1] x [y0, y1].
void draw_map(cairo_t* cr, const Axes::Map& map, const Frame& f) {
  const auto& d = map.data;
  cairo_save(cr);
  cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE);  // no seams between the cells
  const double cw = (f.tx(map.x1) - f.tx(map.x0)) / double(d.nx()), ch = (f.ty(map.y1) - f.ty(map.y0)) / double(d.ny());
  for (long y = 0; y < d.ny(); ++y)
    for (long x = 0; x < d.nx(); ++x) {
      const double v = d(y, x);
      if (!std::isfinite(v)) continue;
      set_color(cr, colormap((v - map.vmin) / (map.vmax - map.vmin)));
      const double x0 = f.tx(map.x0) + cw * double(x), y0 = f.ty(map.y0) + ch * double(y);
      cairo_rectangle(cr, std::min(x0, x0 + cw), std::min(y0, y0 + ch), std::abs(cw), std::abs(ch));
      cairo_fill(cr);
    }
  cairo_restore(cr);
}

// A polyline; non-finite points lift the pen.
void draw_line(cairo_t* cr, const Series& s, const Frame& f) {
  bool pen = false;
  for (std::size_t i = 0; i < s.x.size(); ++i) {
    if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) {
      pen = false;
      continue;
    }
    if (pen)
      cairo_line_to(cr, f.tx(s.x[i]), f.ty(s.y[i]));
    else
      cairo_move_to(cr, f.tx(s.x[i]), f.ty(s.y[i]));
    pen = true;
  }
  cairo_stroke(cr);
}

// Markers, with vertical error bars for an ErrorBars series.
void draw_points(cairo_t* cr, const Series& s, const Frame& f) {
  for (std::size_t i = 0; i < s.x.size(); ++i) {
    if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
    if (s.kind == Series::ErrorBars && !s.e.empty() && std::isfinite(s.e[i])) {
      cairo_move_to(cr, f.tx(s.x[i]), f.ty(s.y[i] - s.e[i]));
      cairo_line_to(cr, f.tx(s.x[i]), f.ty(s.y[i] + s.e[i]));
      cairo_stroke(cr);
    }
    draw_marker(cr, f.tx(s.x[i]), f.ty(s.y[i]), s.size, s.marker);
  }
}

// Sticks of length scale |g| at angle arg(g) / 2 (white on a map), and the key stick.
void draw_sticks(cairo_t* cr, const Series& s, const Frame& f, bool on_map) {
  set_color(cr, on_map ? Color{1, 1, 1} : palette(s.color));
  auto stick = [&](double x, double y, double g1, double g2) {
    const double len = s.scale * std::hypot(g1, g2), phi = 0.5 * std::atan2(g2, g1);
    const double dx = 0.5 * len * std::cos(phi), dy = 0.5 * len * std::sin(phi);
    cairo_move_to(cr, f.tx(x - dx), f.ty(y - dy));
    cairo_line_to(cr, f.tx(x + dx), f.ty(y + dy));
  };
  for (std::size_t i = 0; i < s.x.size(); ++i)
    if (std::isfinite(s.g1[i]) && std::isfinite(s.g2[i])) stick(s.x[i], s.y[i], s.g1[i], s.g2[i]);
  cairo_stroke(cr);
  if (s.key <= 0) return;
  // The key in the lower left corner of the box, whichever way x runs, on a white backing.
  const double kpx = f.px + 0.1 * f.pw, kpy = f.py + 0.94 * f.ph;
  const double half = 0.5 * s.scale * s.key * f.pw / (f.rx.hi - f.rx.lo);
  cairo_set_font_size(cr, 11);
  const std::string label = "g = " + fmt(s.key);
  cairo_text_extents_t e;
  cairo_text_extents(cr, label.c_str(), &e);
  cairo_set_source_rgba(cr, 1, 1, 1, 0.9);
  cairo_rectangle(cr, kpx - half - 6, kpy - 10, 2 * half + e.x_advance + 18, 20);
  cairo_fill(cr);
  set_color(cr, on_map ? Color{0, 0, 0} : palette(s.color));
  cairo_move_to(cr, kpx - half, kpy), cairo_line_to(cr, kpx + half, kpy);
  cairo_set_line_width(cr, 2.5);
  cairo_stroke(cr);
  set_color(cr, {0, 0, 0});
  show_text(cr, kpx + half + 6, kpy, label, 0, 0.5);
}

// One series inside the clipped plot box.
void draw_series(cairo_t* cr, const Series& s, const Frame& f, bool on_map) {
  set_color(cr, palette(s.color));
  cairo_set_line_width(cr, 1.6);
  const double dash = 5;
  cairo_set_dash(cr, &dash, s.dashed ? 1 : 0, 0);
  switch (s.kind) {
    case Series::Line: draw_line(cr, s, f); break;
    case Series::ErrorBars:
    case Series::Scatter: draw_points(cr, s, f); break;
    case Series::HLine:
      cairo_move_to(cr, f.px, f.ty(s.y[0])), cairo_line_to(cr, f.px + f.pw, f.ty(s.y[0]));
      cairo_stroke(cr);
      break;
    case Series::VLine:
      cairo_move_to(cr, f.tx(s.x[0]), f.py), cairo_line_to(cr, f.tx(s.x[0]), f.py + f.ph);
      cairo_stroke(cr);
      break;
    case Series::Sticks: draw_sticks(cr, s, f, on_map); break;
    case Series::Text:
      set_color(cr, {0, 0, 0});
      cairo_set_font_size(cr, 11);
      show_text(cr, f.tx(s.x[0]), f.ty(s.y[0]), s.label, 0, 0.5);
      break;
    case Series::Note: break;
  }
  cairo_set_dash(cr, nullptr, 0, 0);
}

// Frame, ticks (decreasing to the right on an inverted x axis), axis labels and title.
void draw_frame(cairo_t* cr, const Frame& f, const Axes::Options& o, double X, double Y) {
  set_color(cr, {0, 0, 0});
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, f.px, f.py, f.pw, f.ph);
  cairo_stroke(cr);
  cairo_set_font_size(cr, 11);
  for (double t : nice_ticks(f.rx.lo, f.rx.hi)) {
    cairo_move_to(cr, f.tx(t), f.py + f.ph), cairo_line_to(cr, f.tx(t), f.py + f.ph - 5);
    cairo_stroke(cr);
    show_text(cr, f.tx(t), f.py + f.ph + 6, fmt(t), 0.5, 0);
  }
  for (double t : nice_ticks(f.ry.lo, f.ry.hi)) {
    cairo_move_to(cr, f.px, f.ty(t)), cairo_line_to(cr, f.px + 5, f.ty(t));
    cairo_stroke(cr);
    show_text(cr, f.px - 6, f.ty(t), fmt(t), 1, 0.5);
  }
  cairo_set_font_size(cr, 13);
  if (!o.xlabel.empty()) show_text(cr, f.px + f.pw / 2, f.py + f.ph + 26, o.xlabel, 0.5, 0);
  if (!o.ylabel.empty()) show_text(cr, X + 14, f.py + f.ph / 2, o.ylabel, 0.5, 0, -kPi / 2);
  if (!o.title.empty()) show_text(cr, f.px + f.pw / 2, std::max(Y + 8, f.py - 24), o.title, 0.5, 0);
}

constexpr double kLegendRow = 16, kLegendSwatch = 28, kLegendPad = 6;

bool in_legend(const Series& s) { return !s.label.empty() && s.kind != Series::Text; }

// Width and height (pixels) of the legend box; 0 x 0 when no series has a label.
std::array<double, 2> legend_size(cairo_t* cr, const Axes& ax) {
  cairo_set_font_size(cr, 11);
  double w = 0, h = 0;
  for (const auto& s : ax.series()) {
    if (!in_legend(s)) continue;
    cairo_text_extents_t e;
    cairo_text_extents(cr, s.label.c_str(), &e);
    w = std::max(w, e.x_advance + (s.kind == Series::Note ? 0 : kLegendSwatch));
    h += kLegendRow;
  }
  return h > 0 ? std::array<double, 2>{w + 2 * kLegendPad, h + 2 * kLegendPad} : std::array<double, 2>{0, 0};
}

// How many drawn points (markers, error-bar ends, line vertices and segment samples)
// fall inside the pixel box (x, y, w, h).
long covered(const Axes& ax, const Frame& f, double x, double y, double w, double h) {
  long n = 0;
  auto hit = [&](double dx, double dy) {
    const double u = f.tx(dx), v = f.ty(dy);
    n += (u >= x - 4 && u <= x + w + 4 && v >= y - 4 && v <= y + h + 4) ? 1 : 0;
  };
  for (const auto& s : ax.series())
    for (std::size_t i = 0; i < s.x.size() && s.kind != Series::VLine && s.kind != Series::Text; ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      hit(s.x[i], s.y[i]);
      if (s.kind == Series::ErrorBars && !s.e.empty() && std::isfinite(s.e[i]))
        for (double t = -1; t <= 1; t += 0.25) hit(s.x[i], s.y[i] + t * s.e[i]);
      if (s.kind == Series::Line && i + 1 < s.x.size())
        for (double t = 0.05; t < 1; t += 0.05) hit(s.x[i] + t * (s.x[i + 1] - s.x[i]), s.y[i] + t * (s.y[i + 1] - s.y[i]));
    }
  return n;
}

// The legend's upper left corner inside the box: the first free one of the four corners,
// then the middles of the right and left edges, of the top and of the bottom; or none.
bool free_corner(const Axes& ax, const Frame& f, std::array<double, 2> size, double& lx, double& ly) {
  const double m = 8, r = f.px + f.pw - size[0] - m, l = f.px + m, c = f.px + (f.pw - size[0]) / 2;
  const double t = f.py + m, b = f.py + f.ph - size[1] - m, mid = f.py + (f.ph - size[1]) / 2;
  const double spots[8][2] = {{r, t}, {l, t}, {r, b}, {l, b}, {r, mid}, {l, mid}, {c, t}, {c, b}};
  for (const auto& p : spots)
    if (p[0] >= l && p[1] >= t && covered(ax, f, p[0], p[1], size[0], size[1]) == 0) return lx = p[0], ly = p[1], true;
  return false;
}

// The legend box at (lx, ly): a white backing, a swatch and text per labelled series.
void draw_legend(cairo_t* cr, const Axes& ax, double lx, double ly, std::array<double, 2> size) {
  cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
  cairo_rectangle(cr, lx, ly, size[0], size[1]);
  cairo_fill(cr);
  cairo_set_font_size(cr, 11);
  double y = ly + kLegendPad + kLegendRow / 2;
  for (const auto& s : ax.series()) {
    if (!in_legend(s)) continue;
    double x = lx + kLegendPad;
    set_color(cr, palette(s.color));
    if (s.kind == Series::ErrorBars || s.kind == Series::Scatter) {
      cairo_set_line_width(cr, 1.6);
      draw_marker(cr, x + 11, y, std::min(s.size, 4.0), s.marker);
    } else if (s.kind != Series::Note) {
      const double dash = 5;
      cairo_set_dash(cr, &dash, s.dashed ? 1 : 0, 0);
      cairo_set_line_width(cr, 2);
      cairo_move_to(cr, x, y), cairo_line_to(cr, x + 22, y);
      cairo_stroke(cr);
      cairo_set_dash(cr, nullptr, 0, 0);
    }
    if (s.kind != Series::Note) x += kLegendSwatch;
    set_color(cr, {0, 0, 0});
    show_text(cr, x, y, s.label, 0, 0.5);
    y += kLegendRow;
  }
}

// The colour bar right of the box, with its ticks and label.
void draw_colorbar(cairo_t* cr, const Axes::Map& map, const Frame& f) {
  const double bx = f.px + f.pw + 14, bw = 14;
  for (int i = 0; i < 100; ++i) {
    set_color(cr, colormap((i + 0.5) / 100.0));
    cairo_rectangle(cr, bx, f.py + f.ph * (1 - (i + 1) / 100.0), bw, f.ph / 100.0 + 0.5);
    cairo_fill(cr);
  }
  set_color(cr, {0, 0, 0});
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, bx, f.py, bw, f.ph);
  cairo_stroke(cr);
  cairo_set_font_size(cr, 11);
  for (double t : nice_ticks(map.vmin, map.vmax, 7)) {
    const double y = f.py + f.ph * (1 - (t - map.vmin) / (map.vmax - map.vmin));
    show_text(cr, bx + bw + 4, y, fmt(t), 0, 0.5);
  }
  cairo_set_font_size(cr, 13);
  if (!map.label.empty()) show_text(cr, bx + bw + 56, f.py + f.ph / 2, map.label, 0.5, 0, -kPi / 2);
}

// An arrow from (x0, y0) to (x1, y1) (pixels), labelled at its tip.
void arrow(cairo_t* cr, double x0, double y0, double x1, double y1, const std::string& label) {
  const double a = std::atan2(y1 - y0, x1 - x0), h = 6;
  cairo_move_to(cr, x0, y0), cairo_line_to(cr, x1, y1);
  cairo_move_to(cr, x1 - h * std::cos(a - 0.45), y1 - h * std::sin(a - 0.45));
  cairo_line_to(cr, x1, y1);
  cairo_line_to(cr, x1 - h * std::cos(a + 0.45), y1 - h * std::sin(a + 0.45));
  cairo_stroke(cr);
  show_text(cr, x1 + 9 * std::cos(a), y1 + 9 * std::sin(a), label, 0.5, 0.5);
}

// N (up) and E arrows, 24 px long, from a corner of the box: the upper left corner when
// E points right, else the upper right one, so both arrows stay inside.
void draw_compass(cairo_t* cr, const Frame& f, int east) {
  const double len = 24, sx = (east > 0) != f.invert_x ? 1 : -1;
  const double x0 = sx > 0 ? f.px + 16 : f.px + f.pw - 16, y0 = f.py + 20 + len;
  cairo_set_font_size(cr, 12);
  for (int pass = 0; pass < 2; ++pass) {  // a white halo, then black
    cairo_set_line_width(cr, pass == 0 ? 4 : 1.6);
    cairo_set_source_rgb(cr, pass == 0 ? 1 : 0, pass == 0 ? 1 : 0, pass == 0 ? 1 : 0);
    arrow(cr, x0, y0, x0, y0 - len, "N");
    arrow(cr, x0, y0, x0 + sx * len, y0, "E");
  }
}

// One axes in the cell (X, Y, W, H): the map, the series (clipped), frame, legend, colour
// bar and compass.
void draw_axes(cairo_t* cr, const Axes& ax, double X, double Y, double W, double H) {
  const auto& o = ax.options();
  const auto lsize = o.legend == LegendPlace::None ? std::array<double, 2>{0, 0} : legend_size(cr, ax);
  Frame f = make_frame(ax, X, Y, W, H, 0);
  double lx = 0, ly = 0;
  bool outside = lsize[0] > 0 && (o.legend == LegendPlace::Outside || !free_corner(ax, f, lsize, lx, ly));
  if (outside) f = make_frame(ax, X, Y, W, H, lsize[0] + 12);
  if (f.pw < 10 || f.ph < 10) return;
  cairo_save(cr);
  cairo_rectangle(cr, f.px, f.py, f.pw, f.ph);
  cairo_clip(cr);
  if (ax.map().present) draw_map(cr, ax.map(), f);
  for (const auto& s : ax.series()) draw_series(cr, s, f, ax.map().present);
  if (o.compass != 0) draw_compass(cr, f, o.compass);
  cairo_restore(cr);
  draw_frame(cr, f, o, X, Y);
  if (ax.map().present) draw_colorbar(cr, ax.map(), f);
  if (outside) lx = f.px + f.pw + (ax.map().present ? 110 : 0) + 8, ly = f.py;
  if (lsize[0] > 0) draw_legend(cr, ax, lx, ly, lsize);
}

}  // namespace

// Paints the whole figure (white ground, title, every axes) on the surface.
void Figure::paint(void* surface) const {
  cairo_t* cr = cairo_create(static_cast<cairo_surface_t*>(surface));
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  double top = 0;
  if (!title_.empty()) {
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_font_size(cr, 15);
    show_text(cr, width_ / 2, 8, title_, 0.5, 0);
    top = 28;
  }
  const double cw = width_ / cols_, ch = (height_ - top) / rows_;
  for (int r = 0; r < rows_; ++r)
    for (int c = 0; c < cols_; ++c) draw_axes(cr, axes_[std::size_t(r * cols_ + c)], c * cw, top + r * ch, cw, ch);
  cairo_destroy(cr);
}

Raster Figure::raster() const {
  cairo_surface_t* surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, int(width_), int(height_));
  if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(surface);
    throw Error("plot: cannot create a " + fmt(width_) + " x " + fmt(height_) + " raster");
  }
  paint(surface);
  cairo_surface_flush(surface);
  Raster r;
  r.width = cairo_image_surface_get_width(surface), r.height = cairo_image_surface_get_height(surface);
  const int stride = cairo_image_surface_get_stride(surface);
  const unsigned char* data = cairo_image_surface_get_data(surface);
  r.argb.resize(std::size_t(r.width) * std::size_t(r.height));
  for (int y = 0; y < r.height; ++y)
    std::memcpy(&r.argb[std::size_t(y) * std::size_t(r.width)], data + std::ptrdiff_t(y) * stride,
                std::size_t(r.width) * 4);
  cairo_surface_destroy(surface);
  return r;
}

void Figure::save(const std::string& path) const {
  std::string ext = path.size() > 4 ? path.substr(path.size() - 4) : "";
  for (auto& ch : ext) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  require(ext == ".svg" || ext == ".png", path + ": pictures are written as .svg or .png");
  AtomicFile file(path);
  cairo_surface_t* surface = ext == ".svg" ? cairo_svg_surface_create(file.temp_path().c_str(), width_, height_)
                                           : cairo_image_surface_create(CAIRO_FORMAT_ARGB32, int(width_), int(height_));
  if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(surface);
    throw Error(path + ": cannot create the picture");
  }
  paint(surface);
  cairo_status_t status = CAIRO_STATUS_SUCCESS;
  if (ext == ".png") status = cairo_surface_write_to_png(surface, file.temp_path().c_str());
  cairo_surface_finish(surface);
  if (status == CAIRO_STATUS_SUCCESS) status = cairo_surface_status(surface);
  cairo_surface_destroy(surface);
  if (status != CAIRO_STATUS_SUCCESS) throw Error(path + ": cannot write the picture: " + cairo_status_to_string(status));
  file.commit();
}

}  // namespace ds::plot
