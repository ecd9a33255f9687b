// Tangential shear profiles (see tangential_profile.hpp).
#include "deepshear/lensing/cluster/tangential_profile.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "deepshear/engine/error.hpp"

namespace ds::lens {

TangentialProfile tangential_profile(const std::vector<double>& x, const std::vector<double>& y,
                                     const std::vector<double>& g1, const std::vector<double>& g2, double xc,
                                     double yc, const std::vector<double>& edges, double sigma) {
  const std::size_t n = x.size();
  require(y.size() == n && g1.size() == n && g2.size() == n,
          "tangential profile: x, y, g1, g2 lengths differ (" + std::to_string(n) + ", " + std::to_string(y.size()) +
              ", " + std::to_string(g1.size()) + ", " + std::to_string(g2.size()) + ")");
  require(edges.size() >= 2, "tangential profile needs at least 2 bin edges");
  for (std::size_t i = 1; i < edges.size(); ++i)
    require(edges[i] > edges[i - 1], "tangential profile: bin edge " + std::to_string(edges[i]) + " not increasing");
  const std::size_t nb = edges.size() - 1;
  std::vector<double> sr(nb, 0), st(nb, 0), st2(nb, 0), sx(nb, 0), sx2(nb, 0);
  TangentialProfile p;
  p.n.assign(nb, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const double dx = x[i] - xc, dy = y[i] - yc, r = std::hypot(dx, dy);
    if (r < edges.front() || r >= edges.back() || r == 0) continue;
    const std::size_t b = std::size_t(std::upper_bound(edges.begin(), edges.end(), r) - edges.begin()) - 1;
    // exp(-2 i phi) = (cos 2phi - i sin 2phi), cos 2phi = (dx^2 - dy^2)/r^2, sin 2phi = 2 dx dy / r^2.
    const double c2 = (dx * dx - dy * dy) / (r * r), s2 = 2 * dx * dy / (r * r);
    const double t = -(g1[i] * c2 + g2[i] * s2), xx = -(g2[i] * c2 - g1[i] * s2);
    sr[b] += r, st[b] += t, st2[b] += t * t, sx[b] += xx, sx2[b] += xx * xx;
    ++p.n[b];
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  p.sigma_t = p.sigma_x = sigma > 0 ? sigma : nan;
  if (sigma == 0) {  // pooled over the bins: sum of squares about each bin's mean / (N - bins used)
    double ssq_t = 0, ssq_x = 0;
    long total = 0, used = 0;
    for (std::size_t b = 0; b < nb; ++b) {
      const double m = double(p.n[b]);
      if (m == 0) continue;
      ssq_t += std::max(0.0, st2[b] - st[b] * st[b] / m);
      ssq_x += std::max(0.0, sx2[b] - sx[b] * sx[b] / m);
      total += p.n[b], ++used;
    }
    if (total > used) p.sigma_t = std::sqrt(ssq_t / double(total - used)), p.sigma_x = std::sqrt(ssq_x / double(total - used));
  }
  for (std::size_t b = 0; b < nb; ++b) {
    const double m = double(p.n[b]);
    p.r_lo.push_back(edges[b]);
    p.r_hi.push_back(edges[b + 1]);
    p.r_mean.push_back(m > 0 ? sr[b] / m : nan);
    p.gt.push_back(m > 0 ? st[b] / m : nan);
    p.gx.push_back(m > 0 ? sx[b] / m : nan);
    if (sigma >= 0) {
      p.gt_err.push_back(m > 0 ? p.sigma_t / std::sqrt(m) : nan);
      p.gx_err.push_back(m > 0 ? p.sigma_x / std::sqrt(m) : nan);
    } else if (m >= 2) {
      p.gt_err.push_back(std::sqrt(std::max(0.0, (st2[b] - st[b] * st[b] / m) / (m - 1)) / m));
      p.gx_err.push_back(std::sqrt(std::max(0.0, (sx2[b] - sx[b] * sx[b] / m) / (m - 1)) / m));
    } else {
      p.gt_err.push_back(nan);
      p.gx_err.push_back(nan);
    }
  }
  return p;
}

std::vector<double> log_radius_edges(const std::vector<double>& x, const std::vector<double>& y, double xc,
                                     double yc, int nbins, double r_min) {
  require(x.size() == y.size() && nbins > 0 && r_min > 0, "radius edges: bad sources or bins");
  double rmax = 0;
  for (std::size_t i = 0; i < x.size(); ++i) rmax = std::max(rmax, std::hypot(x[i] - xc, y[i] - yc));
  std::vector<double> edges;
  for (int b = 0; b <= nbins; ++b) edges.push_back(r_min * std::pow(rmax / r_min, double(b) / double(nbins)));
  return edges;
}

}  // namespace ds::lens
