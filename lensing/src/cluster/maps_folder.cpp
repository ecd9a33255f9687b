// The maps report as a folder (see maps_folder.hpp).
#include "deepshear/lensing/cluster/maps_folder.hpp"

#include <cstdio>
#include <filesystem>

#include "deepshear/engine/atomic_file.hpp"
#include "deepshear/lensing/cluster/maps_fits.hpp"
#include "deepshear/lensing/cluster/pictures.hpp"

namespace ds::lens {

namespace {
// One field's section of the index page.
std::string field_html(const MapsField& f) {
  const std::string& stem = f.input.name;
  std::string h = "<h2>" + stem + " (" + std::to_string(f.input.sources.size()) + " sources)</h2><img src='" + stem +
                  "_components.png' width='900'><br>";
  for (const auto& e : f.estimators)
    h += "<img src='" + stem + "_whisker_" + e.name + ".png' width='440'><img src='" + stem + "_kappa_" + e.name +
         ".png' width='440'><br>";
  return h + "<img src='" + stem + "_profile.png' width='600'><br><p>Maps as FITS cubes with WCS: <a href='" + stem +
         "_maps.fits'>" + stem + "_maps.fits</a>; convergence: " + stem + "_kappa_&lt;estimator&gt;.fits</p>";
}

// The relative-calibration table: c and m per component, curvature errors and [block errors].
std::string calibration_html(const MapsReport& r) {
  std::string h = "<h2>Relative calibration to " + r.reference +
                  " (all fields)</h2><p>y = c + (1 + m) x, errors from the likelihood curvature and [from a bootstrap "
                  "over blocks]</p><table border='1' cellpadding='4'>"
                  "<tr><th>estimator</th><th>c1</th><th>m1</th><th>c2</th><th>m2</th></tr>";
  for (const auto& c : r.calibrations) {
    const auto& f = c.fit;
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "<tr><td>%s</td><td>%.4f &plusmn; %.4f [%.4f]</td><td>%.4f &plusmn; %.4f [%.4f]</td>"
                  "<td>%.4f &plusmn; %.4f [%.4f]</td><td>%.4f &plusmn; %.4f [%.4f]</td></tr>",
                  c.name.c_str(), f[0].c, f[0].c_err, f[0].c_err_blocks, f[0].m, f[0].m_err, f[0].m_err_blocks,
                  f[1].c, f[1].c_err, f[1].c_err_blocks, f[1].m, f[1].m_err, f[1].m_err_blocks);
    h += buf;
    h += "</table><img src='calibration_" + c.name + "_g1.png' width='600'><table border='1' cellpadding='4'>";
  }
  return h + "</table>";
}

// The per-source error table: sigma_source (mean of the components) per lambda and estimator.
std::string source_errors_html(const SourceErrors& errs) {
  std::string h = "<h2>Per-source errors</h2><table border='1' cellpadding='4'><tr><th>lambda</th>";
  for (const auto& n : errs.names) h += "<th>sigma_source " + n + "</th>";
  h += "</tr>";
  for (std::size_t l = 0; l < errs.lambdas.size(); ++l) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "<tr><td>%.1f\"</td>", errs.lambdas[l]);
    h += buf;
    for (std::size_t e = 0; e < errs.names.size(); ++e) {
      const Estimate s = mean_sigma_source(errs, int(l), int(e));
      std::snprintf(buf, sizeof buf, "<td>%.4f &plusmn; %.4f</td>", s.value, s.err);
      h += buf;
    }
    h += "</tr>";
  }
  return h + "</table><img src='sigma_vs_lambda.png' width='700'>";
}

// One field's FITS files and pictures, named from base = out/NAME.
void write_field(const MapsField& f, const std::string& base, double lambda) {
  write_maps_fits(f.maps, base + "_maps.fits", f.input.sky);
  plot_component_maps(f.maps, base + "_components.png");
  std::vector<TangentialProfile> profiles;
  std::vector<std::string> names;
  for (std::size_t e = 0; e < f.estimators.size(); ++e) {
    const MapsEstimator& m = f.estimators[e];
    plot_whisker_map(f.maps, int(e), base + "_whisker_" + m.name + ".png");
    plot_convergence_map(m.kappa, f.maps.grid, m.name, base + "_kappa_" + m.name + ".png");
    write_convergence_fits(m.kappa, f.maps.grid, m.name, lambda, base + "_kappa_" + m.name + ".fits");
    profiles.push_back(m.profile), names.push_back(m.name);
  }
  plot_tangential_profiles(profiles, names, base + "_profile.png");
}
}  // namespace

std::string maps_index_html(const MapsReport& r) {
  std::string h = "<!DOCTYPE html><html><head><meta charset='utf-8'><title>deepshear maps</title></head><body>"
                  "<h1>deepshear maps</h1>";
  for (const auto& f : r.fields) h += field_html(f);
  return h + calibration_html(r) + source_errors_html(r.errors) + "</body></html>\n";
}

void write_maps_folder(const MapsReport& r, const std::string& out) {
  std::filesystem::create_directories(out);
  for (const auto& f : r.fields) write_field(f, out + "/" + f.input.name, r.config.lambda);
  for (const auto& c : r.calibrations)
    plot_calibration_samples(c.samples_g1, c.fit[0], out + "/calibration_" + c.name + "_g1.png", r.reference + " g1",
                             c.name + " g1");
  plot_sigma_vs_lambda(r.errors, out + "/sigma_vs_lambda.png");
  auto json = r.to_json();
  json["config"]["out"] = out;
  write_text_atomic(out + "/maps.json", json.dump(2) + "\n");
  write_text_atomic(out + "/index.html", maps_index_html(r));
}

}  // namespace ds::lens
