// deepshear maps CATALOGUE... --out DIR: from shear catalogues to maps and
// statistics (paper sec. 6): smoothed shear fields with bootstrap errors,
// whisker and sigma maps, Kaiser-Squires convergence, the tangential profile
// (with an NFW fit when redshifts are given), the relative calibration of each
// estimator to a reference one, and per-source errors against lambda; one
// folder with FITS cubes, pictures, JSON and an index page.
#include <cmath>
#include <cstdio>
#include <algorithm>
#include <filesystem>

#include "cli.hpp"
#include "deepshear/engine/atomic_file.hpp"
#include "deepshear/engine/config.hpp"
#include "deepshear/engine/error.hpp"
#include "deepshear/engine/fits.hpp"
#include "deepshear/engine/log.hpp"
#include "deepshear/engine/plot.hpp"
#include "deepshear/engine/progress.hpp"
#include "deepshear/lensing/cluster/field.hpp"
#include "deepshear/lensing/cluster/kaiser_squires.hpp"
#include "deepshear/lensing/cluster/maps.hpp"
#include "deepshear/lensing/cluster/maps_fits.hpp"
#include "deepshear/lensing/cluster/nfw.hpp"
#include "deepshear/lensing/cluster/pictures.hpp"
#include "deepshear/lensing/cluster/relative_calibration.hpp"
#include "deepshear/lensing/cluster/source_error.hpp"
#include "deepshear/lensing/cluster/tangential_profile.hpp"

