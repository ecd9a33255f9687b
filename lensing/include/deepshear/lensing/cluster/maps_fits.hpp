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

// Writes one float32 cube HDU per estimator (EXTNAME = its name; planes g1, g2,
// sigma_g1, sigma_g2, named in PLANE1..PLANE4) and an HDU "NEFF" (effective sources,
// with the mask in a second plane). The WCS is a gnomonic (RA---TAN/DEC--TAN) one when
// `sky` is present, else a linear one in arcsec offsets (CTYPE 'OFFSET-X'/'OFFSET-Y').
// Every HDU carries LAMBDA (arcsec) and MINNEFF.
void write_maps_fits(const ShearMaps& maps, const std::string& path, const SkyReference& sky = {});

// The linear WCS of a grid in arcsec offsets on the current HDU: CTYPE 'LINEAR', CUNIT
// arcsec, pixel 1 at (g.x0, g.y0), g.step arcsec per pixel.
void write_linear_wcs(fits::FitsWriter& w, const Grid& g);

// Writes a convergence map as two float64 images, KAPPA_E and KAPPA_B, each with the
// linear WCS of `grid`, ESTIMATR = `estimator` and LAMBDA = `lambda` (arcsec).
void write_convergence_fits(const ConvergenceMap& kappa, const Grid& grid, const std::string& estimator,
                            double lambda, const std::string& path);

}  // namespace ds::lens
