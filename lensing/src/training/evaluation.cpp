#include "deepshear/lensing/training/evaluation.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "deepshear/engine/error.hpp"

namespace ds::lens {

Json BiasReport::to_json() const {
  return Json{{"c1", json_printed(fit1.c)},         {"c1_err", json_printed(fit1.c_err, "%.3g")},
              {"m1", json_printed(fit1.m)},         {"m1_err", json_printed(fit1.m_err, "%.3g")},
              {"c2", json_printed(fit2.c)},         {"c2_err", json_printed(fit2.c_err, "%.3g")},
              {"m2", json_printed(fit2.m)},         {"m2_err", json_printed(fit2.m_err, "%.3g")},
              {"sigma1", json_printed(rms1)},       {"sigma1_err", json_printed(rms1_err, "%.3g")},
              {"sigma2", json_printed(rms2)},       {"sigma2_err", json_printed(rms2_err, "%.3g")},
              {"applied_calibration", calibration_json(applied)},
              {"used", used},
              {"flagged", flagged}};
}

BiasReport bias_report(const std::vector<StampTruth>& truth, const std::vector<ShearEstimate>& est,
                       const Calibration* cal, int nboot, std::uint64_t seed) {
  require(truth.size() == est.size(), "evaluation: truth and estimates differ in length");
  BiasReport r;
  std::vector<double> t1, t2, o1, o2;
  for (std::size_t i = 0; i < est.size(); ++i) {
    if (est[i].flags) {
      ++r.flagged;
      continue;
    }
    t1.push_back(truth[i].g1), t2.push_back(truth[i].g2), o1.push_back(est[i].g1), o2.push_back(est[i].g2);
  }
  r.used = long(t1.size());
  r.fit1 = fit_bias(t1, o1);
  r.fit2 = fit_bias(t2, o2);
  r.applied = cal ? *cal : Calibration{r.fit1.c, r.fit1.m, r.fit2.c, r.fit2.m};
  auto rms_of = [&](const std::vector<long>& idx) {
    double s1 = 0, s2 = 0;
    for (long k : idx) {
      auto g = r.applied.apply({o1[std::size_t(k)], o2[std::size_t(k)]});
      s1 += std::pow(g.real() - t1[std::size_t(k)], 2);
      s2 += std::pow(g.imag() - t2[std::size_t(k)], 2);
    }
    return std::vector<double>{std::sqrt(s1 / double(idx.size())), std::sqrt(s2 / double(idx.size()))};
  };
  std::vector<long> all(t1.size());
  for (std::size_t k = 0; k < all.size(); ++k) all[k] = long(k);
  auto v = rms_of(all);
  r.rms1 = v[0], r.rms2 = v[1];
  if (nboot > 1) {
    auto e = bootstrap_std(r.used, nboot, seed, rms_of);
    r.rms1_err = e[0], r.rms2_err = e[1];
  }
  return r;
}

std::vector<double> quantile_edges(const std::vector<double>& q, int nbins) {
  std::vector<double> v;
  for (double x : q)
    if (std::isfinite(x)) v.push_back(x);
  require(!v.empty() && nbins >= 1, "quantile bins: no finite values");
  std::sort(v.begin(), v.end());
  std::vector<double> edges;
  for (int b = 0; b <= nbins; ++b) edges.push_back(v[std::min(v.size() - 1, v.size() * std::size_t(b) / std::size_t(nbins))]);
  edges.back() = std::nextafter(v.back(), INFINITY);
  return edges;
}

std::vector<BinStats> binned_stats(const std::vector<double>& q, const std::vector<double>& edges,
                                   const std::vector<StampTruth>& truth, const std::vector<ShearEstimate>& est,
                                   const Calibration& cal, const BinnedCalibration* binned,
                                   const std::vector<double>* q_cal) {
  require(q.size() == truth.size() && est.size() == truth.size(), "binned statistics: inputs differ in length");
  std::vector<BinStats> out;
  for (std::size_t b = 0; b + 1 < edges.size(); ++b) {
    BinStats s;
    s.lo = edges[b], s.hi = edges[b + 1], s.centre = 0.5 * (s.lo + s.hi);
    std::vector<double> t1, t2, o1, o2, sq;
    double qsum = 0;
    for (std::size_t i = 0; i < q.size(); ++i) {
      if (est[i].flags || !(q[i] >= s.lo && q[i] < s.hi)) continue;
      qsum += q[i];
      std::complex<double> g(est[i].g1, est[i].g2);
      g = binned && q_cal ? binned->apply(g, (*q_cal)[i]) : cal.apply(g);
      t1.push_back(truth[i].g1), t2.push_back(truth[i].g2), o1.push_back(g.real()), o2.push_back(g.imag());
      sq.push_back(0.5 * (std::norm(g - std::complex<double>(truth[i].g1, truth[i].g2))));
    }
    s.n = long(sq.size());
    if (s.n > 0) s.centre = qsum / double(s.n);  // the bin's mean, where its points are drawn
    if (s.n >= 3) {
      double sum = 0;
      for (double x : sq) sum += x;
      s.rms = std::sqrt(sum / double(s.n));
      double var = 0, mean = sum / double(s.n);
      for (double x : sq) var += (x - mean) * (x - mean);
      // Error of the RMS from the scatter of the squared residuals (delta method).
      s.rms_err = std::sqrt(var / double(s.n - 1) / double(s.n)) / (2 * s.rms);
      bool spread1 = *std::max_element(t1.begin(), t1.end()) > *std::min_element(t1.begin(), t1.end());
      if (spread1) {
        auto f1 = fit_bias(t1, o1), f2 = fit_bias(t2, o2);
        s.m1 = f1.m, s.m1_err = f1.m_err, s.c1 = f1.c, s.c1_err = f1.c_err;
        s.m2 = f2.m, s.m2_err = f2.m_err, s.c2 = f2.c, s.c2_err = f2.c_err;
      }
    }
    out.push_back(s);
  }
  return out;
}

Json bins_to_json(const std::vector<BinStats>& bins) {
  Json out = Json::array();
  for (const auto& s : bins)
    out.push_back(Json{{"lo", json_printed(s.lo)},         {"hi", json_printed(s.hi)},
                       {"n", s.n},                         {"rms", json_printed(s.rms)},
                       {"rms_err", json_printed(s.rms_err, "%.3g")},
                       {"m1", json_printed(s.m1)},         {"m1_err", json_printed(s.m1_err, "%.3g")},
                       {"c1", json_printed(s.c1)},         {"c1_err", json_printed(s.c1_err, "%.3g")},
                       {"m2", json_printed(s.m2)},         {"m2_err", json_printed(s.m2_err, "%.3g")},
                       {"c2", json_printed(s.c2)},         {"c2_err", json_printed(s.c2_err, "%.3g")}});
  return out;
}

std::string bins_to_csv(const std::string& estimator, const std::string& quantity, const std::vector<BinStats>& bins) {
  std::string out;
  for (const auto& s : bins) {
    char buf[512];
    std::snprintf(buf, sizeof buf, "%s,%s,%.6g,%.6g,%ld,%.6g,%.3g,%.6g,%.3g,%.6g,%.3g,%.6g,%.3g,%.6g,%.3g\n",
                  estimator.c_str(), quantity.c_str(), s.lo, s.hi, s.n, s.rms, s.rms_err, s.m1, s.m1_err, s.c1,
                  s.c1_err, s.m2, s.m2_err, s.c2, s.c2_err);
    out += buf;
  }
  return out;
}

}  // namespace ds::lens
