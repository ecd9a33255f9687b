#include "deepshear/lensing/calibration.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <cstdio>

#include "deepshear/engine/atomic_file.hpp"
#include "deepshear/engine/config.hpp"
#include "deepshear/engine/error.hpp"
#include "deepshear/engine/parallel.hpp"
#include "deepshear/engine/provenance.hpp"
#include "deepshear/engine/random.hpp"

namespace ds::lens {

BiasFit fit_bias(const std::vector<double>& x, const std::vector<double>& y) {
  require(x.size() == y.size(), "bias fit: truth and estimates differ in length");
  double sx = 0, sy = 0;
  long n = 0;
  for (std::size_t i = 0; i < x.size(); ++i)
    if (std::isfinite(x[i]) && std::isfinite(y[i])) sx += x[i], sy += y[i], ++n;
  require(n >= 3, "bias fit: fewer than 3 finite points");
  double mx = sx / double(n), my = sy / double(n), sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < x.size(); ++i)
    if (std::isfinite(x[i]) && std::isfinite(y[i])) {
      sxx += (x[i] - mx) * (x[i] - mx);
      sxy += (x[i] - mx) * (y[i] - my);
    }
  double sum2 = 0;
  for (std::size_t i = 0; i < x.size(); ++i)
    if (std::isfinite(x[i]) && std::isfinite(y[i])) sum2 += x[i] * x[i];
  require(sxx > 1e-14 * sum2 && sxx > 0, "bias fit: all true shears are equal");
  BiasFit f;
  f.n = n;
  double slope = sxy / sxx;
  f.m = slope - 1;
  f.c = my - slope * mx;
  double rss = 0, cal = 0;
  for (std::size_t i = 0; i < x.size(); ++i)
    if (std::isfinite(x[i]) && std::isfinite(y[i])) {
      double r = y[i] - f.c - slope * x[i];
      rss += r * r;
      double d = (y[i] - f.c) / slope - x[i];
      cal += d * d;
    }
  double s2 = rss / double(n - 2);
  f.m_err = std::sqrt(s2 / sxx);
  f.c_err = std::sqrt(s2 * (1.0 / double(n) + mx * mx / sxx));
  f.rms = std::sqrt(cal / double(n));
  return f;
}

std::complex<double> Calibration::apply(std::complex<double> g) const {
  return {(g.real() - c1) / (1 + m1), (g.imag() - c2) / (1 + m2)};
}

Calibration Calibration::then(const Calibration& b) const {
  // ((g - ca) / (1 + ma) - cb) / (1 + mb) = (g - ca - cb (1 + ma)) / ((1 + ma)(1 + mb))
  Calibration out;
  out.c1 = c1 + b.c1 * (1 + m1);
  out.m1 = (1 + m1) * (1 + b.m1) - 1;
  out.c2 = c2 + b.c2 * (1 + m2);
  out.m2 = (1 + m2) * (1 + b.m2) - 1;
  return out;
}

static Config calibration_keys() {
  Config c;
  c.add_string("estimator", "", "the estimator this calibration belongs to");
  c.add_double("c1", 0, "additive bias of g1");
  c.add_double("m1", 0, "multiplicative bias of g1: g_obs = c + (1 + m) g_true");
  c.add_double("c2", 0, "additive bias of g2");
  c.add_double("m2", 0, "multiplicative bias of g2");
  return c;
}

void Calibration::save(const std::string& path, const std::string& estimator) const {
  Config c = calibration_keys();
  char buf[64];
  c.set("estimator", estimator, "the fit");
  for (auto [k, v] : {std::pair<const char*, double>{"c1", c1}, {"m1", m1}, {"c2", c2}, {"m2", m2}}) {
    std::snprintf(buf, sizeof buf, "%.17g", v);
    c.set(k, buf, "the fit");
  }
  write_text_atomic(path, "# deepshear shear calibration: calibrated g = (g - c) / (1 + m)\n" + config_text(c.dump()));
}

