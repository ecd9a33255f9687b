// Pictures of cluster maps and statistics (see pictures.hpp).
#include "deepshear/lensing/cluster/pictures.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cmath>

#include "deepshear/engine/error.hpp"
#include "deepshear/engine/plot.hpp"

namespace ds::lens {

namespace {
constexpr double kArcmin = 60.0;

// Grid extent in arcmin: x0, x1, y0, y1 (of the grid points).
std::array<double, 4> extent(const Grid& g) {
  return {g.x0 / kArcmin, (g.x0 + double(g.nx - 1) * g.step) / kArcmin, g.y0 / kArcmin,
          (g.y0 + double(g.ny - 1) * g.step) / kArcmin};
}

void check_estimator(const ShearMaps& m, int e) {
  require(e >= 0 && e < int(m.names.size()), "estimator index " + std::to_string(e) + " outside the " +
                                                  std::to_string(m.names.size()) + " maps");
}

// A map's axes in arcmin: equal aspect, labels, east left and a compass when the sky is
// known, and the centre marked.
void sky_axes(plot::Axes& ax, const MapMarks& mk, bool ylabel = true) {
  ax.equal_aspect();
  if (mk.sky.present) {
    ax.invert_x(mk.sky.x_east);
    ax.compass(mk.sky.x_east);
    ax.xlabel(mk.sky.x_east ? "offset east [arcmin]" : "offset west [arcmin]");
    if (ylabel) ax.ylabel("offset north [arcmin]");
  } else {
    ax.xlabel("x [arcmin]");
    if (ylabel) ax.ylabel("y [arcmin]");
  }
  if (std::isfinite(mk.xc) && std::isfinite(mk.yc))
    ax.scatter({mk.xc / kArcmin}, {mk.yc / kArcmin}, "", 7, 7.0, plot::Marker::Plus);
}

// The largest |value| of the shear planes and the largest sigma over all estimators
// (1 where none is finite): the colour ranges of the component maps.
std::array<double, 2> component_ranges(const ShearMaps& m) {
  double gmax = 0, smax = 0;
  for (std::size_t e = 0; e < m.names.size(); ++e)
    for (long i = 0; i < m.grid.size(); ++i) {
      for (const auto* im : {&m.g1[e], &m.g2[e]})
        if (std::isfinite(im->data()[i])) gmax = std::max(gmax, std::abs(im->data()[i]));
      for (const auto* im : {&m.sigma1[e], &m.sigma2[e]})
        if (std::isfinite(im->data()[i])) smax = std::max(smax, im->data()[i]);
    }
  return {gmax > 0 ? gmax : 1, smax > 0 ? smax : 1};
}
}  // namespace

double quoted_m_err(const LineFit& fit) { return fit.m_err_blocks > 0 ? fit.m_err_blocks : fit.m_err; }

void plot_whisker_map(const ShearMaps& m, int e, const std::string& path, const MapMarks& marks, double spacing,
                      double key_shear) {
  check_estimator(m, e);
  require(spacing > 0 && key_shear > 0, "whisker map: spacing and key shear must be positive");
  const Grid& g = m.grid;
  const long every = std::max(1L, std::lround(spacing / g.step));
  std::vector<double> x, y, g1, g2;
  for (long iy = 0; iy < g.ny; iy += every)
    for (long ix = 0; ix < g.nx; ix += every) {
      if (m.mask(iy, ix) < 0.5) continue;
      x.push_back((g.x0 + double(ix) * g.step) / kArcmin);
      y.push_back((g.y0 + double(iy) * g.step) / kArcmin);
      g1.push_back(m.g1[std::size_t(e)](iy, ix));
      g2.push_back(m.g2[std::size_t(e)](iy, ix));
    }
  const auto ex = extent(g);
  plot::Figure fig(700, 700);
  auto& ax = fig.axes();
  ax.sticks(x, y, g1, g2, double(every) * g.step / kArcmin / key_shear, key_shear);
  ax.xlim(ex[0], ex[1]);
  ax.ylim(ex[2], ex[3]);
  sky_axes(ax, marks);
  char title[160];
  std::snprintf(title, sizeof title, "%s smoothed shear, lambda = %.1f\", key stick g = %.2f",
                m.names[std::size_t(e)].c_str(), m.options.lambda, key_shear);
  ax.title(title);
  fig.save(path);
}

void plot_component_maps(const ShearMaps& m, const std::string& path, const MapMarks& marks) {
  const int k = int(m.names.size());
  require(k > 0, "component maps: no estimator");
  const auto ex = extent(m.grid);
  const auto range = component_ranges(m);  // one colour range for all shears, one for all sigmas
  plot::Figure fig(1600, 380.0 * k, k, 4);
  for (int e = 0; e < k; ++e) {
    const std::size_t u = std::size_t(e);
    const ImageView<const double> ims[4] = {m.g1[u].view(), m.g2[u].view(), m.sigma1[u].view(), m.sigma2[u].view()};
    const char* what[4] = {"g1", "g2", "sigma g1", "sigma g2"};
    for (int c = 0; c < 4; ++c) {
      auto& ax = fig.axes(e, c);
      ax.image(ims[c], ex[0], ex[1], ex[2], ex[3], c < 2 ? -range[0] : 0, c < 2 ? range[0] : range[1], what[c]);
      sky_axes(ax, marks, c == 0);
      ax.title(m.names[u] + " " + what[c]);
    }
  }
  fig.save(path);
}

void plot_sigma_vs_lambda(const SourceErrors& r, const std::string& path) {
  const int k = int(r.names.size());
  require(k > 0 && !r.lambdas.empty(), "sigma vs lambda: empty result");
  plot::Figure fig(560.0 * k, 440, 1, k);
  const std::vector<Estimate> SourceErrors::*stats[3] = {&SourceErrors::field, &SourceErrors::field_source,
                                                         &SourceErrors::source};
  const char* labels[3] = {"sigma field", "sigma field-source", "sigma source"};
  const plot::Marker marks[3] = {plot::Marker::Circle, plot::Marker::Square, plot::Marker::OpenCircle};
  for (int e = 0; e < k; ++e) {
    auto& ax = fig.axes(0, e);
    for (int s = 0; s < 3; ++s) {
      std::vector<double> v, err;
      for (int l = 0; l < int(r.lambdas.size()); ++l) {
        const auto& a = (r.*stats[s])[std::size_t(r.index(l, e, 0))];
        const auto& b = (r.*stats[s])[std::size_t(r.index(l, e, 1))];
        v.push_back(0.5 * (a.value + b.value));
        err.push_back(0.5 * (a.err + b.err));
      }
      ax.line(r.lambdas, v, "", s);
      ax.errorbars(r.lambdas, v, err, labels[s], s, marks[s]);
    }
    ax.title(r.names[std::size_t(e)]);
    ax.xlabel("smoothing length lambda [arcsec]");
    ax.ylabel("standard deviation (mean of g1, g2)");
  }
  fig.save(path);
}

void plot_calibration_samples(const PairedSamples& d, const LineFit& fit, const std::string& path,
                              const std::string& xlabel, const std::string& ylabel) {
  require(d.size() > 0, "calibration picture: no samples");
  double lo = INFINITY, hi = -INFINITY;  // of the points, both axes: one square range
  for (long i = 0; i < d.size(); ++i) {
    lo = std::min({lo, d.x[std::size_t(i)], d.y[std::size_t(i)]});
    hi = std::max({hi, d.x[std::size_t(i)], d.y[std::size_t(i)]});
  }
  const double pad = 0.1 * std::max(hi - lo, 1e-3);
  lo -= pad, hi += pad;
  plot::Figure fig(960, 600);
  auto& ax = fig.axes();
  std::vector<double> ye;
  for (long i = 0; i < d.size(); ++i) ye.push_back(std::sqrt(d.vyy[std::size_t(i)]));
  ax.errorbars(d.x, d.y, ye, "sampled field points (1 sigma in y)", 0);
  ax.line({lo, hi}, {lo, hi}, "y = x (no relative bias)", 7, true);
  char label[160];
  std::snprintf(label, sizeof label, "fit y = c + (1 + m) x: c = %.4f, m = %.3f ± %.3f", fit.c, fit.m,
                quoted_m_err(fit));
  ax.line({lo, hi}, {fit.c + (1 + fit.m) * lo, fit.c + (1 + fit.m) * hi}, label, 1);
  if (!(quoted_m_err(fit) <= kUnconstrainedM)) {
    ax.note("m is unconstrained: its error exceeds " + std::to_string(int(kUnconstrainedM * 100)) + "%;");
    ax.note("the fields span too little shear for their noise");
  }
  ax.note(fit.m_err_blocks > 0 ? "errors: bootstrap over blocks of the fields" : "errors: likelihood curvature");
  ax.xlim(lo, hi), ax.ylim(lo, hi);
  ax.legend(plot::LegendPlace::Outside);
  ax.xlabel(xlabel);
  ax.ylabel(ylabel);
  ax.title("relative calibration (" + std::to_string(d.size()) + " samples)");
  ax.equal_aspect();
  fig.save(path);
}

void plot_convergence_map(const ConvergenceMap& kappa, const Grid& g, const std::string& estimator,
                          const std::string& path, const MapMarks& marks) {
  plot::Figure fig(680, 600);
  auto& ax = fig.axes();
  const double h = 0.5 * g.step / kArcmin, ex[4] = {g.x0 / kArcmin, (g.x0 + double(g.nx - 1) * g.step) / kArcmin,
                                                    g.y0 / kArcmin, (g.y0 + double(g.ny - 1) * g.step) / kArcmin};
  ax.image(kappa.kappa_e.view(), ex[0] - h, ex[1] + h, ex[2] - h, ex[3] + h, 0, 0, "kappa (E mode)");
  sky_axes(ax, marks);
  ax.title("Kaiser-Squires convergence, " + estimator);
  fig.save(path);
}

namespace {
// n radii log-spaced over [lo, hi] [arcsec] and the NFW reduced shear at each.
std::array<std::vector<double>, 2> nfw_curve(const NfwLens& lens, double m200, double lo, double hi, int n = 80) {
  std::array<std::vector<double>, 2> c;
  for (int i = 0; i < n; ++i) {
    const double r = lo * std::pow(hi / lo, double(i) / (n - 1));
    c[0].push_back(r), c[1].push_back(lens.reduced_shear(m200, r));
  }
  return c;
}

// The inner and outer edges [arcsec] of all profiles' bins.
std::array<double, 2> radius_span(const std::vector<TangentialProfile>& profiles) {
  double lo = INFINITY, hi = 0;
  for (const auto& p : profiles)
    for (std::size_t b = 0; b < p.r_lo.size(); ++b) lo = std::min(lo, p.r_lo[b]), hi = std::max(hi, p.r_hi[b]);
  return {lo, hi};
}
}  // namespace

void plot_tangential_profiles(const std::vector<TangentialProfile>& profiles, const std::vector<std::string>& names,
                              const std::string& path, const std::vector<std::optional<NfwFit>>& fits,
                              const std::optional<NfwLens>& lens) {
  require(profiles.size() == names.size() && (fits.empty() || fits.size() == names.size()),
          "tangential profiles: " + std::to_string(profiles.size()) + " profiles and " +
              std::to_string(fits.size()) + " fits for " + std::to_string(names.size()) + " names");
  const auto span = radius_span(profiles);
  plot::Figure fig(820, 780, 2, 1);
  auto& top = fig.axes(0, 0);
  auto& bottom = fig.axes(1, 0);
  const plot::Marker filled[2] = {plot::Marker::Circle, plot::Marker::Square};
  const double k = double(profiles.size()), shift = 0.008 * (span[1] - span[0]);
  for (std::size_t e = 0; e < profiles.size(); ++e) {
    const TangentialProfile& p = profiles[e];
    std::vector<double> r = p.r_mean;
    for (auto& v : r) v += shift * (double(e) - 0.5 * (k - 1));  // side by side, not on top
    top.errorbars(r, p.gt, p.gt_err, names[e] + " g_t", int(e), filled[e % 2]);
    bottom.errorbars(r, p.gx, p.gx_err, names[e] + " g_x", int(e), filled[e % 2]);
    if (fits.empty() || !fits[e] || !lens || !(span[0] > 0)) continue;
    const auto c = nfw_curve(*lens, fits[e]->m200, span[0], span[1]);
    char label[160];
    std::snprintf(label, sizeof label, "%s NFW fit: M200 = %.2g [%.2g, %.2g] Msun", names[e].c_str(), fits[e]->m200,
                  fits[e]->m200_lo, fits[e]->m200_hi);
    top.line(c[0], c[1], label, int(e), e % 2 == 1);
  }
  top.hline(0);
  bottom.hline(0, 7, "g_x = 0 (no lensing signal)");
  top.ylabel("tangential shear g_t");
  bottom.ylabel("cross shear g_x");
  top.title("tangential shear and NFW fit");
  bottom.title("cross shear (a null test)");
  bottom.xlabel("radius from the centre [arcsec]");
  if (span[1] > 0) top.xlim(0, span[1] * 1.02), bottom.xlim(0, span[1] * 1.02);
  fig.save(path);
}

}  // namespace ds::lens
