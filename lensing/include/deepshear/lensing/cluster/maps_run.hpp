// The maps journey (paper sec. 6) as one library call: shear catalogues in, a typed
// report out: per field the smoothed shear maps with bootstrap errors, the
// Kaiser-Squires convergence, the tangential profile and an NFW fit of each estimator;
// over all fields the relative calibration of every estimator to a reference one and
// the per-source errors against the smoothing length. The report serialises itself
// (to_json) and gives the console lines (summary); maps_folder.hpp writes it out.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "deepshear/lensing/cluster/field_catalogue.hpp"
#include "deepshear/lensing/cluster/kaiser_squires.hpp"
#include "deepshear/lensing/cluster/maps.hpp"
#include "deepshear/lensing/cluster/nfw.hpp"
#include "deepshear/lensing/cluster/relative_calibration.hpp"
#include "deepshear/lensing/cluster/source_error.hpp"
#include "deepshear/lensing/cluster/tangential_profile.hpp"

namespace ds {
class Config;
}

namespace ds::lens {

// What the journey does (the keys of `deepshear maps`; the defaults are its defaults).
struct MapsConfig {
  double lambda = 19.5;                          // smoothing length of the maps [arcsec]
  std::vector<double> lambdas{10, 19.5, 30, 45};  // smoothing lengths of the per-source errors [arcsec]
  double step = 6.0;                             // map grid step [arcsec]
  int nboot = 100;                               // bootstrap resamplings
  int nsplit = 10;                               // random 50/50 splits of the per-source errors
  std::string reference = "rrg";                 // reference estimator of the relative calibration
  double pixel_scale = 0.065;                    // arcsec per pixel, for X/Y catalogues
  std::vector<double> centre;                    // {} (the field's mean position) or {x, y} [arcsec]
  std::vector<double> centre_radec;              // {} or {RA, Dec} [deg], for RA/DEC catalogues (overrides centre)
  double z_lens = 0;                             // > 0: fit an NFW M200 to the tangential profile
  double z_source = 1.0;                         // source redshift of the NFW fit
  double concentration = 0;                      // <= 0: Duffy et al. 2008 at each M200
  Cosmology cosmo;                               // of the NFW fit (omega_m, h0)
  std::uint64_t seed = 1;                        // of the bootstrap and splits

  // Throws ds::Error::usage naming the key at fault.
  void check() const;
  // The keys and values as `deepshear maps` records them ("omega_m", "h0" for cosmo).
  nlohmann::ordered_json to_json() const;
};

// One estimator's results on one field.
struct MapsEstimator {
  std::string name;
  ConvergenceMap kappa;        // of its smoothed shear map
  TangentialProfile profile;   // about the field's centre, in the field's radius bins
  std::optional<NfwFit> nfw;   // when z_lens > 0 and >= 2 bins qualify (fit_nfw_profile)
};

// One field's results.
struct MapsField {
  FieldCatalogue input;
  ShearMaps maps;
  double xc = 0, yc = 0;       // profile centre [arcsec] on the field's plane
  std::vector<double> edges;   // radius bins of the profiles [arcsec]
  std::vector<MapsEstimator> estimators;  // in the catalogue's order
};

// The relative calibration of one estimator to the reference over all fields.
struct MapsCalibration {
  std::string name;
  std::array<LineFit, 2> fit;  // per component
  PairedSamples samples_g1;    // the g1 samples of every field, pooled (for the picture)
};

struct MapsReport {
  MapsConfig config;
  std::vector<MapsField> fields;
  std::string reference;                    // lower case
  std::vector<MapsCalibration> calibrations;  // every estimator but the reference
  SourceErrors errors;

  // {"fields": [...], "relative_calibration": {...}, "source_errors": [...], "config": {...}},
  // numbers to the digits `deepshear maps` has always printed; NaN as null.
  nlohmann::ordered_json to_json() const;
  // The console lines: one per NFW fit.
  std::vector<std::string> summary() const;
};

// sigma_source at smoothing length l of estimator e: the mean of the two components'
// values, its error half their errors' quadrature sum.
Estimate mean_sigma_source(const SourceErrors& errors, int l, int e);

// The profile centre of a field [arcsec on its plane]: config.centre_radec projected on
// its tangent plane, else config.centre, else the sources' mean position.
std::array<double, 2> profile_centre(const FieldCatalogue& field, const MapsConfig& config);

// The lens of the NFW fits (z_lens, z_source, concentration, cosmo), when z_lens > 0.
std::optional<NfwLens> nfw_lens(const MapsConfig& config);

// One field's maps, convergence, profiles and NFW fits.
MapsField map_field(FieldCatalogue field, const MapsConfig& config);

// The journey over catalogues already in memory (>= 1; shows progress per field). Every
// field must hold the reference estimator: else an error naming the field's file and the
// missing columns (G1_<REF>, G2_<REF>), before any maps are made.
MapsReport run_maps(std::vector<FieldCatalogue> fields, const MapsConfig& config);

// The journey over catalogue files (read_field_catalogue with config.pixel_scale).
MapsReport run_maps(const std::vector<std::string>& catalogues, const MapsConfig& config);

// The command's parameters (keys, defaults, help, ranges) in cfg, and the
// MapsConfig they give (check() it before any work).
void add_maps_params(Config& cfg);
MapsConfig maps_config(const Config& cfg);

}  // namespace ds::lens
