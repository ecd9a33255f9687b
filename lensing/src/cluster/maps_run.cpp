// The maps journey (see maps_run.hpp).
#include "deepshear/lensing/cluster/maps_run.hpp"

#include <algorithm>
#include <cmath>

#include "deepshear/engine/config.hpp"
#include "deepshear/engine/error.hpp"
#include "deepshear/engine/progress.hpp"
#include "deepshear/lensing/shear_catalogue.hpp"

namespace ds::lens {

namespace {
// The calibration samples are drawn at this fraction of the source density (sec. 6.2).
constexpr double kCalibrationFraction = 0.1;

SmoothingOptions smoothing(const MapsConfig& c) {
  SmoothingOptions o;
  o.lambda = c.lambda;
  return o;
}

std::vector<SourceCatalogue> sources_of(const std::vector<MapsField>& fields) {
  std::vector<SourceCatalogue> s;
  for (const auto& f : fields) s.push_back(f.input.sources);
  return s;
}

// Every estimator of the first field but the reference, calibrated to it over all fields.
std::vector<MapsCalibration> calibrate(const std::vector<MapsField>& fields, const std::string& ref,
                                       const MapsConfig& c) {
  const std::vector<SourceCatalogue> all = sources_of(fields);
  const auto& names = all[0].names;
  std::vector<MapsCalibration> out;
  const SmoothingOptions o = smoothing(c);
  for (const auto& n : names) {
    if (n == ref) continue;
    MapsCalibration m;
    m.name = n;
    m.fit = relative_calibration(all, ref, n, o, c.nboot, kCalibrationFraction, c.seed);
    for (std::size_t f = 0; f < all.size(); ++f)
      m.samples_g1.append(sample_field_pairs(all[f], ref, n, o, c.nboot, kCalibrationFraction, c.seed, f)[0]);
    out.push_back(std::move(m));
  }
  return out;
}

// Throws, naming the file and the missing columns, when a field lacks the reference estimator.
void check_reference(const std::vector<FieldCatalogue>& fields, const std::string& ref) {
  for (const auto& f : fields) {
    const auto& names = f.sources.names;
    if (std::find(names.begin(), names.end(), ref) != names.end()) continue;
    std::string have;
    for (const auto& n : names) have += (have.empty() ? "" : ", ") + n;
    throw Error("maps: --reference " + ref + ": " + (f.path.empty() ? f.name : f.path) + " has no columns " +
                catalogue::g1_column(ref) + " and " + catalogue::g2_column(ref) + " (its estimators: " + have + ")");
  }
}

SourceErrors per_source_errors(const std::vector<MapsField>& fields, const MapsConfig& c) {
  SourceErrorOptions o;
  o.lambdas = c.lambdas;
  o.nsplit = c.nsplit;
  o.nboot = c.nboot;
  o.seed = c.seed;
  return source_errors(sources_of(fields), o);
}
}  // namespace

void MapsConfig::check() const {
  if (!(cosmo.omega_m > 0 && cosmo.omega_m <= 1)) throw Error::usage("maps: --omega_m must be in (0, 1]");
  if (!(cosmo.h0 > 0)) throw Error::usage("maps: --h0 must be positive");
  if (!centre_radec.empty() && centre_radec.size() != 2)
    throw Error::usage("maps: --centre_radec takes RA,DEC in degrees");
  if (!centre.empty() && centre.size() != 2) throw Error::usage("maps: --centre takes X,Y in arcsec");
  if (!(lambda > 0) || !(step > 0)) throw Error::usage("maps: --lambda and --step must be positive");
  if (nboot < 1 || nsplit < 1) throw Error::usage("maps: --nboot and --nsplit must be at least 1");
}

Estimate mean_sigma_source(const SourceErrors& errors, int l, int e) {
  const Estimate& a = errors.sigma_source(l, e, 0);
  const Estimate& b = errors.sigma_source(l, e, 1);
  return {0.5 * (a.value + b.value), 0.5 * std::hypot(a.err, b.err)};
}

std::array<double, 2> profile_centre(const FieldCatalogue& field, const MapsConfig& c) {
  const SourceCatalogue& s = field.sources;
  if (c.centre_radec.size() == 2) {
    if (!field.sky.present)
      throw Error(field.path + ": --centre_radec needs RA and DEC columns (this catalogue has X and Y)");
    std::array<double, 2> xy{};
    sky_offset(field.sky, c.centre_radec[0], c.centre_radec[1], xy[0], xy[1]);
    return xy;
  }
  if (c.centre.size() == 2) return {c.centre[0], c.centre[1]};
  double xc = 0, yc = 0;
  for (std::size_t i = 0; i < s.x.size(); ++i) xc += s.x[i], yc += s.y[i];
  return {xc / double(s.x.size()), yc / double(s.y.size())};
}

std::optional<NfwLens> nfw_lens(const MapsConfig& c) {
  if (!(c.z_lens > 0)) return std::nullopt;
  return NfwLens::with_source_redshift(c.z_lens, c.z_source, c.concentration, c.cosmo);
}

MapsField map_field(FieldCatalogue field, const MapsConfig& c) {
  MapsField f;
  const auto centre = profile_centre(field, c);
  f.input = std::move(field);
  const SourceCatalogue& s = f.input.sources;
  const SmoothingOptions o = smoothing(c);
  f.maps = shear_maps(s, c.step, 2 * o.lambda, o, c.nboot, c.seed);
  f.xc = centre[0], f.yc = centre[1];
  f.edges = log_radius_edges(s.x, s.y, f.xc, f.yc);
  const std::optional<NfwLens> lens = nfw_lens(c);
  for (int e = 0; e < s.estimators(); ++e) {
    MapsEstimator m;
    m.name = s.names[std::size_t(e)];
    m.kappa = convergence_map(f.maps, e);
    m.profile = tangential_profile(s.x, s.y, s.g1[std::size_t(e)], s.g2[std::size_t(e)], f.xc, f.yc, f.edges);
    if (lens) m.nfw = fit_nfw_profile(*lens, m.profile);
    f.estimators.push_back(std::move(m));
  }
  return f;
}

MapsReport run_maps(std::vector<FieldCatalogue> fields, const MapsConfig& config) {
  config.check();
  require(!fields.empty(), "maps: no catalogue");
  MapsReport r;
  r.config = config;
  r.reference = to_lower(config.reference);
  check_reference(fields, r.reference);
  Progress progress("maps", long(fields.size()), "fields");
  for (auto& f : fields) {
    r.fields.push_back(map_field(std::move(f), config));
    progress.tick();
  }
  progress.finish();
  r.calibrations = calibrate(r.fields, r.reference, config);
  r.errors = per_source_errors(r.fields, config);
  return r;
}

MapsReport run_maps(const std::vector<std::string>& catalogues, const MapsConfig& config) {
  config.check();
  std::vector<FieldCatalogue> fields;
  for (const auto& path : catalogues) fields.push_back(read_field_catalogue(path, config.pixel_scale));
  return run_maps(std::move(fields), config);
}

}  // namespace ds::lens
