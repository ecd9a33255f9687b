// The maps report as JSON and console lines (see maps_run.hpp).
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "deepshear/engine/config.hpp"
#include "deepshear/lensing/cluster/maps_run.hpp"

namespace ds::lens {

namespace {
using Json = nlohmann::ordered_json;

// v to `digits` significant digits (as %.*g prints it, read back); null when not finite.
Json printed(double v, int digits) {
  if (!std::isfinite(v)) return nullptr;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return std::strtod(buf, nullptr);
}

// [[r, g_t, err, g_x, err, n] per bin].
Json profile_json(const TangentialProfile& p) {
  Json bins = Json::array();
  for (std::size_t b = 0; b < p.gt.size(); ++b)
    bins.push_back(Json::array({printed(p.r_mean[b], 4), printed(p.gt[b], 5), printed(p.gt_err[b], 3),
                                printed(p.gx[b], 5), printed(p.gx_err[b], 3), p.n[b]}));
  return bins;
}

Json nfw_json(const std::optional<NfwFit>& fit) {
  if (!fit) return nullptr;
  return Json{{"m200", printed(fit->m200, 4)},
              {"m200_lo", printed(fit->m200_lo, 4)},
              {"m200_hi", printed(fit->m200_hi, 4)},
              {"bounded", fit->bounded}};
}

Json field_json(const MapsField& f) {
  Json est = Json::object();
  for (const auto& e : f.estimators)
    est[e.name] = Json{{"tangential_profile", profile_json(e.profile)}, {"nfw", nfw_json(e.nfw)}};
  return Json{{"catalogue", f.input.path}, {"sources", f.input.sources.size()}, {"estimators", est}};
}

// Both kinds of errors: the likelihood's curvature (too small where sampled points are
// correlated) and a bootstrap over blocks of the fields (unstable with few, small fields).
Json line_json(const LineFit& f) {
  return Json{{"c", printed(f.c, 5)},
              {"m", printed(f.m, 5)},
              {"c_err", printed(f.c_err, 3)},
              {"m_err", printed(f.m_err, 3)},
              {"c_err_blocks", printed(f.c_err_blocks, 3)},
              {"m_err_blocks", printed(f.m_err_blocks, 3)},
              {"samples", f.n}};
}

Json source_errors_json(const SourceErrors& errs) {
  Json out = Json::array();
  for (std::size_t l = 0; l < errs.lambdas.size(); ++l)
    for (std::size_t e = 0; e < errs.names.size(); ++e) {
      const Estimate s = mean_sigma_source(errs, int(l), int(e));
      out.push_back(Json{{"lambda", printed(errs.lambdas[l], 4)},
                         {"estimator", errs.names[e]},
                         {"sigma_source", printed(s.value, 5)},
                         {"err", printed(s.err, 3)}});
    }
  return out;
}
}  // namespace

nlohmann::ordered_json MapsConfig::to_json() const {
  return Json{{"lambda", lambda},   {"lambdas", lambdas},       {"step", step},
              {"nboot", nboot},     {"nsplit", nsplit},         {"reference", reference},
              {"pixel_scale", pixel_scale}, {"centre", centre}, {"centre_radec", centre_radec},
              {"z_lens", z_lens},   {"z_source", z_source},     {"concentration", concentration},
              {"omega_m", cosmo.omega_m}, {"h0", cosmo.h0},     {"seed", seed}};
}

nlohmann::ordered_json MapsReport::to_json() const {
  Json j;
  j["fields"] = Json::array();
  for (const auto& f : fields) j["fields"].push_back(field_json(f));
  j["relative_calibration"] = Json::object();
  for (const auto& c : calibrations)
    j["relative_calibration"][c.name] = Json{{"g1", line_json(c.fit[0])}, {"g2", line_json(c.fit[1])}};
  j["source_errors"] = source_errors_json(errors);
  j["config"] = config.to_json();
  return j;
}

std::vector<std::string> MapsReport::summary() const {
  std::vector<std::string> lines;
  const std::string c = config.concentration > 0 ? json_number(config.concentration, 3) : "Duffy et al. 2008";
  for (const auto& f : fields)
    for (const auto& e : f.estimators) {
      if (!e.nfw) continue;
      char buf[256];
      std::snprintf(buf, sizeof buf, "%s: NFW M200 %s %.3g Msun [%.3g, %.3g] (c %s, sigma_t %.3f per source)",
                    f.input.name.c_str(), e.name.c_str(), e.nfw->m200, e.nfw->m200_lo, e.nfw->m200_hi, c.c_str(),
                    e.profile.sigma_t);
      lines.push_back(buf);
    }
  return lines;
}

}  // namespace ds::lens
