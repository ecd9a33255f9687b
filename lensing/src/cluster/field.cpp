// Smoothed shear fields and bootstrap covariances (see field.hpp).
#include "deepshear/lensing/cluster/field.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "deepshear/engine/error.hpp"
#include "deepshear/engine/parallel.hpp"
#include "deepshear/engine/random.hpp"

namespace ds::lens {

void SourceCatalogue::add_estimator(const std::string& name, std::vector<double> g1_values,
                                    std::vector<double> g2_values) {
  require(g1_values.size() == x.size() && g2_values.size() == x.size(),
          "estimator '" + name + "' has " + std::to_string(g1_values.size()) + "/" +
              std::to_string(g2_values.size()) + " shears for " + std::to_string(x.size()) + " sources");
  names.push_back(name);
  g1.push_back(std::move(g1_values));
  g2.push_back(std::move(g2_values));
}

int SourceCatalogue::index_of(const std::string& name) const {
  for (int e = 0; e < estimators(); ++e)
    if (names[std::size_t(e)] == name) return e;
  throw Error("no estimator called '" + name + "' in the source catalogue");
}

void SourceCatalogue::check() const {
  const std::size_t n = x.size();
  require(y.size() == n, "source catalogue: " + std::to_string(y.size()) + " y positions for " +
                             std::to_string(n) + " x positions");
  require(g1.size() == names.size() && g2.size() == names.size(),
          "source catalogue: shear arrays do not match the " + std::to_string(names.size()) + " estimator names");
  for (std::size_t i = 0; i < n; ++i)
    require(std::isfinite(x[i]) && std::isfinite(y[i]),
            "source catalogue: position of source " + std::to_string(i) + " is not finite");
  for (std::size_t e = 0; e < names.size(); ++e) {
    require(g1[e].size() == n && g2[e].size() == n,
            "source catalogue: estimator '" + names[e] + "' has the wrong number of shears");
    for (std::size_t i = 0; i < n; ++i)
      require(std::isfinite(g1[e][i]) && std::isfinite(g2[e][i]),
              "source catalogue: estimator '" + names[e] + "' shear of source " + std::to_string(i) +
                  " is not finite");
  }
}

SourceCatalogue SourceCatalogue::subset(const std::vector<long>& indices) const {
  SourceCatalogue out;
  out.names = names;
  out.g1.resize(names.size());
  out.g2.resize(names.size());
  for (long i : indices) {
    require(i >= 0 && i < size(), "source index " + std::to_string(i) + " outside the catalogue");
    out.x.push_back(x[std::size_t(i)]);
    out.y.push_back(y[std::size_t(i)]);
    for (std::size_t e = 0; e < names.size(); ++e) {
      out.g1[e].push_back(g1[e][std::size_t(i)]);
      out.g2[e].push_back(g2[e][std::size_t(i)]);
    }
  }
  return out;
}

Grid Grid::covering(const std::vector<double>& x, const std::vector<double>& y, double step, double padding) {
  require(step > 0, "grid step " + std::to_string(step) + " must be positive");
  require(padding >= 0, "grid padding " + std::to_string(padding) + " must be >= 0");
  require(!x.empty() && x.size() == y.size(), "a grid needs at least one source position");
  auto [xlo, xhi] = std::minmax_element(x.begin(), x.end());
  auto [ylo, yhi] = std::minmax_element(y.begin(), y.end());
  Grid g;
  g.step = step;
  g.x0 = *xlo - padding;
  g.y0 = *ylo - padding;
  g.nx = long(std::floor((*xhi + padding - g.x0) / step + 1e-9)) + 1;
  g.ny = long(std::floor((*yhi + padding - g.y0) / step + 1e-9)) + 1;
  return g;
}

std::vector<double> Grid::xs() const {
  std::vector<double> v(static_cast<std::size_t>(size()));
  for (long iy = 0; iy < ny; ++iy)
    for (long ix = 0; ix < nx; ++ix) v[std::size_t(iy * nx + ix)] = x0 + double(ix) * step;
  return v;
}

std::vector<double> Grid::ys() const {
  std::vector<double> v(static_cast<std::size_t>(size()));
  for (long iy = 0; iy < ny; ++iy)
    for (long ix = 0; ix < nx; ++ix) v[std::size_t(iy * nx + ix)] = y0 + double(iy) * step;
  return v;
}

Image<double> Grid::image(const std::vector<double>& values) const {
  require(long(values.size()) == size(), "grid of " + std::to_string(size()) + " points given " +
                                             std::to_string(values.size()) + " values");
  Image<double> im(ny, nx);
  std::copy(values.begin(), values.end(), im.begin());
  return im;
}

namespace {

// Sources binned into square cells of side `cell` (the kernel cut radius), so the
// sources within the cut of a point lie in the 3 x 3 cells around it.
class CellIndex {
 public:
  CellIndex(const std::vector<double>& x, const std::vector<double>& y, double cell) : cell_(cell) {
    const long n = long(x.size());
    if (n == 0) return;
    x0_ = *std::min_element(x.begin(), x.end());
    y0_ = *std::min_element(y.begin(), y.end());
    // Cells larger than the cut are still correct (more candidates); at most 2048 per axis.
    const double span = std::max(*std::max_element(x.begin(), x.end()) - x0_, *std::max_element(y.begin(), y.end()) - y0_);
    cell_ = std::max(cell_, span / 2048);
    nx_ = long((*std::max_element(x.begin(), x.end()) - x0_) / cell_) + 1;
    ny_ = long((*std::max_element(y.begin(), y.end()) - y0_) / cell_) + 1;
    start_.assign(std::size_t(nx_ * ny_ + 1), 0);
    std::vector<long> c(static_cast<std::size_t>(n));
    for (long i = 0; i < n; ++i) {
      c[std::size_t(i)] = cell_of(x[std::size_t(i)], y[std::size_t(i)]);
      ++start_[std::size_t(c[std::size_t(i)] + 1)];
    }
    for (std::size_t i = 1; i < start_.size(); ++i) start_[i] += start_[i - 1];
    order_.resize(std::size_t(n));
    std::vector<long> fill(start_.begin(), start_.end() - 1);
    for (long i = 0; i < n; ++i) order_[std::size_t(fill[std::size_t(c[std::size_t(i)])]++)] = i;
  }
  // Calls f(j) for every source j in the cells within one cell of (px, py), in a fixed order.
  template <class F>
  void near(double px, double py, F&& f) const {
    if (order_.empty()) return;
    const long cx = long(std::floor((px - x0_) / cell_)), cy = long(std::floor((py - y0_) / cell_));
    for (long iy = std::max(cy - 1, 0L); iy <= std::min(cy + 1, ny_ - 1); ++iy)
      for (long ix = std::max(cx - 1, 0L); ix <= std::min(cx + 1, nx_ - 1); ++ix) {
        const long c = iy * nx_ + ix;
        for (long s = start_[std::size_t(c)]; s < start_[std::size_t(c + 1)]; ++s) f(order_[std::size_t(s)]);
      }
  }

