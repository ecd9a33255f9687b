// The maps report as a folder (see maps_folder.hpp).
#include "deepshear/lensing/cluster/maps_folder.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "deepshear/engine/atomic_file.hpp"
#include "deepshear/engine/provenance.hpp"
#include "deepshear/lensing/cluster/maps_fits.hpp"
#include "deepshear/lensing/cluster/pictures.hpp"

namespace ds::lens {

namespace {
// printf into a std::string.
template <class... A>
std::string format(const char* f, A... a) {
  char buf[1024];
  std::snprintf(buf, sizeof buf, f, a...);
  return buf;
}

// Text with <, >, & and quotes escaped for HTML.
std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) o += c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '&' ? "&amp;" : c == '\'' ? "&#39;" : std::string(1, c);
  return o;
}

// A picture with its caption.
std::string figure(const std::string& src, int width, const std::string& caption) {
  return "<figure><img src='" + esc(src) + "' width='" + std::to_string(width) + "'><figcaption>" + caption +
         "</figcaption></figure>";
}

MapMarks marks_of(const MapsField& f) { return {f.input.sky, f.xc, f.yc}; }

// Where the profile centre is: RA, Dec when the sky is known, and the plane offsets.
std::string centre_text(const MapsField& f) {
  std::string s = format("(x, y) = (%.1f\", %.1f\")", f.xc, f.yc);
  if (!f.input.sky.present) return s;
  double ra = 0, dec = 0;
  tangent_plane(f.input.sky).pixel_to_world(f.xc, f.yc, ra, dec);
  return format("RA %.5f, Dec %.5f deg, ", ra, dec) + s;
}

// The NFW model the fits assume, in words.
std::string nfw_model_text(const MapsConfig& c) {
  const std::string conc = c.concentration > 0 ? format("c = %.3g", c.concentration) : "c from Duffy et al. (2008)";
  return format("NFW halo at z = %.3g, sources at z = %.3g, ", c.z_lens, c.z_source) + conc +
         format(", flat LambdaCDM (Omega_m %.3g, H0 %.4g km/s/Mpc)", c.cosmo.omega_m, c.cosmo.h0);
}

// The fitted M200 of each estimator with its 68% interval, or why there is none.
std::string mass_html(const MapsField& f, const MapsConfig& c) {
  if (!(c.z_lens > 0)) return "<p>No NFW fit: give the lens redshift (--z-lens) to fit M200.</p>";
  std::string h = "<table border='1' cellpadding='4'><tr><th>estimator</th><th>M200 [Msun]</th>"
                  "<th>68% interval [Msun]</th><th>chi2 / dof</th></tr>";
  for (const auto& e : f.estimators) {
    if (!e.nfw) {
      h += "<tr><td>" + esc(e.name) + "</td><td colspan='3'>no fit (fewer than 2 usable radius bins)</td></tr>";
      continue;
    }
    const NfwFit& n = *e.nfw;
    h += format("<tr><td>%s</td><td>M200 = %.3g</td><td>[%.3g, %.3g]%s</td><td>%.2f / %d</td></tr>", esc(e.name).c_str(),
                n.m200, n.m200_lo, n.m200_hi, n.bounded ? "" : " (reaches the scanned range: unbounded)", n.chi2, n.dof);
  }
  return h + "</table><p>Fits of " + nfw_model_text(c) +
         " to g_t of the radius bins with more than 2 sources; the 68% interval is where chi2 = min + 1.</p>";
}

// Captions of a field's pictures, saying what each shows and how it was made.
std::string profile_caption(const MapsField& f) {
  return format("Tangential shear g_t (top) and cross shear g_x (bottom) of the sources in %zu log-spaced radius "
                "bins about the centre, %s. Errors: the per-source scatter pooled over all bins, divided by sqrt(n). Lines: "
                "the NFW fit of each estimator. g_x has no lensing signal and should scatter about 0.",
                f.edges.empty() ? size_t(0) : f.edges.size() - 1, centre_text(f).c_str());
}