Calibration Calibration::load(const std::string& path, std::string* estimator) {
  Config c = calibration_keys();
  c.load_file(path);
  if (estimator) *estimator = c.get_string("estimator");
  return {c.get_double("c1"), c.get_double("m1"), c.get_double("c2"), c.get_double("m2")};
}

BinnedCalibration BinnedCalibration::fit(const std::string& quantity, const std::vector<double>& q,
                                         const std::vector<double>& t1, const std::vector<double>& t2,
                                         const std::vector<double>& o1, const std::vector<double>& o2, int nbins) {
  require(nbins >= 1, "binned calibration: need at least one bin");
  require(q.size() == t1.size() && q.size() == t2.size() && q.size() == o1.size() && q.size() == o2.size(),
          "binned calibration: inputs differ in length");
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < q.size(); ++i)
    if (std::isfinite(q[i])) order.push_back(i);
  require(order.size() >= std::size_t(3 * nbins), "binned calibration on " + quantity + ": too few galaxies (" +
                                                      std::to_string(order.size()) + ") for " +
                                                      std::to_string(nbins) + " bins");
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return q[a] < q[b]; });
  BinnedCalibration out;
  out.quantity = quantity;
  const std::size_t n = order.size();
  for (int b = 0; b < nbins; ++b) {
    std::size_t lo = n * std::size_t(b) / std::size_t(nbins), hi = n * std::size_t(b + 1) / std::size_t(nbins);
    std::vector<double> a1, a2, b1, b2;
    for (std::size_t k = lo; k < hi; ++k) {
      std::size_t i = order[k];
      a1.push_back(t1[i]), a2.push_back(t2[i]), b1.push_back(o1[i]), b2.push_back(o2[i]);
    }
    out.edges.push_back(q[order[lo]]);
    out.centres.push_back(q[order[(lo + hi) / 2]]);
    out.fit1.push_back(fit_bias(a1, b1));
    out.fit2.push_back(fit_bias(a2, b2));
  }
  out.edges.push_back(q[order.back()]);
  return out;
}

Calibration BinnedCalibration::at(double q) const {
  require(!centres.empty(), "binned calibration is empty");
  auto cal = [&](std::size_t b) { return Calibration{fit1[b].c, fit1[b].m, fit2[b].c, fit2[b].m}; };
  if (!(q > centres.front())) return cal(0);
  if (!(q < centres.back())) return cal(centres.size() - 1);
  std::size_t b = std::size_t(std::upper_bound(centres.begin(), centres.end(), q) - centres.begin());
  double f = (q - centres[b - 1]) / (centres[b] - centres[b - 1]);
  Calibration a = cal(b - 1), c = cal(b);
  return {a.c1 + f * (c.c1 - a.c1), a.m1 + f * (c.m1 - a.m1), a.c2 + f * (c.c2 - a.c2), a.m2 + f * (c.m2 - a.m2)};
}

static Config binned_keys() {
  Config c;
  c.add_string("estimator", "", "the estimator this calibration belongs to");
  c.add_string("quantity", "", "the per-galaxy quantity q of the bins (magnitude, snr)");
  c.add_doubles("edges", {}, "bin edges in q (nbins + 1)");
  c.add_doubles("centres", {}, "median q per bin; (c, m) are interpolated linearly between them");
  c.add_doubles("c1", {}, "additive bias of g1 per bin");
  c.add_doubles("m1", {}, "multiplicative bias of g1 per bin: g_obs = c + (1 + m) g_true");
  c.add_doubles("c2", {}, "additive bias of g2 per bin");
  c.add_doubles("m2", {}, "multiplicative bias of g2 per bin");
  return c;
}

