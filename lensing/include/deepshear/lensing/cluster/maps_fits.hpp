// FITS output of gridded shear maps, with a WCS so the maps open in DS9.
#pragma once
#include <string>

#include "deepshear/engine/fits.hpp"
#include "deepshear/lensing/cluster/kaiser_squires.hpp"
#include "deepshear/lensing/cluster/maps.hpp"

namespace ds::lens {

// Where the sky-plane coordinates sit on the sky: (x, y) = (0, 0) arcsec is at
// (ra_deg, dec_deg); x grows towards east (increasing RA) if x_east, else towards west;
// y grows towards north.
struct SkyReference {
  double ra_deg = 0, dec_deg = 0;
  bool x_east = true;
  bool present = false;
};

// Every map HDU has the same WCS (write_map_wcs) and BUNIT ' ' (dimensionless; the
// comment says what the numbers are).
//
// Writes one float32 cube HDU per estimator (EXTNAME = its name; planes g1, g2,
// sigma_g1, sigma_g2, named in PLANE1..PLANE4) after a primary HDU "NEFF" (effective
// sources, with the mask in a second plane). Every HDU carries LAMBDA (arcsec) and MINNEFF.
void write_maps_fits(const ShearMaps& maps, const std::string& path, const SkyReference& sky = {});

// Whether the FITS images of a map run against the grid's x (pixel 1 = the last grid
// column): when the sky is known and x grows east, so that east is to the left.
bool fits_flips_x(const SkyReference& sky);

// The WCS of a map on grid `g` on the current HDU. Sky known: a gnomonic one (RA---TAN /
// DEC--TAN, CRVAL = the sky reference, CDELT1 = -step / 3600 deg so east is left, CDELT2 =
// +step / 3600, CUNIT deg, RADESYS ICRS, EQUINOX 2000), DS9 overlays it on the image.
// Else a linear one in arcsec offsets on the image plane (CTYPE 'OFFSET-X' / 'OFFSET-Y').
// CRPIX (1-based) is the pixel of (x, y) = (0, 0) arcsec either way.
void write_map_wcs(fits::FitsWriter& w, const Grid& g, const SkyReference& sky);

// Writes a convergence map as two float32 images (ny, nx), KAPPA_E and KAPPA_B, each with
// write_map_wcs's WCS, ESTIMATR = `estimator` and LAMBDA = `lambda` (arcsec).
void write_convergence_fits(const ConvergenceMap& kappa, const Grid& grid, const std::string& estimator,
                            double lambda, const std::string& path, const SkyReference& sky = {});

}  // namespace ds::lens