 private:
  long cell_of(double x, double y) const {
    long ix = std::min(long((x - x0_) / cell_), nx_ - 1), iy = std::min(long((y - y0_) / cell_), ny_ - 1);
    return iy * nx_ + ix;
  }
  double cell_, x0_ = 0, y0_ = 0;
  long nx_ = 0, ny_ = 0;
  std::vector<long> start_, order_;
};

void check_inputs(const SourceCatalogue& s, const std::vector<double>& px, const std::vector<double>& py,
                  const SmoothingOptions& o) {
  s.check();
  require(s.estimators() > 0, "the source catalogue has no estimator");
  require(px.size() == py.size(), "evaluation points: " + std::to_string(px.size()) + " x and " +
                                      std::to_string(py.size()) + " y coordinates");
  require(o.lambda > 0 && std::isfinite(o.lambda), "smoothing length lambda " + std::to_string(o.lambda) +
                                                       " arcsec must be positive");
  require(o.truncation > 0, "kernel truncation " + std::to_string(o.truncation) + " must be positive");
  for (std::size_t p = 0; p < px.size(); ++p)
    require(std::isfinite(px[p]) && std::isfinite(py[p]),
            "evaluation point " + std::to_string(p) + " has a non-finite coordinate");
}

// The neighbours of (px, py) within the cut and their kernel values (unit peak).
void kernel_at(const CellIndex& index, const SourceCatalogue& s, double px, double py, double lambda,
               double cut, std::vector<long>& j, std::vector<double>& w) {
  j.clear();
  w.clear();
  const double cut2 = cut * cut, inv = -0.5 / (lambda * lambda);
  index.near(px, py, [&](long i) {
    const double dx = s.x[std::size_t(i)] - px, dy = s.y[std::size_t(i)] - py, r2 = dx * dx + dy * dy;
    if (r2 <= cut2) {
      j.push_back(i);
      w.push_back(std::exp(r2 * inv));
    }
  });
}

}  // namespace

SmoothedField smooth_field(const SourceCatalogue& s, const std::vector<double>& px, const std::vector<double>& py,
                           const SmoothingOptions& o) {
  check_inputs(s, px, py, o);
  const long m = long(px.size());
  const int k = s.estimators();
  const double cut = o.truncation * o.lambda;
  CellIndex index(s.x, s.y, cut);
  SmoothedField f;
  f.x = px;
  f.y = py;
  f.names = s.names;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  f.g1.assign(std::size_t(k), std::vector<double>(std::size_t(m), nan));
  f.g2 = f.g1;
  f.weight_sum.assign(std::size_t(m), 0.0);
  f.neff.assign(std::size_t(m), 0.0);
  f.valid.assign(std::size_t(m), 0);
  parallel_for(
      m,
      [&](long p, int) {
        thread_local std::vector<long> j;
        thread_local std::vector<double> w;
        kernel_at(index, s, px[std::size_t(p)], py[std::size_t(p)], o.lambda, cut, j, w);
        double sw = 0, sw2 = 0;
        for (double v : w) {
          sw += v;
          sw2 += v * v;
        }
        const std::size_t ps = std::size_t(p);
        f.weight_sum[ps] = sw;
        if (sw <= 0) return;
        f.neff[ps] = sw * sw / sw2;
        f.valid[ps] = f.neff[ps] >= o.min_neff ? 1 : 0;
        for (int e = 0; e < k; ++e) {
          double a1 = 0, a2 = 0;
          for (std::size_t t = 0; t < j.size(); ++t) {
            a1 += w[t] * s.g1[std::size_t(e)][std::size_t(j[t])];
            a2 += w[t] * s.g2[std::size_t(e)][std::size_t(j[t])];
          }
          f.g1[std::size_t(e)][ps] = a1 / sw;
          f.g2[std::size_t(e)][ps] = a2 / sw;
        }
      },
      64);
  return f;
}

BootstrapField bootstrap_field(const SourceCatalogue& s, const std::vector<double>& px,
                               const std::vector<double>& py, const SmoothingOptions& o, int nboot,
                               std::uint64_t seed) {
  check_inputs(s, px, py, o);
  require(nboot >= 2, "bootstrap needs at least 2 resamplings, got " + std::to_string(nboot));
  const long n = s.size(), m = long(px.size());
  const int k = s.estimators(), nc = 2 * k;
  const std::size_t B = std::size_t(nboot);
  // counts[j * B + b]: how often resampling b drew source j.
  std::vector<double> counts(std::size_t(n) * B, 0.0);
  parallel_for(nboot, [&](long b, int) {
    RandomStream r(seed, "bootstrap.field", std::uint64_t(b));
    for (long d = 0; d < n; ++d) counts[std::size_t(r.integer(0, n - 1)) * B + std::size_t(b)] += 1.0;
  });
  const double cut = o.truncation * o.lambda;
  CellIndex index(s.x, s.y, cut);
  BootstrapField out;
  out.m = m;
  out.k = k;
  out.nboot = nboot;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  out.cov.assign(std::size_t(m * 2 * k * k), nan);
  out.mean.assign(std::size_t(m * 2 * k), nan);
  out.used.assign(std::size_t(m), 0);
  parallel_for(
      m,
      [&](long p, int) {
        thread_local std::vector<long> j;
        thread_local std::vector<double> w, acc, g;
        kernel_at(index, s, px[std::size_t(p)], py[std::size_t(p)], o.lambda, cut, j, w);
        // acc[(1 + ch) * B + b]: ch = -1 the weight sum, ch = 2e + c the weighted shear.
        acc.assign((1 + std::size_t(nc)) * B, 0.0);
        for (std::size_t t = 0; t < j.size(); ++t) {
          const double* cnt = &counts[std::size_t(j[t]) * B];
          double* a = acc.data();
          const double wt = w[t];
          for (std::size_t b = 0; b < B; ++b) a[b] += wt * cnt[b];
          for (int e = 0; e < k; ++e)
            for (int c = 0; c < 2; ++c) {
              const double v = wt * (c == 0 ? s.g1 : s.g2)[std::size_t(e)][std::size_t(j[t])];
              double* ac = acc.data() + (1 + std::size_t(2 * e + c)) * B;
              for (std::size_t b = 0; b < B; ++b) ac[b] += v * cnt[b];
            }
        }
        // g[b * nc + 2e + c]: the field of resampling b; resamplings with no source in reach skipped.
        g.clear();
        for (std::size_t b = 0; b < B; ++b) {
          const double den = acc[b];
          if (!(den > 0)) continue;
          for (int ch = 0; ch < nc; ++ch) g.push_back(acc[(1 + std::size_t(ch)) * B + b] / den);
        }
        const long used = long(g.size()) / nc;
        out.used[std::size_t(p)] = int(used);
        if (used < 2) return;
        std::vector<double> mu(std::size_t(nc), 0.0);
        for (long b = 0; b < used; ++b)
          for (int ch = 0; ch < nc; ++ch) mu[std::size_t(ch)] += g[std::size_t(b * nc + ch)];
        for (double& v : mu) v /= double(used);
        for (int c = 0; c < 2; ++c)
          for (int e1 = 0; e1 < k; ++e1) {
            out.mean[std::size_t((p * 2 + c) * k + e1)] = mu[std::size_t(2 * e1 + c)];
            for (int e2 = 0; e2 < k; ++e2) {
              double sxy = 0;
              for (long b = 0; b < used; ++b)
                sxy += (g[std::size_t(b * nc + 2 * e1 + c)] - mu[std::size_t(2 * e1 + c)]) *
                       (g[std::size_t(b * nc + 2 * e2 + c)] - mu[std::size_t(2 * e2 + c)]);
              out.cov[std::size_t(((p * 2 + c) * k + e1) * k + e2)] = sxy / double(used - 1);
            }
          }
      },
      16);
  return out;
}

}  // namespace ds::lens
