// FITS output of shear maps (see maps_fits.hpp).
#include "deepshear/lensing/cluster/maps_fits.hpp"

#include "deepshear/engine/fits.hpp"
#include "deepshear/engine/tensor.hpp"

namespace ds::lens {

using fits::FitsWriter;
using fits::PixelType;

namespace {
constexpr double kArcsecPerDeg = 3600.0;
constexpr const char* kDimensionless = " ";  // BUNIT of a pure number (FITS has no unit string for it)

// planes: k images (ny, nx) [y][x] on the grid -> a (k, ny, nx) float32 cube in FITS
// order: reversed in x when flip_x (so pixel 1 is the grid's last column).
Tensor fits_cube(const std::vector<const Image<double>*>& planes, bool flip_x) {
  const long k = long(planes.size()), ny = planes[0]->ny(), nx = planes[0]->nx();
  Tensor c({k, ny, nx});
  for (long p = 0; p < k; ++p)
    for (long iy = 0; iy < ny; ++iy)
      for (long ix = 0; ix < nx; ++ix)
        c.data()[(p * ny + iy) * nx + ix] = float((*planes[std::size_t(p)])(iy, flip_x ? nx - 1 - ix : ix));
  return c;
}
}  // namespace

bool fits_flips_x(const SkyReference& sky) { return sky.present && sky.x_east; }

void write_map_wcs(FitsWriter& w, const Grid& g, const SkyReference& sky) {
  // Grid point ix is FITS pixel ix + 1 (or nx - ix when flipped); (x, y) = (0, 0) arcsec is
  // the reference pixel.
  const double crpix1 = fits_flips_x(sky) ? double(g.nx) + g.x0 / g.step : 1.0 - g.x0 / g.step;
  w.write_key("CRPIX1", crpix1, "pixel (1-based) of x = y = 0 on the sky plane");
  w.write_key("CRPIX2", 1.0 - g.y0 / g.step, "pixel (1-based) of x = y = 0 on the sky plane");
  if (!sky.present) {
    w.write_key("CTYPE1", "OFFSET-X", "linear offset on the image plane, no sky position");
    w.write_key("CTYPE2", "OFFSET-Y", "linear offset on the image plane, no sky position");
    w.write_key("CRVAL1", 0.0, "x at the reference pixel [arcsec]");
    w.write_key("CRVAL2", 0.0, "y at the reference pixel [arcsec]");
    w.write_key("CDELT1", g.step, "[arcsec / pixel]");
    w.write_key("CDELT2", g.step, "[arcsec / pixel]");
    w.write_key("CUNIT1", "arcsec"), w.write_key("CUNIT2", "arcsec");
    return;
  }
  w.write_key("CTYPE1", "RA---TAN", "gnomonic projection");
  w.write_key("CTYPE2", "DEC--TAN", "gnomonic projection");
  w.write_key("CRVAL1", sky.ra_deg, "RA at the reference pixel CRPIX1/2 [deg]");
  w.write_key("CRVAL2", sky.dec_deg, "Dec at the reference pixel CRPIX1/2 [deg]");
  w.write_key("CDELT1", -g.step / kArcsecPerDeg, "[deg / pixel], negative: east to the left");
  w.write_key("CDELT2", g.step / kArcsecPerDeg, "[deg / pixel], north up");
  w.write_key("CUNIT1", "deg"), w.write_key("CUNIT2", "deg");
  w.write_key("RADESYS", "ICRS", "reference frame of RA and Dec");
  w.write_key("EQUINOX", 2000.0, "[yr]");
}

void write_maps_fits(const ShearMaps& m, const std::string& path, const SkyReference& sky) {
  const bool flip = fits_flips_x(sky);
  FitsWriter w(path);
  w.write_cube(fits_cube({&m.neff, &m.mask}, flip), PixelType::Float32, "NEFF");
  write_map_wcs(w, m.grid, sky);
  w.write_key("BUNIT", kDimensionless, "dimensionless: source count and 0/1 mask");
  w.write_key("PLANE1", "neff", "effective number of sources under the kernel");
  w.write_key("PLANE2", "mask", "1 where neff >= MINNEFF, else 0");
  w.write_key("LAMBDA", m.options.lambda, "Gaussian smoothing length [arcsec]");
  w.write_key("MINNEFF", m.options.min_neff, "points with fewer effective sources are NaN");
  for (std::size_t e = 0; e < m.names.size(); ++e) {
    w.write_cube(fits_cube({&m.g1[e], &m.g2[e], &m.sigma1[e], &m.sigma2[e]}, flip), PixelType::Float32, m.names[e]);
    write_map_wcs(w, m.grid, sky);
    w.write_key("BUNIT", kDimensionless, "dimensionless: reduced shear and its error");
    w.write_key("PLANE1", "g1", "smoothed reduced shear, + along the x axis");
    w.write_key("PLANE2", "g2", "smoothed reduced shear, + along x = y");
    w.write_key("PLANE3", "sigma_g1", "bootstrap error of g1");
    w.write_key("PLANE4", "sigma_g2", "bootstrap error of g2");
    w.write_key("LAMBDA", m.options.lambda, "Gaussian smoothing length [arcsec]");
    w.write_key("MINNEFF", m.options.min_neff, "points with fewer effective sources are NaN");
    w.write_key("NBOOT", m.nboot, "bootstrap resamplings behind the sigma planes");
  }
  w.commit();
}

void write_convergence_fits(const ConvergenceMap& kappa, const Grid& grid, const std::string& estimator,
                            double lambda, const std::string& path, const SkyReference& sky) {
  FitsWriter w(path);
  for (int mode = 0; mode < 2; ++mode) {
    const Image<double>& k = mode == 0 ? kappa.kappa_e : kappa.kappa_b;
    Tensor c = fits_cube({&k}, fits_flips_x(sky));
    w.write_image(ImageView<const float>(c.data(), grid.ny, grid.nx), PixelType::Float32,
                  mode == 0 ? "KAPPA_E" : "KAPPA_B");
    write_map_wcs(w, grid, sky);
    w.write_key("BUNIT", kDimensionless, mode == 0 ? "dimensionless: convergence (E mode)"
                                                   : "dimensionless: B mode (noise and systematics)");
    w.write_key("ESTIMATR", estimator, "shear estimator");
    w.write_key("LAMBDA", lambda, "smoothing length [arcsec]");
  }
  w.commit();
}

}  // namespace ds::lens
