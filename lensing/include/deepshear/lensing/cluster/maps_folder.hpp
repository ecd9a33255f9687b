// The maps report as a folder: FITS cubes, pictures, maps.json and an index page.
#pragma once
#include <string>

#include "deepshear/lensing/cluster/maps_run.hpp"

namespace ds::lens {

// The index page: per field its component, whisker, convergence and profile pictures;
// the relative-calibration table and pictures; the per-source error table and picture.
std::string maps_index_html(const MapsReport& report);

// Writes into `out` (created if needed), per field NAME (the catalogue's stem):
// NAME_maps.fits (write_maps_fits, with the field's sky reference), NAME_components.png,
// and per estimator EST NAME_whisker_EST.png, NAME_kappa_EST.png and NAME_kappa_EST.fits
// (write_convergence_fits), NAME_profile.png; calibration_EST_g1.png per calibrated
// estimator, sigma_vs_lambda.png, maps.json (report.to_json() with "out" added to its
// config) and index.html.
void write_maps_folder(const MapsReport& report, const std::string& out);

}  // namespace ds::lens