namespace {

using namespace ds;
using namespace ds::lens;

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// ra - ra0 in degrees, wrapped into [-180, 180).
double ra_difference(double ra, double ra0) {
  double d = std::fmod(ra - ra0 + 180.0, 360.0);
  return (d < 0 ? d + 360.0 : d) - 180.0;
}

// A shear catalogue: positions from RA/DEC (degrees; offsets in arcsec on the
// tangent plane about the catalogue's mean, x towards east) or X/Y (pixels,
// times pixel_scale), and every estimator with columns G1_<EST>, G2_<EST>
// (FLAGS_<EST> when present). Sources flagged by any estimator are dropped.
SourceCatalogue read_catalogue(const std::string& path, double pixel_scale, SkyReference* sky) {
  fits::FitsFile f(path);
  f.hdu(1);
  SourceCatalogue s;
  std::vector<double> x, y;
  if (f.has_column("RA") && f.has_column("DEC")) {
    auto ra = f.read_column("RA"), dec = f.read_column("DEC");
    // The mean RA about the first source's, so a field across RA = 0 is one field.
    double ra0 = 0, dec0 = 0;
    for (std::size_t i = 0; i < ra.size(); ++i) ra0 += ra_difference(ra[i], ra[0]), dec0 += dec[i];
    ra0 = ra[0] + ra0 / double(ra.size()), dec0 /= double(dec.size());
    for (std::size_t i = 0; i < ra.size(); ++i) {
      x.push_back(ra_difference(ra[i], ra0) * std::cos(dec0 * M_PI / 180) * 3600);
      y.push_back((dec[i] - dec0) * 3600);
    }
    if (sky) sky->ra_deg = ra0, sky->dec_deg = dec0, sky->x_east = true, sky->present = true;
  } else if (f.has_column("X") && f.has_column("Y")) {
    x = f.read_column("X"), y = f.read_column("Y");
    for (auto& v : x) v *= pixel_scale;
    for (auto& v : y) v *= pixel_scale;
  } else {
    throw Error(f.where() + ": no positions (columns RA and DEC, or X and Y)");
  }
  std::vector<std::string> names;
  for (const auto& c : f.columns()) {
    std::string n = lower(c.name);
    if (n.rfind("g1_", 0) == 0 && f.has_column("G2_" + c.name.substr(3))) names.push_back(n.substr(3));
  }
  if (names.empty()) throw Error(f.where() + ": no estimator columns (G1_<EST> and G2_<EST>)");
  std::vector<std::vector<double>> g1, g2;
  std::vector<bool> keep(x.size(), true);
  for (const auto& n : names) {
    g1.push_back(f.read_column("G1_" + n));
    g2.push_back(f.read_column("G2_" + n));
    if (f.has_column("FLAGS_" + n)) {
      auto fl = f.read_int_column("FLAGS_" + n);
      for (std::size_t i = 0; i < fl.size(); ++i) keep[i] = keep[i] && fl[i] == 0;
    }
  }
  s.names = names;
  s.g1.resize(names.size()), s.g2.resize(names.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    bool ok = keep[i] && std::isfinite(x[i]) && std::isfinite(y[i]);
    for (std::size_t e = 0; e < names.size(); ++e) ok = ok && std::isfinite(g1[e][i]) && std::isfinite(g2[e][i]);
    if (!ok) continue;
    s.x.push_back(x[i]), s.y.push_back(y[i]);
    for (std::size_t e = 0; e < names.size(); ++e) s.g1[e].push_back(g1[e][i]), s.g2[e].push_back(g2[e][i]);
  }
  if (s.x.size() < 10) throw Error(path + ": fewer than 10 usable sources");
  return s;
}

int run(int argc, char** argv) {
  Config cfg;
  cfg.add_double("lambda", 19.5, "smoothing length of the maps [arcsec]");
  cfg.add_doubles("lambdas", {10, 19.5, 30, 45}, "smoothing lengths of the per-source error analysis [arcsec]");
  cfg.add_double("step", 6.0, "map grid step [arcsec]");
  cfg.add_int("nboot", 100, "bootstrap resamplings");
  cfg.add_int("nsplit", 10, "random 50/50 splits of the per-source error analysis");
  cfg.add_string("reference", "rrg", "reference estimator of the relative calibration");
  cfg.add_double("pixel_scale", 0.065, "arcsec per pixel, for catalogues with X and Y in pixels");
  cfg.add_doubles("centre", {}, "x, y of the cluster centre [arcsec] ('' = the field's mean position)");
  cfg.add_doubles("centre_radec", {}, "RA, Dec of the cluster centre [deg], for RA/DEC catalogues (overrides centre)");
  cfg.add_double("z_lens", 0, "lens redshift (> 0: fit an NFW M200 to the tangential profile)");
  cfg.add_double("z_source", 1.0, "source redshift of the NFW fit");
  cfg.add_double("concentration", 0, "NFW concentration of the fit (<= 0: Duffy et al. 2008 at each M200)");
  cfg.add_double("omega_m", 0.27, "flat LambdaCDM Omega_m of the NFW fit (the paper's)");
  cfg.add_double("h0", 70, "Hubble constant of the NFW fit [km/s/Mpc]");
  cfg.add_string("out", "", "output folder (required)");
  cfg.add_int("seed", 1, "random seed of the bootstrap and splits");
  app::Args args("deepshear maps CATALOGUE.fits... --out DIR [--KEY=VALUE ...]",
                 "Maps and statistics from shear catalogues (FITS tables with RA/DEC or X/Y and G1_<EST>,\n"
                 "G2_<EST>, FLAGS_<EST> per estimator): smoothed shear maps with bootstrap errors (FITS cubes\n"
                 "with WCS, whisker and sigma pictures), Kaiser-Squires convergence, tangential profile and NFW\n"
                 "fit, relative calibration to the reference estimator over all fields, per-source errors\n"
                 "against lambda, and an index.html that shows them all.");
  args.positional("CATALOGUE", "shear catalogues, one per field", true, true);
  args.config(cfg);
  if (!args.parse(argc, argv)) return 0;
  const std::string out = cfg.get_string("out");
  if (out.empty()) throw Error::usage("maps: --out DIR is required");
  Cosmology cosmo;
  cosmo.omega_m = cfg.get_double("omega_m");
  cosmo.h0 = cfg.get_double("h0");
  if (!(cosmo.omega_m > 0 && cosmo.omega_m <= 1)) throw Error::usage("maps: --omega_m must be in (0, 1]");
  if (!(cosmo.h0 > 0)) throw Error::usage("maps: --h0 must be positive");
  std::filesystem::create_directories(out);
  const int nboot = int(cfg.get_int("nboot"));
  const std::uint64_t seed = std::uint64_t(cfg.get_int("seed"));
  SmoothingOptions smooth;
  smooth.lambda = cfg.get_double("lambda");

  std::vector<SourceCatalogue> fields;
  std::vector<std::string> field_names;
  std::string html = "<!DOCTYPE html><html><head><meta charset='utf-8'><title>deepshear maps</title></head><body>"
                     "<h1>deepshear maps</h1>";
  std::string json = "{\"fields\": [";
  Progress progress("maps", long(args.positionals().size()), "fields");
  for (std::size_t fi = 0; fi < args.positionals().size(); ++fi) {
    const std::string& path = args.positionals()[fi];
    SkyReference sky;
    SourceCatalogue src = read_catalogue(path, cfg.get_double("pixel_scale"), &sky);
    std::string stem = std::filesystem::path(path).stem().string();
    std::string base = out + "/" + stem;
    ShearMaps maps = shear_maps(src, cfg.get_double("step"), 2 * smooth.lambda, smooth, nboot, seed);
    write_maps_fits(maps, base + "_maps.fits", sky);
    plot_component_maps(maps, base + "_components.png");
    html += "<h2>" + stem + " (" + std::to_string(src.x.size()) + " sources)</h2><img src='" + stem +
            "_components.png' width='900'><br>";
    // Centre for the profile.
    auto c = cfg.get_doubles("centre");
    const auto radec = cfg.get_doubles("centre_radec");
    double xc = 0, yc = 0;
    if (!radec.empty()) {
      if (radec.size() != 2) throw Error::usage("maps: --centre_radec takes RA,DEC in degrees");
      if (!sky.present) throw Error(path + ": --centre_radec needs RA and DEC columns (this catalogue has X and Y)");
      xc = ra_difference(radec[0], sky.ra_deg) * std::cos(sky.dec_deg * M_PI / 180) * 3600;
      yc = (radec[1] - sky.dec_deg) * 3600;
    } else if (c.size() == 2) {
      xc = c[0], yc = c[1];
    } else {
      for (std::size_t i = 0; i < src.x.size(); ++i) xc += src.x[i], yc += src.y[i];
      xc /= double(src.x.size()), yc /= double(src.y.size());
    }
    double rmax = 0;
    for (std::size_t i = 0; i < src.x.size(); ++i) rmax = std::max(rmax, std::hypot(src.x[i] - xc, src.y[i] - yc));
    std::vector<double> edges;
    for (int b = 0; b <= 8; ++b) edges.push_back(10.0 * std::pow(rmax / 10.0, b / 8.0));
    json += std::string(fi ? ", " : "") + "{\"catalogue\": \"" + json_escape(path) + "\", \"sources\": " +
            std::to_string(src.x.size()) + ", \"estimators\": {";
    plot::Figure prof(720, 460);
    auto& pax = prof.axes();
    for (std::size_t e = 0; e < src.names.size(); ++e) {
      const std::string& n = src.names[e];
      plot_whisker_map(maps, int(e), base + "_whisker_" + n + ".png");
      auto kappa = convergence_map(maps, int(e));
      plot::Figure kf(640, 560);
      auto& kax = kf.axes();
      const auto& g = maps.grid;
      kax.image(kappa.kappa_e.view(), g.x0 - g.step / 2, g.x0 + g.step * (double(g.nx) - 0.5), g.y0 - g.step / 2,
                g.y0 + g.step * (double(g.ny) - 0.5), 0, 0, "kappa (E mode)");
      kax.equal_aspect();
      kax.title("Kaiser-Squires convergence, " + n);
      kax.xlabel("x [arcsec]");
      kax.ylabel("y [arcsec]");
      kf.save(base + "_kappa_" + n + ".png");
      {
        // The convergence as FITS (E and B modes), with a linear WCS in arcsec.
        fits::FitsWriter w(base + "_kappa_" + n + ".fits");
        for (int mode = 0; mode < 2; ++mode) {
          w.write_image(mode == 0 ? kappa.kappa_e : kappa.kappa_b, fits::PixelType::Float64,
                        mode == 0 ? "KAPPA_E" : "KAPPA_B");
          w.write_key("CTYPE1", "LINEAR"), w.write_key("CTYPE2", "LINEAR");
          w.write_key("CUNIT1", "arcsec"), w.write_key("CUNIT2", "arcsec");
          w.write_key("CRPIX1", 1.0), w.write_key("CRPIX2", 1.0);
          w.write_key("CRVAL1", g.x0), w.write_key("CRVAL2", g.y0);
          w.write_key("CDELT1", g.step), w.write_key("CDELT2", g.step);
          w.write_key("ESTIMATR", n, "shear estimator");
          w.write_key("LAMBDA", smooth.lambda, "smoothing length [arcsec]");
        }
        w.commit();
      }
      auto tp = tangential_profile(src.x, src.y, src.g1[e], src.g2[e], xc, yc, edges);
      pax.errorbars(tp.r_mean, tp.gt, tp.gt_err, n + " g_t", int(e));
      pax.errorbars(tp.r_mean, tp.gx, tp.gx_err, n + " g_x", int(e) + 4);
      std::string nfw = "null";
      if (cfg.get_double("z_lens") > 0) {
        auto lens = NfwLens::with_source_redshift(cfg.get_double("z_lens"), cfg.get_double("z_source"),
                                                  cfg.get_double("concentration"), cosmo);
        std::vector<double> th, gt, er;
        for (std::size_t b = 0; b < tp.gt.size(); ++b)
          if (tp.n[b] > 2 && std::isfinite(tp.gt_err[b]) && tp.gt_err[b] > 0)
            th.push_back(tp.r_mean[b]), gt.push_back(tp.gt[b]), er.push_back(tp.gt_err[b]);
        if (th.size() >= 2) {
          auto fit = fit_nfw_m200(lens, th, gt, er);
          char buf[256];
          std::snprintf(buf, sizeof buf, "{\"m200\": %.4g, \"m200_lo\": %.4g, \"m200_hi\": %.4g, \"bounded\": %s}",
                        fit.m200, fit.m200_lo, fit.m200_hi, fit.bounded ? "true" : "false");
          nfw = buf;
          std::snprintf(buf, sizeof buf, "%s: NFW M200 %s %.3g Msun [%.3g, %.3g] (c %s, sigma_t %.3f per source)",
                        stem.c_str(), n.c_str(), fit.m200, fit.m200_lo, fit.m200_hi,
                        cfg.get_double("concentration") > 0 ? json_number(cfg.get_double("concentration"), 3).c_str()
                                                            : "Duffy et al. 2008",
                        tp.sigma_t);
          info(buf);
        }
      }
      std::string gts;  // [r, g_t, err, g_x, err, n] per bin
      for (std::size_t b = 0; b < tp.gt.size(); ++b)
        gts += std::string(b ? ", " : "") + "[" + json_number(tp.r_mean[b], 4) + ", " + json_number(tp.gt[b], 5) +
               ", " + json_number(tp.gt_err[b], 3) + ", " + json_number(tp.gx[b], 5) + ", " +
               json_number(tp.gx_err[b], 3) + ", " + std::to_string(tp.n[b]) + "]";
      json += std::string(e ? ", " : "") + "\"" + n + "\": {\"tangential_profile\": [" + gts + "], \"nfw\": " + nfw + "}";
      html += "<img src='" + stem + "_whisker_" + n + ".png' width='440'><img src='" + stem + "_kappa_" + n +
              ".png' width='440'><br>";
    }
    json += "}}";
    pax.hline(0);
    pax.xlabel("radius [arcsec]");
    pax.ylabel("shear");
    pax.title("tangential (g_t) and cross (g_x) shear");
    prof.save(base + "_profile.png");
    html += "<img src='" + stem + "_profile.png' width='600'><br><p>Maps as FITS cubes with WCS: <a href='" + stem +
            "_maps.fits'>" + stem + "_maps.fits</a>; convergence: " + stem + "_kappa_&lt;estimator&gt;.fits</p>";
    fields.push_back(std::move(src));
    field_names.push_back(stem);
    progress.tick();
  }
  progress.finish();
  json += "], ";

  // Relative calibration of every estimator to the reference, over all fields.
  const std::string ref = lower(cfg.get_string("reference"));
  std::string rel;
  html += "<h2>Relative calibration to " + ref + " (all fields)</h2><p>y = c + (1 + m) x, errors from the likelihood curvature and [from a bootstrap over blocks]</p><table border='1' cellpadding='4'>"
          "<tr><th>estimator</th><th>c1</th><th>m1</th><th>c2</th><th>m2</th></tr>";
  // (errors: likelihood curvature, then [block bootstrap])
  bool has_ref = std::find(fields[0].names.begin(), fields[0].names.end(), ref) != fields[0].names.end();
  for (const auto& n : fields[0].names) {
    if (!has_ref || n == ref) continue;
    auto fit = relative_calibration(fields, ref, n, smooth, nboot, 0.1, seed);
    // Two kinds of errors: the likelihood's curvature (too small where sampled
    // points are correlated) and a bootstrap over blocks of the fields
    // (unstable with few, small fields); both are reported.
    auto one = [](const LineFit& f) {
      return "{\"c\": " + json_number(f.c, 5) + ", \"m\": " + json_number(f.m, 5) + ", \"c_err\": " +
             json_number(f.c_err, 3) + ", \"m_err\": " + json_number(f.m_err, 3) + ", \"c_err_blocks\": " +
             json_number(f.c_err_blocks, 3) + ", \"m_err_blocks\": " + json_number(f.m_err_blocks, 3) +
             ", \"samples\": " + std::to_string(f.n) + "}";
    };
    rel += (rel.empty() ? "\"" : ", \"") + n + "\": {\"g1\": " + one(fit[0]) + ", \"g2\": " + one(fit[1]) + "}";
    char buf[512];
    std::snprintf(buf, sizeof buf, "<tr><td>%s</td><td>%.4f &plusmn; %.4f [%.4f]</td><td>%.4f &plusmn; %.4f [%.4f]</td>"
                  "<td>%.4f &plusmn; %.4f [%.4f]</td><td>%.4f &plusmn; %.4f [%.4f]</td></tr>",
                  n.c_str(), fit[0].c, fit[0].c_err, fit[0].c_err_blocks, fit[0].m, fit[0].m_err, fit[0].m_err_blocks,
                  fit[1].c, fit[1].c_err, fit[1].c_err_blocks, fit[1].m, fit[1].m_err, fit[1].m_err_blocks);
    html += buf;
    PairedSamples all;
    for (std::size_t f = 0; f < fields.size(); ++f)
      all.append(sample_field_pairs(fields[f], ref, n, smooth, nboot, 0.1, seed, f)[0]);
    plot_calibration_samples(all, fit[0], out + "/calibration_" + n + "_g1.png", ref + " g1", n + " g1");
    html += "</table><img src='calibration_" + n + "_g1.png' width='600'><table border='1' cellpadding='4'>";
  }
  html += "</table>";
  json += "\"relative_calibration\": {" + rel + "}, ";

  // Per-source statistical errors against lambda (eqs. 21-23).
  SourceErrorOptions seo;
  seo.lambdas = cfg.get_doubles("lambdas");
  seo.nsplit = int(cfg.get_int("nsplit"));
  seo.nboot = nboot;
  seo.seed = seed;
  auto errs = source_errors(fields, seo);
  plot_sigma_vs_lambda(errs, out + "/sigma_vs_lambda.png");
  std::string se;
  html += "<h2>Per-source errors</h2><table border='1' cellpadding='4'><tr><th>lambda</th>";
  for (const auto& n : errs.names) html += "<th>sigma_source " + n + "</th>";
  html += "</tr>";
  for (std::size_t l = 0; l < errs.lambdas.size(); ++l) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "<tr><td>%.1f\"</td>", errs.lambdas[l]);
    html += buf;
    for (std::size_t e = 0; e < errs.names.size(); ++e) {
      // Mean of the two components.
      const auto& a = errs.sigma_source(int(l), int(e), 0);
      const auto& b = errs.sigma_source(int(l), int(e), 1);
      double v = 0.5 * (a.value + b.value), er = 0.5 * std::hypot(a.err, b.err);
      std::snprintf(buf, sizeof buf, "<td>%.4f &plusmn; %.4f</td>", v, er);
      html += buf;
      std::snprintf(buf, sizeof buf, "%s{\"lambda\": %.4g, \"estimator\": \"%s\", \"sigma_source\": %.5g, \"err\": %.3g}",
                    se.empty() ? "" : ", ", errs.lambdas[l], errs.names[e].c_str(), v, er);
      se += buf;
    }
    html += "</tr>";
  }
  html += "</table><img src='sigma_vs_lambda.png' width='700'>";
  json += "\"source_errors\": [" + se + "], \"config\": " + cfg.to_json() + "}\n";
  html += "</body></html>\n";
  write_text_atomic(out + "/maps.json", json);
  write_text_atomic(out + "/config.cfg", cfg.dump());
  write_text_atomic(out + "/index.html", html);
  info("maps written to " + out + "/ (index.html)");
  return 0;
}

app::Register reg("maps", "smoothed shear maps, convergence, profiles, calibration and errors from shear catalogues", run);

}  // namespace
