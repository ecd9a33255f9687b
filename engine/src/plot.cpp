#include "deepshear/engine/plot.hpp"

#include <cairo-svg.h>
#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

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
                     const std::string& label, int color) {
  require(x.size() == y.size() && (e.empty() || e.size() == y.size()), "plot: error bars differ in length");
  series_.push_back({Series::ErrorBars, x, y, e, {}, {}, label, next_color(color)});
}

void Axes::scatter(const std::vector<double>& x, const std::vector<double>& y, const std::string& label, int color,
                   double size) {
  require(x.size() == y.size(), "plot: scatter x and y differ in length");
  Series s{Series::Scatter, x, y, {}, {}, {}, label, next_color(color)};
  s.size = size;
  series_.push_back(s);
}

void Axes::hline(double y, int color) { series_.push_back({Series::HLine, {}, {y}, {}, {}, {}, "", color, true}); }
void Axes::vline(double x, int color) { series_.push_back({Series::VLine, {x}, {}, {}, {}, {}, "", color, true}); }

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

void draw_axes(cairo_t* cr, const Axes& ax, const Axes::Map& map, double X, double Y, double W, double H,
               const std::array<double, 3>& xlim, const std::array<double, 3>& ylim, bool equal,
               const std::string& title, const std::string& xlabel, const std::string& ylabel) {
  const double left = 70, right = map.present ? 110 : 20, top = title.empty() ? 15 : 32, bottom = 50;
  double px = X + left, py = Y + top, pw = W - left - right, ph = H - top - bottom;
  if (pw < 10 || ph < 10) return;
  Range rx, ry;
  bool pad = !map.present;
  for (const auto& s : ax.series()) {
    if (s.kind == Axes::Series::VLine || s.kind == Axes::Series::HLine) continue;
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      rx.add(s.x[i]);
      if (s.kind == Axes::Series::ErrorBars && !s.e.empty() && std::isfinite(s.e[i])) {
        ry.add(s.y[i] - s.e[i]);
        ry.add(s.y[i] + s.e[i]);
      } else {
        ry.add(s.y[i]);
      }
    }
  }
  if (map.present) rx.add(map.x0), rx.add(map.x1), ry.add(map.y0), ry.add(map.y1);
  rx.finish(pad);
  ry.finish(pad);
  if (xlim[2] != 0) rx.lo = xlim[0], rx.hi = xlim[1];
  if (ylim[2] != 0) ry.lo = ylim[0], ry.hi = ylim[1];
  if (equal) {  // shrink the plot box to keep one scale
    double sx = pw / (rx.hi - rx.lo), sy = ph / (ry.hi - ry.lo), s = std::min(sx, sy);
    double nw = s * (rx.hi - rx.lo), nh = s * (ry.hi - ry.lo);
    px += (pw - nw) / 2, py += (ph - nh) / 2, pw = nw, ph = nh;
  }
  auto tx = [&](double x) { return px + (x - rx.lo) / (rx.hi - rx.lo) * pw; };
  auto ty = [&](double y) { return py + ph - (y - ry.lo) / (ry.hi - ry.lo) * ph; };

  cairo_save(cr);
  cairo_rectangle(cr, px, py, pw, ph);
  cairo_clip(cr);
  if (map.present) {  // the map, pixel by pixel
    const auto& d = map.data;
    double cw = (tx(map.x1) - tx(map.x0)) / double(d.nx()), ch = (ty(map.y1) - ty(map.y0)) / double(d.ny());
    for (long y = 0; y < d.ny(); ++y)
      for (long x = 0; x < d.nx(); ++x) {
        double v = d(y, x);
        if (!std::isfinite(v)) continue;
        set_color(cr, colormap((v - map.vmin) / (map.vmax - map.vmin)));
        double x0 = tx(map.x0) + cw * double(x), y0 = ty(map.y0) + ch * double(y);
        cairo_rectangle(cr, std::min(x0, x0 + cw) - 0.25, std::min(y0, y0 + ch) - 0.25, std::abs(cw) + 0.5,
                        std::abs(ch) + 0.5);
        cairo_fill(cr);
      }
  }
  for (const auto& s : ax.series()) {
    Color c = palette(s.color);
    set_color(cr, c);
    cairo_set_line_width(cr, 1.6);
    double dash = 5;
    cairo_set_dash(cr, &dash, s.dashed ? 1 : 0, 0);
    switch (s.kind) {
      case Axes::Series::Line: {
        bool pen = false;
        for (std::size_t i = 0; i < s.x.size(); ++i) {
          if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) {
            pen = false;
            continue;
          }
          if (pen)
            cairo_line_to(cr, tx(s.x[i]), ty(s.y[i]));
          else
            cairo_move_to(cr, tx(s.x[i]), ty(s.y[i]));
          pen = true;
        }
        cairo_stroke(cr);
        break;
      }
      case Axes::Series::ErrorBars:
      case Axes::Series::Scatter:
        for (std::size_t i = 0; i < s.x.size(); ++i) {
          if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
          if (s.kind == Axes::Series::ErrorBars && !s.e.empty() && std::isfinite(s.e[i])) {
            cairo_move_to(cr, tx(s.x[i]), ty(s.y[i] - s.e[i]));
            cairo_line_to(cr, tx(s.x[i]), ty(s.y[i] + s.e[i]));
            cairo_stroke(cr);
          }
          cairo_arc(cr, tx(s.x[i]), ty(s.y[i]), s.kind == Axes::Series::Scatter ? s.size : 3.0, 0, 2 * kPi);
          cairo_fill(cr);
        }
        break;
      case Axes::Series::HLine:
        cairo_move_to(cr, px, ty(s.y[0]));
        cairo_line_to(cr, px + pw, ty(s.y[0]));
        cairo_stroke(cr);
        break;
      case Axes::Series::VLine:
        cairo_move_to(cr, tx(s.x[0]), py);
        cairo_line_to(cr, tx(s.x[0]), py + ph);
        cairo_stroke(cr);
        break;
      case Axes::Series::Sticks: {
        set_color(cr, map.present ? Color{1, 1, 1} : palette(s.color));
        auto stick = [&](double x, double y, double g1, double g2) {
          double len = s.scale * std::hypot(g1, g2), phi = 0.5 * std::atan2(g2, g1);
          double dx = 0.5 * len * std::cos(phi), dy = 0.5 * len * std::sin(phi);
          cairo_move_to(cr, tx(x - dx), ty(y - dy));
          cairo_line_to(cr, tx(x + dx), ty(y + dy));
        };
        for (std::size_t i = 0; i < s.x.size(); ++i)
          if (std::isfinite(s.g1[i]) && std::isfinite(s.g2[i])) stick(s.x[i], s.y[i], s.g1[i], s.g2[i]);
        cairo_stroke(cr);
        if (s.key > 0) {
          double kx = rx.lo + 0.12 * (rx.hi - rx.lo), ky = ry.lo + 0.06 * (ry.hi - ry.lo);
          stick(kx, ky, s.key, 0);
          cairo_set_line_width(cr, 2.5);
          cairo_stroke(cr);
          cairo_set_font_size(cr, 11);
          show_text(cr, tx(kx + 0.5 * s.scale * s.key) + 6, ty(ky), "g = " + fmt(s.key), 0, 0.5);
        }
        break;
      }
      case Axes::Series::Text:
        set_color(cr, {0, 0, 0});
        cairo_set_font_size(cr, 11);
        show_text(cr, tx(s.x[0]), ty(s.y[0]), s.label, 0, 0.5);
        break;
    }
  }
  cairo_restore(cr);
  cairo_set_dash(cr, nullptr, 0, 0);

  // Frame, ticks, labels.
  set_color(cr, {0, 0, 0});
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, px, py, pw, ph);
  cairo_stroke(cr);
  cairo_set_font_size(cr, 11);
  for (double t : nice_ticks(rx.lo, rx.hi)) {
    cairo_move_to(cr, tx(t), py + ph);
    cairo_line_to(cr, tx(t), py + ph - 5);
    cairo_stroke(cr);
    show_text(cr, tx(t), py + ph + 6, fmt(t), 0.5, 0);
  }
  for (double t : nice_ticks(ry.lo, ry.hi)) {
    cairo_move_to(cr, px, ty(t));
    cairo_line_to(cr, px + 5, ty(t));
    cairo_stroke(cr);
    show_text(cr, px - 6, ty(t), fmt(t), 1, 0.5);
  }
  cairo_set_font_size(cr, 13);
  if (!xlabel.empty()) show_text(cr, px + pw / 2, py + ph + 26, xlabel, 0.5, 0);
  if (!ylabel.empty()) show_text(cr, X + 14, py + ph / 2, ylabel, 0.5, 0, -kPi / 2);
  if (!title.empty()) show_text(cr, px + pw / 2, Y + 8, title, 0.5, 0);

  // Legend.
  double ly = py + 8;
  cairo_set_font_size(cr, 11);
  for (const auto& s : ax.series()) {
    if (s.label.empty() || s.kind == Axes::Series::Text) continue;
    cairo_text_extents_t e;
    cairo_text_extents(cr, s.label.c_str(), &e);
    double lx = px + pw - e.width - 40;
    set_color(cr, palette(s.color));
    cairo_set_line_width(cr, 2);
    cairo_move_to(cr, lx, ly + 6);
    cairo_line_to(cr, lx + 22, ly + 6);
    cairo_stroke(cr);
    set_color(cr, {0, 0, 0});
    show_text(cr, lx + 28, ly + 6, s.label, 0, 0.5);
    ly += 16;
  }

  // Colour bar.
  if (map.present) {
    double bx = px + pw + 14, bw = 14;
    for (int i = 0; i < 100; ++i) {
      set_color(cr, colormap((i + 0.5) / 100.0));
      cairo_rectangle(cr, bx, py + ph * (1 - (i + 1) / 100.0), bw, ph / 100.0 + 0.5);
      cairo_fill(cr);
    }
    set_color(cr, {0, 0, 0});
    cairo_rectangle(cr, bx, py, bw, ph);
    cairo_stroke(cr);
    for (double t : nice_ticks(map.vmin, map.vmax, 5)) {
      double y = py + ph * (1 - (t - map.vmin) / (map.vmax - map.vmin));
      show_text(cr, bx + bw + 4, y, fmt(t), 0, 0.5);
    }
    if (!map.label.empty()) show_text(cr, bx + bw + 56, py + ph / 2, map.label, 0.5, 0, -kPi / 2);
  }
}

}  // namespace

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
  cairo_t* cr = cairo_create(surface);
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
  double cw = width_ / cols_, ch = (height_ - top) / rows_;
  for (int r = 0; r < rows_; ++r)
    for (int c = 0; c < cols_; ++c) {
      const Axes& ax = axes_[std::size_t(r * cols_ + c)];
      draw_axes(cr, ax, ax.map_, c * cw, top + r * ch, cw, ch, ax.xlim_, ax.ylim_, ax.equal_, ax.title_, ax.xlabel_,
                ax.ylabel_);
    }
  cairo_destroy(cr);
  cairo_status_t status = CAIRO_STATUS_SUCCESS;
  if (ext == ".png") status = cairo_surface_write_to_png(surface, file.temp_path().c_str());
  cairo_surface_finish(surface);
  if (status == CAIRO_STATUS_SUCCESS) status = cairo_surface_status(surface);
  cairo_surface_destroy(surface);
  if (status != CAIRO_STATUS_SUCCESS) throw Error(path + ": cannot write the picture: " + cairo_status_to_string(status));
  file.commit();
}

}  // namespace ds::plot
