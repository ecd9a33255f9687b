// Errors-in-variables relative calibration (see relative_calibration.hpp).
#include "deepshear/lensing/cluster/relative_calibration.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

#include "deepshear/engine/error.hpp"
#include "deepshear/engine/random.hpp"

namespace ds::lens {

void PairedSamples::append(const PairedSamples& o) {
  x.insert(x.end(), o.x.begin(), o.x.end());
  y.insert(y.end(), o.y.begin(), o.y.end());
  vxx.insert(vxx.end(), o.vxx.begin(), o.vxx.end());
  vxy.insert(vxy.end(), o.vxy.begin(), o.vxy.end());
  vyy.insert(vyy.end(), o.vyy.begin(), o.vyy.end());
  block.insert(block.end(), o.block.begin(), o.block.end());
}

std::array<PairedSamples, 2> sample_field_pairs(const SourceCatalogue& s, const std::string& reference,
                                                const std::string& estimator, const SmoothingOptions& o,
                                                int nboot, double fraction, std::uint64_t seed,
                                                std::uint64_t field_index) {
  s.check();
  require(s.size() > 0, "relative calibration: a field has no sources");
  require(fraction > 0, "sampling fraction " + std::to_string(fraction) + " must be positive");
  const int ex = s.index_of(reference), ey = s.index_of(estimator);
  const long want = std::max(1L, std::lround(fraction * double(s.size())));
  auto [xlo, xhi] = std::minmax_element(s.x.begin(), s.x.end());
  auto [ylo, yhi] = std::minmax_element(s.y.begin(), s.y.end());
  RandomStream r(seed, "calibration.points", field_index);
  // Candidates in rounds; the first `want` valid ones are kept, in draw order.
  std::array<PairedSamples, 2> out;
  for (int round = 0; round < 20 && out[0].size() < want; ++round) {
    std::vector<double> px, py;
    for (long i = 0; i < 2 * want; ++i) {
      px.push_back(r.uniform(*xlo, *xhi));
      py.push_back(r.uniform(*ylo, *yhi));
    }
    SmoothedField f = smooth_field(s, px, py, o);
    BootstrapField b = bootstrap_field(s, px, py, o, nboot, seed + 7919 * (field_index + 1) + std::uint64_t(round));
    for (long p = 0; p < long(px.size()) && out[0].size() < want; ++p) {
      if (!f.valid[std::size_t(p)]) continue;
      bool ok = true;
      for (int c = 0; c < 2; ++c) {
        const double a = b.covariance(p, c, ex, ex), d = b.covariance(p, c, ey, ey), o2 = b.covariance(p, c, ex, ey);
        ok = ok && std::isfinite(a) && std::isfinite(d) && a > 0 && d > 0 && a * d - o2 * o2 > 0;
      }
      if (!ok) continue;
      const long bx = std::min(2L, long(3 * (px[std::size_t(p)] - *xlo) / std::max(1e-300, *xhi - *xlo)));
      const long by = std::min(2L, long(3 * (py[std::size_t(p)] - *ylo) / std::max(1e-300, *yhi - *ylo)));
      for (int c = 0; c < 2; ++c) {
        const auto& gx = c == 0 ? f.g1 : f.g2;
        out[std::size_t(c)].block.push_back(long(field_index) * 9 + by * 3 + bx);
        out[std::size_t(c)].x.push_back(gx[std::size_t(ex)][std::size_t(p)]);
        out[std::size_t(c)].y.push_back(gx[std::size_t(ey)][std::size_t(p)]);
        out[std::size_t(c)].vxx.push_back(b.covariance(p, c, ex, ex));
        out[std::size_t(c)].vxy.push_back(b.covariance(p, c, ex, ey));
        out[std::size_t(c)].vyy.push_back(b.covariance(p, c, ey, ey));
      }
    }
  }
  return out;
}

namespace {

// -ln L (up to a constant) of y = c + s x, and the c that minimises it for a given s.
double neg_log_l(const PairedSamples& d, double c, double s) {
  double q = 0;
  for (long i = 0; i < d.size(); ++i) {
    const std::size_t k = std::size_t(i);
    const double r = d.y[k] - c - s * d.x[k];
    q += r * r / (d.vyy[k] - 2 * s * d.vxy[k] + s * s * d.vxx[k]);
  }
  return 0.5 * q;
}
double best_c(const PairedSamples& d, double s) {
  double sw = 0, swr = 0;
  for (long i = 0; i < d.size(); ++i) {
    const std::size_t k = std::size_t(i);
    const double w = 1.0 / (d.vyy[k] - 2 * s * d.vxy[k] + s * s * d.vxx[k]);
    sw += w;
    swr += w * (d.y[k] - s * d.x[k]);
  }
  return swr / sw;
}

}  // namespace

LineFit fit_line_eiv(const PairedSamples& d) {
  const long n = d.size();
  require(n >= 3, "errors-in-variables fit needs at least 3 points, got " + std::to_string(n));
  require(long(d.y.size()) == n && long(d.vxx.size()) == n && long(d.vxy.size()) == n && long(d.vyy.size()) == n,
          "errors-in-variables fit: sample arrays differ in length");
  for (long i = 0; i < n; ++i) {
    const std::size_t k = std::size_t(i);
    require(std::isfinite(d.x[k]) && std::isfinite(d.y[k]) && d.vxx[k] > 0 && d.vyy[k] > 0 &&
                d.vxx[k] * d.vyy[k] - d.vxy[k] * d.vxy[k] > 0,
            "errors-in-variables fit: point " + std::to_string(i) + " has a non-finite value or a covariance "
            "that is not positive definite");
  }
  auto profile = [&](double t) {
    const double s = std::tan(t);
    return neg_log_l(d, best_c(d, s), s);
  };
  const double half_pi = 2 * std::atan(1.0);
  const int nscan = 720;
  const double dt = 2 * half_pi / nscan;
  double tbest = 0, qbest = profile(0.0);
  for (int i = 1; i < nscan; ++i) {
    const double t = -half_pi + i * dt, q = profile(t);
    if (q < qbest) qbest = q, tbest = t;
  }
  // Golden-section search on [tbest - dt, tbest + dt].
  double a = tbest - dt, b = tbest + dt;
  const double gr = (std::sqrt(5.0) - 1) / 2;
  double x1 = b - gr * (b - a), x2 = a + gr * (b - a), f1 = profile(x1), f2 = profile(x2);
  for (int it = 0; it < 100 && b - a > 1e-13; ++it) {
    if (f1 < f2) {
      b = x2, x2 = x1, f2 = f1, x1 = b - gr * (b - a), f1 = profile(x1);
    } else {
      a = x1, x1 = x2, f1 = f2, x2 = a + gr * (b - a), f2 = profile(x2);
    }
  }
  LineFit fit;
  const double s = std::tan(0.5 * (a + b));
  fit.c = best_c(d, s);
  fit.m = s - 1;
  fit.n = n;
  fit.chi2 = 2 * neg_log_l(d, fit.c, s);
  // Hessian of -ln L in (c, s) by central differences.
  const double hc = 1e-4 * std::sqrt(std::max(1e-30, d.vyy[0])), hs = 1e-4 * std::max(1.0, std::abs(s));
  auto F = [&](double c, double sl) { return neg_log_l(d, c, sl); };
  Eigen::Matrix2d h;
  h(0, 0) = (F(fit.c + hc, s) - 2 * F(fit.c, s) + F(fit.c - hc, s)) / (hc * hc);
  h(1, 1) = (F(fit.c, s + hs) - 2 * F(fit.c, s) + F(fit.c, s - hs)) / (hs * hs);
  h(0, 1) = h(1, 0) = (F(fit.c + hc, s + hs) - F(fit.c + hc, s - hs) - F(fit.c - hc, s + hs) +
                       F(fit.c - hc, s - hs)) / (4 * hc * hs);
  const Eigen::Matrix2d cov = h.inverse();
  fit.c_err = std::sqrt(std::max(0.0, cov(0, 0)));
  fit.m_err = std::sqrt(std::max(0.0, cov(1, 1)));
  fit.cov_cm = cov(0, 1);
  return fit;
}

LineFit fit_line_eiv_blocks(const PairedSamples& d, int nboot, std::uint64_t seed) {
  LineFit fit = fit_line_eiv(d);
  require(long(d.block.size()) == d.size(), "block-bootstrap fit: samples carry no block labels");
  require(nboot >= 2, "block-bootstrap fit needs at least 2 resamplings, got " + std::to_string(nboot));
  std::vector<long> ids(d.block);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  require(ids.size() >= 4, "block-bootstrap fit needs at least 4 blocks, got " + std::to_string(ids.size()));
  std::vector<std::vector<long>> members(ids.size());
  for (long i = 0; i < d.size(); ++i)
    members[std::size_t(std::lower_bound(ids.begin(), ids.end(), d.block[std::size_t(i)]) - ids.begin())].push_back(i);
  double sc = 0, sc2 = 0, sm = 0, sm2 = 0;
  int done = 0;
  for (int b = 0; b < nboot; ++b) {
    RandomStream r(seed, "calibration.blocks", std::uint64_t(b));
    PairedSamples rs;
    for (std::size_t t = 0; t < ids.size(); ++t)
      for (long i : members[std::size_t(r.integer(0, long(ids.size()) - 1))]) {
        const std::size_t k = std::size_t(i);
        rs.x.push_back(d.x[k]), rs.y.push_back(d.y[k]);
        rs.vxx.push_back(d.vxx[k]), rs.vxy.push_back(d.vxy[k]), rs.vyy.push_back(d.vyy[k]);
      }
    if (rs.size() < 3) continue;
    const LineFit f = fit_line_eiv(rs);
    sc += f.c, sc2 += f.c * f.c, sm += f.m, sm2 += f.m * f.m;
    ++done;
  }
  require(done >= 2, "block-bootstrap fit: too few usable resamplings");
  const double n = done;
  fit.c_err_blocks = std::sqrt(std::max(0.0, (sc2 - sc * sc / n) / (n - 1)));
  fit.m_err_blocks = std::sqrt(std::max(0.0, (sm2 - sm * sm / n) / (n - 1)));
  fit.blocks = int(ids.size());
  return fit;
}

std::array<LineFit, 2> relative_calibration(const std::vector<SourceCatalogue>& fields, const std::string& reference,
                                            const std::string& estimator, const SmoothingOptions& o, int nboot,
                                            double fraction, std::uint64_t seed) {
  require(!fields.empty(), "relative calibration needs at least one field");
  std::array<PairedSamples, 2> all;
  for (std::size_t f = 0; f < fields.size(); ++f) {
    auto s = sample_field_pairs(fields[f], reference, estimator, o, nboot, fraction, seed, f);
    all[0].append(s[0]);
    all[1].append(s[1]);
  }
  return {fit_line_eiv_blocks(all[0], 200, seed), fit_line_eiv_blocks(all[1], 200, seed + 1)};
}

void apply_relative_calibration(SourceCatalogue& s, const std::string& name, const std::array<LineFit, 2>& fit) {
  const int e = s.index_of(name);
  for (int c = 0; c < 2; ++c)
    require(1 + fit[std::size_t(c)].m != 0 && std::isfinite(fit[std::size_t(c)].m),
            "relative calibration of '" + name + "': m" + std::to_string(c + 1) + " = " +
                std::to_string(fit[std::size_t(c)].m) + " cannot be undone");
  for (auto& v : s.g1[std::size_t(e)]) v = (v - fit[0].c) / (1 + fit[0].m);
  for (auto& v : s.g2[std::size_t(e)]) v = (v - fit[1].c) / (1 + fit[1].m);
}

}  // namespace ds::lens
