// Gridded shear maps (see maps.hpp).
#include "deepshear/lensing/cluster/maps.hpp"

#include <cmath>
#include <limits>

namespace ds::lens {

ShearMaps shear_maps(const SourceCatalogue& s, double step, double padding, const SmoothingOptions& o, int nboot,
                     std::uint64_t seed) {
  ShearMaps m;
  m.grid = Grid::covering(s.x, s.y, step, padding);
  m.options = o;
  m.nboot = nboot;
  m.names = s.names;
  const std::vector<double> px = m.grid.xs(), py = m.grid.ys();
  const SmoothedField f = smooth_field(s, px, py, o);
  const BootstrapField b = bootstrap_field(s, px, py, o, nboot, seed);
  const int k = s.estimators();
  const long n = m.grid.size(), ny = m.grid.ny, nx = m.grid.nx;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  m.neff = m.grid.image(f.neff);
  m.mask = Image<double>(ny, nx);
  for (long p = 0; p < n; ++p) m.mask.data()[p] = f.valid[std::size_t(p)] ? 1.0 : 0.0;
  for (int e = 0; e < k; ++e) {
    Image<double> a(ny, nx, nan), c(ny, nx, nan), sa(ny, nx, nan), sc(ny, nx, nan);
    for (long p = 0; p < n; ++p) {
      if (!f.valid[std::size_t(p)]) continue;
      a.data()[p] = f.g1[std::size_t(e)][std::size_t(p)];
      c.data()[p] = f.g2[std::size_t(e)][std::size_t(p)];
      sa.data()[p] = std::sqrt(b.variance(p, 0, e));
      sc.data()[p] = std::sqrt(b.variance(p, 1, e));
    }
    m.g1.push_back(std::move(a));
    m.g2.push_back(std::move(c));
    m.sigma1.push_back(std::move(sa));
    m.sigma2.push_back(std::move(sc));
  }
  for (int e1 = 0; e1 < k; ++e1)
    for (int e2 = 0; e2 < k; ++e2) {
      Image<double> r1(ny, nx, nan), r2(ny, nx, nan);
      for (long p = 0; p < n; ++p) {
        if (!f.valid[std::size_t(p)]) continue;
        r1.data()[p] = b.covariance(p, 0, e1, e2) / std::sqrt(b.variance(p, 0, e1) * b.variance(p, 0, e2));
        r2.data()[p] = b.covariance(p, 1, e1, e2) / std::sqrt(b.variance(p, 1, e1) * b.variance(p, 1, e2));
      }
      m.corr1.push_back(std::move(r1));
      m.corr2.push_back(std::move(r2));
    }
  return m;
}

}  // namespace ds::lens
