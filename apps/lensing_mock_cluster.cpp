// deepshear mock-cluster -o DIR: a synthetic HST-like cluster field (issue #7):
// training-population galaxies lensed by an NFW halo, stars, foreground
// galaxies and correlated noise; writes mock_sci.fits, mock_wht.fits,
// mock_truth.fits and mock_cluster.json (lensing/cluster/mock_cluster.hpp).
#include <cstdio>
#include <string>
#include <tuple>

#include "cli.hpp"
#include "deepshear/engine/error.hpp"
#include "deepshear/engine/log.hpp"
#include "deepshear/engine/progress.hpp"
#include "deepshear/lensing/cluster/mock_cluster.hpp"

namespace {

using namespace ds;

// "DX,DY" -> two numbers; a usage error names the option.
void parse_pair(const std::string& v, const std::string& option, double& a, double& b) {
  char* end = nullptr;
  a = std::strtod(v.c_str(), &end);
  if (end == v.c_str() || *end != ',') throw Error::usage("option " + option + ": '" + v + "' is not DX,DY");
  const char* second = end + 1;
  b = std::strtod(second, &end);
  if (end == second || *end) throw Error::usage("option " + option + ": '" + v + "' is not DX,DY");
}

// v as the help text shows a default ("%g").
std::string text(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", v);
  return std::string(buf);
}

// The options, with MockClusterConfig's defaults.
void declare(app::Args& args) {
  const lens::MockClusterConfig d;
  args.option("--output", "DIR", "output folder (required)");
  args.alias("-o", "--output");
  args.option("--size", "ARCSEC", "field side (square)", text(d.size));
  args.option("--pixel-scale", "ARCSEC", "arcsec per pixel", text(d.pixel_scale));
  args.option("--density", "N", "lensed background galaxies per arcmin^2", text(d.density));
  args.option("--m200", "MSUN", "NFW M200c", text(d.m200));
  args.option("--concentration", "C", "NFW c200 (<= 0: Duffy et al. 2008)", text(d.concentration));
  args.option("--z-lens", "Z", "lens redshift", text(d.z_lens));
  args.option("--z-source", "Z", "redshift of all background sources", text(d.z_source));
  args.option("--omega-m", "OM", "flat LambdaCDM Omega_m", text(d.cosmo.omega_m));
  args.option("--h0", "H0", "Hubble constant [km/s/Mpc]", text(d.cosmo.h0));
  args.option("--centre", "DX,DY", "cluster centre relative to the field centre [arcsec, image x, y]", "0,0");
  args.option("--stars", "N", "number of stars (magnitudes 18-23)", std::to_string(d.stars));
  args.option("--foreground", "N", "number of unlensed foreground galaxies (magnitudes 18-21)",
              std::to_string(d.foreground));
  args.option("--psf-fwhm", "ARCSEC", "Gaussian PSF FWHM", text(d.psf_fwhm));
  args.option("--noise-kernel", "FILE", "7x7 noise kernel (.fits or text; default: the shipped kernel)");
  args.option("--noise-scale", "F", "noise kernel scale (0: noiseless)", text(d.noise_scale));
  args.option("--seed", "N", "random seed", std::to_string(d.seed));
  args.option("--min-separation", "ARCSEC", "minimum distance between sources", text(d.min_separation));
  for (const auto& [name, lo, hi] : {std::tuple{"--size", 1.0, 1e5}, {"--pixel-scale", 1e-4, 100.0},
                                     {"--density", 0.0, 1e4}, {"--m200", 1e8, 1e17}, {"--z-lens", 1e-4, 20.0},
                                     {"--z-source", 1e-4, 20.0}, {"--omega-m", 0.0, 1.0}, {"--h0", 1.0, 1000.0},
                                     {"--stars", 0.0, 1e6}, {"--psf-fwhm", 1e-4, 100.0}, {"--noise-scale", 0.0, 1e6},
                                     {"--seed", 0.0, 9.2e18}, {"--min-separation", 0.0, 1e4}})
    args.range(name, lo, hi);
  args.option("--margin", "ARCSEC", "minimum distance of sources from the field edges", text(d.margin));
  args.option("--max-shear", "G", "no background galaxies where g_t >= G (the strong-lensing core)",
              text(d.max_shear));
  args.option("--mask-corner", "ARCSEC", "zero-weight square of this side at the (x max, y max) corner (0: off)",
              text(d.mask_corner));
  args.option("--ra", "DEG", "RA of the field centre", text(d.ra));
  args.option("--dec", "DEG", "Dec of the field centre", text(d.dec));
}

// The configuration the options give, checked (usage errors name the option).
lens::MockClusterConfig config_from(const app::Args& args) {
  lens::MockClusterConfig c;
  c.size = args.get_double("--size");
  c.pixel_scale = args.get_double("--pixel-scale");
  c.density = args.get_double("--density");
  c.m200 = args.get_double("--m200");
  c.concentration = args.get_double("--concentration");
  c.z_lens = args.get_double("--z-lens");
  c.z_source = args.get_double("--z-source");
  c.cosmo.omega_m = args.get_double("--omega-m");
  c.cosmo.h0 = args.get_double("--h0");
  if (!(c.cosmo.omega_m > 0 && c.cosmo.omega_m <= 1))
    throw Error::usage("mock-cluster: --omega-m " + args.get("--omega-m") + " must be in (0, 1]");
  if (!(c.cosmo.h0 > 0)) throw Error::usage("mock-cluster: --h0 " + args.get("--h0") + " must be positive");
  parse_pair(args.get("--centre"), "--centre", c.centre_dx, c.centre_dy);
  c.stars = args.get_int("--stars");
  c.foreground = args.get_int("--foreground");
  c.psf_fwhm = args.get_double("--psf-fwhm");
  c.noise_kernel = args.get("--noise-kernel");
  c.noise_scale = args.get_double("--noise-scale");
  const long seed = args.get_int("--seed");
  if (seed < 0) throw Error::usage("mock-cluster: --seed " + args.get("--seed") + " must be >= 0");
  c.seed = std::uint64_t(seed);
  c.min_separation = args.get_double("--min-separation");
  c.margin = args.get_double("--margin");
  c.max_shear = args.get_double("--max-shear");
  c.mask_corner = args.get_double("--mask-corner");
  c.ra = args.get_double("--ra");
  c.dec = args.get_double("--dec");
  lens::check_mock_cluster_config(c);

  return c;
}

int run(int argc, char** argv) {
  app::Args args("deepshear mock-cluster -o DIR [options]",
                 "A synthetic HST-like cluster field: galaxies of the training population (same PSF, pixel\n"
                 "scale, flux units and noise kernel as the training stamps) lensed by an NFW halo (reduced\n"
                 "shear and magnification at their positions), stars, unlensed foreground galaxies and\n"
                 "correlated noise. Writes DIR/mock_sci.fits (image with TAN WCS), DIR/mock_wht.fits (inverse\n"
                 "variance), DIR/mock_truth.fits (table TRUTH) and DIR/mock_cluster.json (summary).");
  declare(args);
  if (!args.parse(argc, argv)) return 0;
  if (!args.has("--output")) throw Error::usage("mock-cluster: -o DIR is required");
  const lens::MockClusterConfig c = config_from(args);
  const std::string out = args.get("--output");
  Progress progress("mock-cluster", lens::mock_cluster_sources(c), "sources");
  lens::MockCluster m = lens::make_mock_cluster(c, &progress);
  progress.finish();
  lens::write_mock_cluster(m, out);
  info("mock cluster written to " + out + "/: " + std::to_string(m.image.nx()) + "x" + std::to_string(m.image.ny()) +
       " px, " + std::to_string(m.count(lens::MockKind::Background)) + " lensed galaxies, " +
       std::to_string(m.count(lens::MockKind::Star)) + " stars, " +
       std::to_string(m.count(lens::MockKind::Foreground)) + " foreground galaxies; no background source within " +
       text(m.theta_min) + "\" of the centre (concentration " + text(m.concentration) + ")");
  return 0;
}

app::Register reg("mock-cluster", "a synthetic lensed cluster field (image, weights, WCS, truth) for the cluster pipeline",
                  run);

}  // namespace
