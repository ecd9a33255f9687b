// A shear catalogue read for the maps journey: the sources' positions on the sky
// plane (arcsec) and every estimator's shears, and where that plane sits on the sky.
// Estimator columns are read through the shear-catalogue schema (shear_catalogue.hpp).
#pragma once
#include <string>

#include "deepshear/imaging/wcs.hpp"
#include "deepshear/lensing/cluster/field.hpp"
#include "deepshear/lensing/cluster/maps_fits.hpp"

namespace ds::lens {

// One field's catalogue: `sources` in arcsec on the plane that `sky` places on the sky
// (sky.present is false for catalogues in image pixels).
struct FieldCatalogue {
  std::string path;  // where it was read from ("" when built in memory)
  std::string name;  // the file's stem: names the field's outputs
  SourceCatalogue sources;
  SkyReference sky;
};

// The gnomonic (TAN) projection about (sky.ra_deg, sky.dec_deg) onto the plane in
// arcsec: 0-based "pixel" (x, y) = offsets (xi, eta) * 3600, x towards east when
// sky.x_east (else west), y towards north.
img::TanWcs tangent_plane(const SkyReference& sky);

// (ra, dec) [deg] -> (x, y) [arcsec] on sky's tangent plane (safe across RA = 0).
void sky_offset(const SkyReference& sky, double ra, double dec, double& x, double& y);

// ra - ra0 in degrees, wrapped into [-180, 180).
double ra_difference(double ra, double ra0);

// Reads the first table HDU of `path`. Positions: RA/DEC (degrees), projected on the
// tangent plane about the sources' mean position (the mean RA taken about the first
// source's, so a field across RA = 0 is one field; sky.present, x east), or X/Y
// (pixels, times pixel_scale arcsec; no sky). Every estimator with G1_<EST> and
// G2_<EST> columns; sources flagged (FLAGS_<EST> != 0) by any estimator, or with a
// non-finite position or shear, are dropped. Errors name the file: no positions, no
// estimator columns, fewer than 10 usable sources.
FieldCatalogue read_field_catalogue(const std::string& path, double pixel_scale);

}  // namespace ds::lens