std::string smoothing_text(const MapsField& f) {
  const ShearMaps& m = f.maps;
  return format("Gaussian smoothing of the source shears with lambda = %.1f\" on a %.1f\" grid; blank where fewer "
                "than %.3g effective sources. ",
                m.options.lambda, m.grid.step, m.options.min_neff) +
         (f.input.sky.present ? "East is to the left, north up; " : "Axes are the image's x and y; ") +
         "+ marks the profile centre.";
}

// One field's section of the index page.
std::string field_html(const MapsField& f, const MapsConfig& c) {
  const std::string stem = f.input.name;
  std::string h = "<h2>" + esc(stem) + " (" + std::to_string(f.input.sources.size()) + " sources)</h2>" +
                  "<p>Profile centre: " + centre_text(f) + ".</p><h3>Cluster mass</h3>" + mass_html(f, c);
  h += figure(stem + "_profile.png", 700, profile_caption(f));
  h += "<h3>Shear maps</h3>" +
       figure(stem + "_components.png", 1000,
              format("Smoothed shear g1, g2 (colour range shared by all estimators) and their errors from %d "
                     "bootstrap resamplings of the sources, one row per estimator. ",
                     f.maps.nboot) +
                  smoothing_text(f));
  for (const auto& e : f.estimators) {
    h += figure(stem + "_whisker_" + e.name + ".png", 460,
                esc(e.name) + ": whiskers of the smoothed shear, one every 12\", of length |g| (key stick in the "
                              "corner) along its position angle arg(g)/2. " + smoothing_text(f));
    h += figure(stem + "_kappa_" + e.name + ".png", 460,
                esc(e.name) + ": Kaiser-Squires (1993) convergence (E mode) of the smoothed shear map, masked "
                              "cells set to 0; the mean level is unknown (mass-sheet degeneracy). " +
                    smoothing_text(f));
  }
  return h + "<p>FITS with a celestial WCS (open them over the image in DS9): <a href='" + esc(stem) + "_maps.fits'>" +
         esc(stem) + "_maps.fits</a> (g1, g2, sigma per estimator; neff and mask), " + esc(stem) +
         "_kappa_&lt;estimator&gt;.fits (E and B modes).</p>";
}

// One row of the calibration table: c and m per component, curvature errors [block
// errors], and which components' m is unconstrained.
std::string calibration_row(const MapsCalibration& c) {
  std::string h = "<tr><td>" + esc(c.name) + "</td>", verdict;
  for (int k = 0; k < 2; ++k) {
    const LineFit& f = c.fit[std::size_t(k)];
    h += format("<td>%.4f &plusmn; %.4f [%.4f]</td><td>%.3f &plusmn; %.3f [%.3f]</td>", f.c, f.c_err, f.c_err_blocks,
                f.m, f.m_err, f.m_err_blocks);
    if (!(quoted_m_err(f) <= kUnconstrainedM)) verdict += (verdict.empty() ? "m" : ", m") + std::to_string(k + 1);
  }
  return h + "<td>" + (verdict.empty() ? "measured" : verdict + " unconstrained (error &gt; 50%)") + "</td></tr>";
}

// The relative-calibration table, its meaning and its pictures.
std::string calibration_html(const MapsReport& r) {
  std::string h = "<h2>Relative calibration to " + esc(r.reference) + " (all fields)</h2>";
  if (r.calibrations.empty()) return h + "<p>No other estimator to calibrate against " + esc(r.reference) + ".</p>";
  h += "<p>Each estimator's smoothed shear field (y) against the reference's (x) at random points (1/10 of the "
       "source density), fitted with y = c + (1 + m) x by an errors-in-variables likelihood that uses the bootstrap "
       "covariances. m is the estimator's multiplicative bias <em>relative to the reference</em>, not to the true "
       "shear: m = 0.05 means its shears are 5% larger than the reference's; c is an additive offset. Errors from "
       "the likelihood's curvature and [from a bootstrap over blocks of the fields, to be preferred: nearby points "
       "are correlated]. When the m error exceeds 50% the fields span too little shear against their noise and m "
       "says nothing.</p><table border='1' cellpadding='4'><tr><th>estimator</th><th>c1</th><th>m1</th><th>c2</th>"
       "<th>m2</th><th>verdict</th></tr>";
  for (const auto& c : r.calibrations) h += calibration_row(c);
  h += "</table>";
  for (const auto& c : r.calibrations)
    h += figure("calibration_" + c.name + "_g1.png", 760,
                esc(c.name) + " g1 against " + esc(r.reference) + " g1 at the sampled points with the fitted line "
                "and y = x.");
  return h;
}

