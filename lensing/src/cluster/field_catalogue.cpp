// Shear catalogues read for the maps journey (see field_catalogue.hpp).
#include "deepshear/lensing/cluster/field_catalogue.hpp"

#include <cmath>
#include <filesystem>

#include "deepshear/engine/error.hpp"
#include "deepshear/engine/fits.hpp"
#include "deepshear/lensing/shear_catalogue.hpp"

namespace ds::lens {

namespace {
constexpr double kArcsecPerDeg = 3600.0;

// Positions in arcsec (n sources) from RA/DEC about their mean (sets sky) or X/Y pixels.
void read_positions(const fits::FitsFile& f, double pixel_scale, std::vector<double>& x, std::vector<double>& y,
                    SkyReference& sky) {
  if (f.has_column("RA") && f.has_column("DEC")) {
    const auto ra = f.read_column("RA"), dec = f.read_column("DEC");
    double ra0 = 0, dec0 = 0;
    for (std::size_t i = 0; i < ra.size(); ++i) ra0 += ra_difference(ra[i], ra[0]), dec0 += dec[i];
    sky.ra_deg = ra[0] + ra0 / double(ra.size()), sky.dec_deg = dec0 / double(dec.size());
    sky.x_east = true, sky.present = true;
    x.resize(ra.size()), y.resize(ra.size());
    try {
      for (std::size_t i = 0; i < ra.size(); ++i) sky_offset(sky, ra[i], dec[i], x[i], y[i]);
    } catch (const Error& e) {
      throw Error(f.where() + ": " + e.what());
    }
  } else if (f.has_column("X") && f.has_column("Y")) {
    x = f.read_column("X"), y = f.read_column("Y");
    for (auto& v : x) v *= pixel_scale;
    for (auto& v : y) v *= pixel_scale;
  } else {
    throw Error(f.where() + ": no positions (columns RA and DEC, or X and Y)");
  }
}
}  // namespace

img::TanWcs tangent_plane(const SkyReference& sky) {
  const double d = 1.0 / kArcsecPerDeg;
  return img::TanWcs(1.0, 1.0, sky.ra_deg, sky.dec_deg, sky.x_east ? d : -d, 0.0, 0.0, d);
}

void sky_offset(const SkyReference& sky, double ra, double dec, double& x, double& y) {
  if (!std::isfinite(ra) || !std::isfinite(dec)) {
    x = y = std::nan("");
    return;
  }
  tangent_plane(sky).world_to_pixel(ra, dec, x, y);
}

double ra_difference(double ra, double ra0) {
  const double d = std::fmod(ra - ra0 + 180.0, 360.0);
  return (d < 0 ? d + 360.0 : d) - 180.0;
}

FieldCatalogue read_field_catalogue(const std::string& path, double pixel_scale) {
  fits::FitsFile f(path);
  f.hdu(1);
  FieldCatalogue c;
  c.path = path;
  c.name = std::filesystem::path(path).stem().string();
  std::vector<double> x, y;
  read_positions(f, pixel_scale, x, y, c.sky);
  const std::vector<std::string> names = catalogue::estimators_in(f);
  if (names.empty()) throw Error(f.where() + ": no estimator columns (G1_<EST> and G2_<EST>)");
  std::vector<catalogue::EstimatorColumns> cols;
  std::vector<bool> keep(x.size(), true);
  for (const auto& n : names) {
    cols.push_back(catalogue::read_columns(f, n));
    for (std::size_t i = 0; i < keep.size(); ++i) keep[i] = keep[i] && cols.back().flags[i] == 0;
  }
  SourceCatalogue& s = c.sources;
  s.names = names;
  s.g1.resize(names.size()), s.g2.resize(names.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    bool ok = keep[i] && std::isfinite(x[i]) && std::isfinite(y[i]);
    for (const auto& e : cols) ok = ok && std::isfinite(e.g1[i]) && std::isfinite(e.g2[i]);
    if (!ok) continue;
    s.x.push_back(x[i]), s.y.push_back(y[i]);
    for (std::size_t e = 0; e < names.size(); ++e) s.g1[e].push_back(cols[e].g1[i]), s.g2[e].push_back(cols[e].g2[i]);
  }
  if (s.x.size() < 10) throw Error(path + ": fewer than 10 usable sources");
  return c;
}

}  // namespace ds::lens