void BinnedCalibration::save(const std::string& path, const std::string& estimator) const {
  Config c = binned_keys();
  auto list = [](const std::vector<double>& v) {
    std::string s;
    char buf[64];
    for (double x : v) std::snprintf(buf, sizeof buf, "%s%.10g", s.empty() ? "" : ", ", x), s += buf;
    return s;
  };
  std::vector<double> c1, m1, c2, m2;
  for (std::size_t b = 0; b < centres.size(); ++b)
    c1.push_back(fit1[b].c), m1.push_back(fit1[b].m), c2.push_back(fit2[b].c), m2.push_back(fit2[b].m);
  c.set("estimator", estimator, "the fit");
  c.set("quantity", quantity, "the fit");
  c.set("edges", list(edges), "the fit");
  c.set("centres", list(centres), "the fit");
  c.set("c1", list(c1), "the fit"), c.set("m1", list(m1), "the fit");
  c.set("c2", list(c2), "the fit"), c.set("m2", list(m2), "the fit");
  write_text_atomic(path, "# deepshear per-galaxy shear calibration in bins of " + quantity +
                              ": calibrated g = (g - c(q)) / (1 + m(q))\n" + config_text(c.dump()));
}

BinnedCalibration BinnedCalibration::load(const std::string& path, std::string* estimator) {
  Config c = binned_keys();
  c.load_file(path);
  if (estimator) *estimator = c.get_string("estimator");
  BinnedCalibration out;
  out.quantity = c.get_string("quantity");
  out.edges = c.get_doubles("edges");
  out.centres = c.get_doubles("centres");
  const auto c1 = c.get_doubles("c1"), m1 = c.get_doubles("m1"), c2 = c.get_doubles("c2"), m2 = c.get_doubles("m2");
  const std::size_t nb = out.centres.size();
  require(nb >= 1, path + ": key centres: no bins");
  require(out.edges.size() == nb + 1, path + ": key edges: " + std::to_string(out.edges.size()) + " values, expected " +
                                          std::to_string(nb + 1));
  for (auto [k, v] : {std::pair<const char*, const std::vector<double>*>{"c1", &c1}, {"m1", &m1}, {"c2", &c2}, {"m2", &m2}})
    require(v->size() == nb, path + ": key " + k + ": " + std::to_string(v->size()) + " values, expected " +
                                 std::to_string(nb));
  for (std::size_t b = 0; b < nb; ++b) {
    require(b == 0 || out.centres[b] > out.centres[b - 1], path + ": key centres: not increasing");
    BiasFit f1, f2;
    f1.c = c1[b], f1.m = m1[b], f2.c = c2[b], f2.m = m2[b];
    out.fit1.push_back(f1), out.fit2.push_back(f2);
  }
  return out;
}

bool BinnedCalibration::is_binned_file(const std::string& path) {
  std::ifstream in(path);
  require(bool(in), path + ": cannot read the calibration file");
  std::string line;
  while (std::getline(in, line)) {
    auto k = line.find_first_not_of(" \t");
    if (k != std::string::npos && line.compare(k, 8, "quantity") == 0) return true;
  }
  return false;
}

std::vector<double> bootstrap_std(long n, int nboot, std::uint64_t seed,
                                  const std::function<std::vector<double>(const std::vector<long>&)>& stat) {
  require(n > 0 && nboot > 1, "bootstrap: need items and at least 2 resamplings");
  std::vector<std::vector<double>> draws(static_cast<std::size_t>(nboot));
  parallel_for(nboot, [&](long b, int) {
    RandomStream r(seed, "bootstrap", std::uint64_t(b));
    std::vector<long> idx(static_cast<std::size_t>(n));
    for (auto& i : idx) i = long(r.integer(0, n - 1));
    draws[std::size_t(b)] = stat(idx);
  });
  std::size_t k = draws[0].size();
  std::vector<double> out(k);
  for (std::size_t j = 0; j < k; ++j) {
    double mean = 0, var = 0;
    for (const auto& d : draws) mean += d[j];
    mean /= nboot;
    for (const auto& d : draws) var += (d[j] - mean) * (d[j] - mean);
    out[j] = std::sqrt(var / (nboot - 1));
  }
  return out;
}

}  // namespace ds::lens