// The per-source error table: sigma_source (mean of the components) per lambda and estimator.
std::string source_errors_html(const SourceErrors& errs) {
  std::string h = "<h2>Per-source errors</h2><table border='1' cellpadding='4'><tr><th>lambda</th>";
  for (const auto& n : errs.names) h += "<th>sigma_source " + esc(n) + "</th>";
  h += "</tr>";
  for (std::size_t l = 0; l < errs.lambdas.size(); ++l) {
    h += format("<tr><td>%.1f\"</td>", errs.lambdas[l]);
    for (std::size_t e = 0; e < errs.names.size(); ++e) {
      const Estimate s = mean_sigma_source(errs, int(l), int(e));
      h += format("<td>%.4f &plusmn; %.4f</td>", s.value, s.err);
    }
    h += "</tr>";
  }
  return h + "</table>" +
         figure("sigma_vs_lambda.png", 800,
                "The scatter between the smoothed fields of random halves of the sources (sigma field), between a "
                "field and the other half's sources (sigma field-source) and the per-source error they imply "
                "(sigma source), against the smoothing length (Springer et al. 2018, sec. 6.3).");
}

// One field's FITS files and pictures, named from base = out/NAME.
void write_field(const MapsField& f, const std::string& base, const MapsConfig& c) {
  const MapMarks marks = marks_of(f);
  write_maps_fits(f.maps, base + "_maps.fits", f.input.sky);
  plot_component_maps(f.maps, base + "_components.png", marks);
  std::vector<TangentialProfile> profiles;
  std::vector<std::optional<NfwFit>> fits;
  std::vector<std::string> names;
  for (std::size_t e = 0; e < f.estimators.size(); ++e) {
    const MapsEstimator& m = f.estimators[e];
    plot_whisker_map(f.maps, int(e), base + "_whisker_" + m.name + ".png", marks);
    plot_convergence_map(m.kappa, f.maps.grid, m.name, base + "_kappa_" + m.name + ".png", marks);
    write_convergence_fits(m.kappa, f.maps.grid, m.name, c.lambda, base + "_kappa_" + m.name + ".fits", f.input.sky);
    profiles.push_back(m.profile), fits.push_back(m.nfw), names.push_back(m.name);
  }
  plot_tangential_profiles(profiles, names, base + "_profile.png", fits, nfw_lens(c));
}
}  // namespace

std::string maps_index_html(const MapsReport& r) {
  std::string h = "<!DOCTYPE html><html><head><meta charset='utf-8'><title>deepshear maps</title>"
                  "<style>figure{display:inline-block;vertical-align:top;margin:6px}figcaption{max-width:"
                  "60em;font-size:90%}</style></head><body><h1>deepshear maps</h1>";
  for (const auto& f : r.fields) h += field_html(f, r.config);
  return h + calibration_html(r) + source_errors_html(r.errors) + "</body></html>\n";
}

void write_maps_folder(const MapsReport& r, const std::string& out) {
  std::filesystem::create_directories(out);
  for (const auto& f : r.fields) write_field(f, out + "/" + f.input.name, r.config);
  for (const auto& c : r.calibrations)
    plot_calibration_samples(c.samples_g1, c.fit[0], out + "/calibration_" + c.name + "_g1.png", r.reference + " g1",
                             c.name + " g1");
  plot_sigma_vs_lambda(r.errors, out + "/sigma_vs_lambda.png");
  auto json = r.to_json();
  json["config"]["out"] = out;
  write_text_atomic(out + "/maps.json", report_text(json));
  write_text_atomic(out + "/index.html", maps_index_html(r));
}

}  // namespace ds::lens
