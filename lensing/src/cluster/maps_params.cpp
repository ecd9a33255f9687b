// The `maps` journey's parameters: declared once here for the command, the
// Python package and the C API (maps_run.hpp).
#include "deepshear/engine/config.hpp"
#include "deepshear/lensing/cluster/maps_run.hpp"

namespace ds::lens {

void add_maps_params(Config& cfg) {
  const MapsConfig d;
  cfg.add_double("lambda", d.lambda, "smoothing length of the maps [arcsec]");
  cfg.add_doubles("lambdas", d.lambdas, "smoothing lengths of the per-source error analysis [arcsec]");
  cfg.add_double("step", d.step, "map grid step [arcsec]");
  cfg.add_int("nboot", d.nboot, "bootstrap resamplings");
  cfg.add_int("nsplit", d.nsplit, "random 50/50 splits of the per-source error analysis");
  cfg.add_string("reference", d.reference, "reference estimator of the relative calibration");
  cfg.add_double("pixel_scale", d.pixel_scale, "arcsec per pixel, for catalogues with X and Y in pixels");
  cfg.add_doubles("centre", d.centre, "x, y of the cluster centre [arcsec] ('' = the field's mean position)");
  cfg.add_doubles("centre_radec", d.centre_radec,
                  "RA, Dec of the cluster centre [deg], for RA/DEC catalogues (overrides centre)");
  cfg.add_double("z_lens", d.z_lens, "lens redshift (> 0: fit an NFW M200 to the tangential profile)");
  cfg.add_double("z_source", d.z_source, "source redshift of the NFW fit");
  cfg.add_double("concentration", d.concentration,
                 "NFW concentration of the fit (<= 0: Duffy et al. 2008 at each M200)");
  cfg.add_double("omega_m", d.cosmo.omega_m, "flat LambdaCDM Omega_m of the NFW fit (the paper's)");
  cfg.add_double("h0", d.cosmo.h0, "Hubble constant of the NFW fit [km/s/Mpc]");
  cfg.add_string("out", "", "output folder (required)");
  cfg.add_int("seed", long(d.seed), "random seed of the bootstrap and splits");
  cfg.range("lambda", 1e-3, 1e6).range("lambdas", 1e-3, 1e6).range("step", 1e-3, 1e6).range("nboot", 1, 1e6);
  cfg.range("nsplit", 1, 1e6).range("pixel_scale", 1e-6, 1e3).range("z_lens", 0, 20).range("z_source", 0, 20);
  cfg.range("omega_m", 0, 1).range("h0", 1, 1000).range("seed", 0, 9.2e18);
}

MapsConfig maps_config(const Config& cfg) {
  MapsConfig c;
  c.lambda = cfg.get_double("lambda");
  c.lambdas = cfg.get_doubles("lambdas");
  c.step = cfg.get_double("step");
  c.nboot = int(cfg.get_int("nboot"));
  c.nsplit = int(cfg.get_int("nsplit"));
  c.reference = cfg.get_string("reference");
  c.pixel_scale = cfg.get_double("pixel_scale");
  c.centre = cfg.get_doubles("centre");
  c.centre_radec = cfg.get_doubles("centre_radec");
  c.z_lens = cfg.get_double("z_lens");
  c.z_source = cfg.get_double("z_source");
  c.concentration = cfg.get_double("concentration");
  c.cosmo.omega_m = cfg.get_double("omega_m");
  c.cosmo.h0 = cfg.get_double("h0");
  c.seed = std::uint64_t(cfg.get_int("seed"));
  return c;
}

}  // namespace ds::lens
