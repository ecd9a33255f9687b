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

// Grid extent in arcmin: x0, x1, y0, y1.
std::array<double, 4> extent(const Grid& g) {
  return {g.x0 / kArcmin, (g.x0 + double(g.nx - 1) * g.step) / kArcmin, g.y0 / kArcmin,
          (g.y0 + double(g.ny - 1) * g.step) / kArcmin};
}

void check_estimator(const ShearMaps& m, int e) {
  require(e >= 0 && e < int(m.names.size()), "estimator index " + std::to_string(e) + " outside the " +
                                                  std::to_string(m.names.size()) + " maps");
}
}  // namespace

void plot_whisker_map(const ShearMaps& m, int e, const std::string& path, double spacing, double key_shear) {
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
  ax.equal_aspect();
  ax.xlabel("x [arcmin]");
  ax.ylabel("y [arcmin]");
  char title[160];
  std::snprintf(title, sizeof title, "%s smoothed shear, lambda = %.1f\", key stick g = %.2f",
                m.names[std::size_t(e)].c_str(), m.options.lambda, key_shear);
  ax.title(title);
  fig.save(path);
}

void plot_component_maps(const ShearMaps& m, const std::string& path) {
  const int k = int(m.names.size());
  require(k > 0, "component maps: no estimator");
  const auto ex = extent(m.grid);
  // One colour range for the shears of all estimators, one for the sigmas.
  double gmax = 0, smax = 0;
  for (int e = 0; e < k; ++e)
    for (long i = 0; i < m.grid.size(); ++i) {
      for (const auto* im : {&m.g1[std::size_t(e)], &m.g2[std::size_t(e)]})
        if (std::isfinite(im->data()[i])) gmax = std::max(gmax, std::abs(im->data()[i]));
      for (const auto* im : {&m.sigma1[std::size_t(e)], &m.sigma2[std::size_t(e)]})
        if (std::isfinite(im->data()[i])) smax = std::max(smax, im->data()[i]);
    }
  if (gmax == 0) gmax = 1;
  if (smax == 0) smax = 1;
  plot::Figure fig(1600, 380.0 * k, k, 4);
  for (int e = 0; e < k; ++e) {
    const std::string& n = m.names[std::size_t(e)];
    const ImageView<const double> ims[4] = {m.g1[std::size_t(e)].view(), m.g2[std::size_t(e)].view(),
                                            m.sigma1[std::size_t(e)].view(), m.sigma2[std::size_t(e)].view()};
    const char* what[4] = {"g1", "g2", "sigma g1", "sigma g2"};
    for (int c = 0; c < 4; ++c) {
      auto& ax = fig.axes(e, c);
      ax.image(ims[c], ex[0], ex[1], ex[2], ex[3], c < 2 ? -gmax : 0, c < 2 ? gmax : smax, what[c]);
      ax.equal_aspect();
      ax.title(n + " " + what[c]);
      ax.xlabel("x [arcmin]");
      if (c == 0) ax.ylabel("y [arcmin]");
    }
  }
  fig.save(path);
}

void plot_sigma_vs_lambda(const SourceErrors& r, const std::string& path) {
  const int k = int(r.names.size());
  require(k > 0 && !r.lambdas.empty(), "sigma vs lambda: empty result");
  plot::Figure fig(520.0 * k, 420, 1, k);
  for (int e = 0; e < k; ++e) {
    auto& ax = fig.axes(0, e);
    const std::vector<Estimate> SourceErrors::*stats[3] = {&SourceErrors::field, &SourceErrors::field_source,
                                                           &SourceErrors::source};
    const char* labels[3] = {"sigma field", "sigma field-source", "sigma source"};
    for (int s = 0; s < 3; ++s) {
      std::vector<double> v, err;
      for (int l = 0; l < int(r.lambdas.size()); ++l) {
        const auto& a = (r.*stats[s])[std::size_t(r.index(l, e, 0))];
        const auto& b = (r.*stats[s])[std::size_t(r.index(l, e, 1))];
        v.push_back(0.5 * (a.value + b.value));
        err.push_back(0.5 * (a.err + b.err));
      }
      ax.errorbars(r.lambdas, v, err, labels[s], s);
      ax.line(r.lambdas, v, "", s);
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
  double lo = 0, hi = 0;
  for (long i = 0; i < d.size(); ++i) {
    lo = std::min({lo, d.x[std::size_t(i)], d.y[std::size_t(i)]});
    hi = std::max({hi, d.x[std::size_t(i)], d.y[std::size_t(i)]});
  }
  plot::Figure fig(600, 600);
  auto& ax = fig.axes();
  std::vector<double> xe, ye;
  for (long i = 0; i < d.size(); ++i) ye.push_back(std::sqrt(d.vyy[std::size_t(i)]));
  ax.errorbars(d.x, d.y, ye, "sampled fields (1 sigma in y)", 0);
  ax.line({lo, hi}, {lo, hi}, "y = x", 7, true);
  char label[120];
  std::snprintf(label, sizeof label, "fit: c = %.4f, m = %.3f +- %.3f", fit.c, fit.m,
                fit.m_err_blocks > 0 ? fit.m_err_blocks : fit.m_err);
  ax.line({lo, hi}, {fit.c + (1 + fit.m) * lo, fit.c + (1 + fit.m) * hi}, label, 1);
  ax.xlabel(xlabel);
  ax.ylabel(ylabel);
  ax.equal_aspect();
  fig.save(path);
}

void plot_convergence_map(const ConvergenceMap& kappa, const Grid& g, const std::string& estimator,
                          const std::string& path) {
  plot::Figure fig(640, 560);
  auto& ax = fig.axes();
  ax.image(kappa.kappa_e.view(), g.x0 - g.step / 2, g.x0 + g.step * (double(g.nx) - 0.5), g.y0 - g.step / 2,
           g.y0 + g.step * (double(g.ny) - 0.5), 0, 0, "kappa (E mode)");
  ax.equal_aspect();
  ax.title("Kaiser-Squires convergence, " + estimator);
  ax.xlabel("x [arcsec]");
  ax.ylabel("y [arcsec]");
  fig.save(path);
}

void plot_tangential_profiles(const std::vector<TangentialProfile>& profiles, const std::vector<std::string>& names,
                              const std::string& path) {
  require(profiles.size() == names.size(), "tangential profiles: " + std::to_string(profiles.size()) +
                                               " profiles for " + std::to_string(names.size()) + " names");
  plot::Figure fig(720, 460);
  auto& ax = fig.axes();
  for (std::size_t e = 0; e < profiles.size(); ++e) {
    const TangentialProfile& p = profiles[e];
    ax.errorbars(p.r_mean, p.gt, p.gt_err, names[e] + " g_t", int(e));
    ax.errorbars(p.r_mean, p.gx, p.gx_err, names[e] + " g_x", int(e) + 4);
  }
  ax.hline(0);
  ax.xlabel("radius [arcsec]");
  ax.ylabel("shear");
  ax.title("tangential (g_t) and cross (g_x) shear");
  fig.save(path);
}

}  // namespace ds::lens
