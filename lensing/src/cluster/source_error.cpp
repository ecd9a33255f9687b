// Per-source statistical errors from split fields (see source_error.hpp).
#include "deepshear/lensing/cluster/source_error.hpp"

#include <cmath>
#include <numeric>

#include "deepshear/engine/error.hpp"
#include "deepshear/engine/random.hpp"

namespace ds::lens {

SourceErrors source_errors(const std::vector<SourceCatalogue>& fields, const SourceErrorOptions& o) {
  require(!fields.empty(), "source errors need at least one field");
  require(!o.lambdas.empty(), "source errors need at least one smoothing length");
  require(o.nsplit >= 2, "source errors need at least 2 splits, got " + std::to_string(o.nsplit));
  const int k = fields[0].estimators();
  for (const auto& f : fields) {
    f.check();
    require(f.names == fields[0].names, "source errors: fields have different estimators");
    require(f.size() >= 4, "source errors: a field has " + std::to_string(f.size()) + " sources, fewer than 4");
  }
  const int nl = int(o.lambdas.size());
  const std::size_t nstat = std::size_t(nl * k * 2);
  // Per split: the three variances, averaged over fields.
  std::vector<std::vector<double>> vfs(std::size_t(o.nsplit), std::vector<double>(nstat, 0.0)), vf = vfs;
  for (int sp = 0; sp < o.nsplit; ++sp) {
    for (std::size_t fi = 0; fi < fields.size(); ++fi) {
      const SourceCatalogue& cat = fields[fi];
      const long n = cat.size();
      // A random permutation (Fisher-Yates); its first half is held in.
      std::vector<long> perm(static_cast<std::size_t>(n));
      std::iota(perm.begin(), perm.end(), 0L);
      RandomStream r(o.seed, "source_error.split", std::uint64_t(sp) * 1000003u + fi);
      for (long i = n - 1; i > 0; --i) std::swap(perm[std::size_t(i)], perm[std::size_t(r.integer(0, i))]);
      std::vector<long> in(perm.begin(), perm.begin() + n / 2), out(perm.begin() + n / 2, perm.end());
      const SourceCatalogue held_in = cat.subset(in), held_out = cat.subset(out);
      for (int l = 0; l < nl; ++l) {
        SmoothingOptions so{o.lambdas[std::size_t(l)], o.truncation, o.min_neff};
        SmoothedField f = smooth_field(held_in, held_out.x, held_out.y, so);
        BootstrapField b = bootstrap_field(held_in, held_out.x, held_out.y, so, o.nboot,
                                           o.seed * 0x9E3779B97F4A7C15ull + std::uint64_t(sp) * 1000003u + fi);
        for (int e = 0; e < k; ++e)
          for (int c = 0; c < 2; ++c) {
            double s_fs = 0, s_f = 0;
            long used = 0;
            const auto& field = (c == 0 ? f.g1 : f.g2)[std::size_t(e)];
            const auto& src = (c == 0 ? held_out.g1 : held_out.g2)[std::size_t(e)];
            for (long j = 0; j < held_out.size(); ++j) {
              const double var = b.variance(j, c, e);
              if (!f.valid[std::size_t(j)] || !std::isfinite(var)) continue;
              const double dlt = field[std::size_t(j)] - src[std::size_t(j)];
              s_fs += dlt * dlt;
              s_f += var;
              ++used;
            }
            require(used > 0, "source errors: no held-out source of field " + std::to_string(fi) +
                                  " lies where the field is valid at lambda " + std::to_string(so.lambda));
            const std::size_t id = std::size_t((l * k + e) * 2 + c);
            vfs[std::size_t(sp)][id] += s_fs / double(used) / double(fields.size());
            vf[std::size_t(sp)][id] += s_f / double(used) / double(fields.size());
          }
      }
    }
  }
  SourceErrors res;
  res.lambdas = o.lambdas;
  res.names = fields[0].names;
  res.field_source.resize(nstat);
  res.field.resize(nstat);
  res.source.resize(nstat);
  const double ns = double(o.nsplit);
  for (std::size_t id = 0; id < nstat; ++id) {
    double m_fs = 0, m_f = 0;
    for (int sp = 0; sp < o.nsplit; ++sp) m_fs += vfs[std::size_t(sp)][id] / ns, m_f += vf[std::size_t(sp)][id] / ns;
    auto spread = [&](auto one, double mean_sigma) {
      double q = 0;
      for (int sp = 0; sp < o.nsplit; ++sp) {
        const double d = one(sp) - mean_sigma;
        q += d * d;
      }
      return std::sqrt(q / (ns - 1));
    };
    const auto sq = [](double v) { return std::sqrt(std::max(0.0, v)); };
    const double s_fs = sq(m_fs), s_f = sq(m_f), s_s = sq(m_fs - m_f);
    res.field_source[id] = {s_fs, spread([&](int sp) { return sq(vfs[std::size_t(sp)][id]); }, s_fs)};
    res.field[id] = {s_f, spread([&](int sp) { return sq(vf[std::size_t(sp)][id]); }, s_f)};
    res.source[id] = {s_s, spread([&](int sp) { return sq(vfs[std::size_t(sp)][id] - vf[std::size_t(sp)][id]); }, s_s)};
  }
  return res;
}

}  // namespace ds::lens
