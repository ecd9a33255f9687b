#include "deepshear/lensing/cluster/source_cuts.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "deepshear/engine/error.hpp"
#include "deepshear/engine/plot.hpp"
#include "deepshear/engine/stats.hpp"

namespace ds::lens {

std::vector<std::string> cut_names() { return {"edge", "exposure", "badpix", "star", "sexflags"}; }

std::string describe_cuts(std::uint32_t cuts) {
  std::string s;
  const auto names = cut_names();
  for (std::size_t b = 0; b < names.size(); ++b)
    if (cuts & (1u << b)) s += (s.empty() ? "" : "|") + names[b];
  return s;
}

namespace {

// Least-squares line y = a + b x through the points with keep = 1.
bool fit_line(const std::vector<double>& x, const std::vector<double>& y, const std::vector<unsigned char>& keep,
              double& a, double& b) {
  double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < x.size(); ++i)
    if (keep[i]) n += 1, sx += x[i], sy += y[i], sxx += x[i] * x[i], sxy += x[i] * y[i];
  const double d = n * sxx - sx * sx;
  if (n < 2 || d <= 0) return false;
  b = (n * sxy - sx * sy) / d;
  a = (sy - b * sx) / n;
  return true;
}

}  // namespace

PointSourceSelection select_point_sources(const std::vector<double>& mag, const std::vector<double>& rh,
                                          const std::vector<double>& mu_max, const PointSourceOptions& opt) {
  const std::size_t n = mag.size();
  require(rh.size() == n && mu_max.size() == n, "point sources: magnitude, r_half and mu_max differ in length");
  PointSourceSelection s;
  s.in_box.assign(n, 0), s.on_line.assign(n, 0), s.star.assign(n, 0);
  if (!opt.enabled) return s;
  std::vector<double> bx, by;
  for (std::size_t i = 0; i < n; ++i) {
    const bool finite = std::isfinite(mag[i]) && std::isfinite(rh[i]) && std::isfinite(mu_max[i]);
    if (finite && rh[i] > 0 && rh[i] <= opt.rh_max && mag[i] >= opt.mag_min && mag[i] <= opt.mag_max) {
      s.in_box[i] = 1, ++s.box_stars;
      bx.push_back(mag[i]), by.push_back(mu_max[i]);
    }
  }
  if (!bx.empty()) {
    const double range = *std::max_element(bx.begin(), bx.end()) - *std::min_element(bx.begin(), bx.end());
    std::vector<unsigned char> keep(bx.size(), 1);
    bool fitted = false;
    if (bx.size() >= 5 && range >= 1) {
      for (int iter = 0; iter < 3; ++iter) {
        double a = 0, b = 1;
        if (!fit_line(bx, by, keep, a, b)) break;
        fitted = true, s.intercept = a, s.slope = b;
        double ss = 0, m = 0;
        for (std::size_t i = 0; i < bx.size(); ++i)
          if (keep[i]) ss += std::pow(by[i] - a - b * bx[i], 2), m += 1;
        const double sd = std::sqrt(ss / std::max(1.0, m - 2));
        for (std::size_t i = 0; i < bx.size(); ++i) keep[i] = std::abs(by[i] - a - b * bx[i]) <= 3 * sd + 1e-9;
      }
    }
    if (!fitted) {
      std::vector<double> d;
      for (std::size_t i = 0; i < bx.size(); ++i) d.push_back(by[i] - bx[i]);
      s.slope = 1, s.intercept = median(d);
    }
    s.line_fitted = true;
    s.cap = opt.mu_max_cap != 0 ? opt.mu_max_cap : s.intercept + s.slope * opt.line_mag_max;
    for (std::size_t i = 0; i < n; ++i) {
      if (!(std::isfinite(mag[i]) && std::isfinite(mu_max[i]))) continue;
      const double line = s.intercept + s.slope * mag[i];
      if (std::abs(mu_max[i] - line) <= opt.line_width && mag[i] <= opt.line_mag_max && mu_max[i] <= s.cap)
        s.on_line[i] = 1;
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    s.star[i] = s.in_box[i] || s.on_line[i];
    s.stars += s.star[i];
  }
  return s;
}

void plot_point_sources(const std::vector<double>& mag, const std::vector<double>& rh,
                        const std::vector<double>& mu_max, const PointSourceSelection& sel,
                        const PointSourceOptions& opt, const std::string& path, const std::string& title) {
  plot::Figure fig(760, 900, 2, 1);
  fig.title(title);
  std::vector<double> gm, gr, gu, sm, sr, su;
  for (std::size_t i = 0; i < mag.size(); ++i) {
    if (!std::isfinite(mag[i])) continue;
    auto& m = sel.star[i] ? sm : gm;
    (sel.star[i] ? sr : gr).push_back(rh[i]);
    (sel.star[i] ? su : gu).push_back(mu_max[i]);
    m.push_back(mag[i]);
  }
  double lo = 30, hi = 10;
  for (double m : mag)
    if (std::isfinite(m)) lo = std::min(lo, m), hi = std::max(hi, m);
  if (lo > hi) lo = 18, hi = 28;
  auto& top = fig.axes(0, 0);
  top.scatter(gm, gu, "sources", 0, 1.5);
  top.scatter(sm, su, "point sources", 1, 2.5);
  if (sel.line_fitted) {
    std::vector<double> lx = {lo, opt.line_mag_max}, l1, l2;
    for (double x : lx)
      l1.push_back(std::min(sel.cap, sel.intercept + sel.slope * x - opt.line_width)),
          l2.push_back(std::min(sel.cap, sel.intercept + sel.slope * x + opt.line_width));
    top.line(lx, l1, "stripe", 2, true);
    top.line(lx, l2, "", 2, true);
    top.hline(sel.cap, 2);
    top.vline(opt.line_mag_max, 2);
  }
  top.xlabel("MAG_AUTO");
  top.ylabel("mu_max [mag/arcsec^2]");
  top.title("mu_max - magnitude (stripe about the fitted line, below the cap)");
  auto& bottom = fig.axes(1, 0);
  bottom.scatter(gm, gr, "sources", 0, 1.5);
  bottom.scatter(sm, sr, "point sources", 1, 2.5);
  bottom.line({opt.mag_min, opt.mag_max, opt.mag_max}, {opt.rh_max, opt.rh_max, 0}, "box", 2, true);
  bottom.xlabel("MAG_AUTO");
  bottom.ylabel("r_half [arcsec]");
  bottom.title("r_half - magnitude (the box selects the line's stars)");
  fig.save(path);
}

std::vector<std::uint32_t> source_cuts(const LoadedField& field, const std::vector<double>& x,
                                       const std::vector<double>& y, const std::vector<double>& flags,
                                       const std::vector<unsigned char>& star, const CutOptions& opt,
                                       std::vector<double>* exposure) {
  const std::size_t n = x.size();
  require(y.size() == n && (flags.empty() || flags.size() == n) && (star.empty() || star.size() == n),
          "source cuts: position, flag and star arrays differ in length");
  const long nx = field.nx(), ny = field.ny();
  std::vector<std::uint32_t> cuts(n, 0);
  if (exposure) exposure->assign(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t c = 0;
    if (!std::isfinite(x[i]) || !std::isfinite(y[i])) {
      cuts[i] = kCutEdge;
      continue;
    }
    // Exposure: mean W over the box (the part inside the image; outside counts as 0).
    const long bx = stamp_corner(x[i], opt.exposure_box), by = stamp_corner(y[i], opt.exposure_box);
    double wsum = 0;
    for (long yy = std::max(0L, by); yy < std::min(ny, by + opt.exposure_box); ++yy)
      for (long xx = std::max(0L, bx); xx < std::min(nx, bx + opt.exposure_box); ++xx)
        wsum += field.total.weight(yy, xx);
    const double mean_w = wsum / double(opt.exposure_box * opt.exposure_box);
    if (exposure) (*exposure)[i] = mean_w;
    if (mean_w < opt.exposure_min) c |= kCutExposure;
    const long sx = stamp_corner(x[i], opt.stamp), sy = stamp_corner(y[i], opt.stamp);
    if (sx < 0 || sy < 0 || sx + opt.stamp > nx || sy + opt.stamp > ny) {
      c |= kCutEdge;
    } else {
      bool bad = false;
      for (long yy = sy; yy < sy + opt.stamp && !bad; ++yy)
        for (long xx = sx; xx < sx + opt.stamp; ++xx)
          if (field.bad(yy, xx)) {
            bad = true;
            break;
          }
      if (bad) c |= kCutBadPixel;
    }
    if (!star.empty() && star[i]) c |= kCutPointSource;
    if (!flags.empty() && (std::uint32_t(std::llround(flags[i])) & opt.sextractor_flags)) c |= kCutSExtractor;
    cuts[i] = c;
  }
  return cuts;
}

}  // namespace ds::lens
