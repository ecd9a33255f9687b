// FITS output of shear maps (see maps_fits.hpp).
#include "deepshear/lensing/cluster/maps_fits.hpp"

#include "deepshear/engine/fits.hpp"
#include "deepshear/engine/tensor.hpp"

namespace ds::lens {

using fits::FitsWriter;
using fits::PixelType;

namespace {
void write_wcs(FitsWriter& w, const ShearMaps& m, const SkyReference& sky) {
  const Grid& g = m.grid;
  // FITS pixels are 1-based: grid point (ix, iy) is pixel (ix + 1, iy + 1); (0, 0) arcsec
  // is at pixel 1 - x0 / step.
  w.write_key("CRPIX1", 1.0 - g.x0 / g.step, "pixel of the reference point");
  w.write_key("CRPIX2", 1.0 - g.y0 / g.step, "pixel of the reference point");
  if (sky.present) {
    w.write_key("CTYPE1", "RA---TAN");
    w.write_key("CTYPE2", "DEC--TAN");
    w.write_key("CRVAL1", sky.ra_deg, "RA of x = y = 0 [deg]");
    w.write_key("CRVAL2", sky.dec_deg, "Dec of x = y = 0 [deg]");
    w.write_key("CDELT1", (sky.x_east ? 1.0 : -1.0) * g.step / 3600.0, "[deg]");
    w.write_key("CDELT2", g.step / 3600.0, "[deg]");
    w.write_key("CUNIT1", "deg");
    w.write_key("CUNIT2", "deg");
  } else {
    w.write_key("CTYPE1", "OFFSET-X");
    w.write_key("CTYPE2", "OFFSET-Y");
    w.write_key("CRVAL1", 0.0);
    w.write_key("CRVAL2", 0.0);
    w.write_key("CDELT1", g.step, "[arcsec]");
    w.write_key("CDELT2", g.step, "[arcsec]");
    w.write_key("CUNIT1", "arcsec");
    w.write_key("CUNIT2", "arcsec");
  }
  w.write_key("LAMBDA", m.options.lambda, "Gaussian smoothing length [arcsec]");
  w.write_key("MINNEFF", m.options.min_neff, "points with fewer effective sources are NaN");
}
}  // namespace

void write_maps_fits(const ShearMaps& m, const std::string& path, const SkyReference& sky) {
  const long ny = m.grid.ny, nx = m.grid.nx, n = ny * nx;
  FitsWriter w(path);
  Tensor nm({2, ny, nx});
  for (long i = 0; i < n; ++i) {
    nm.data()[i] = float(m.neff.data()[i]);
    nm.data()[n + i] = float(m.mask.data()[i]);
  }
  w.write_cube(nm, PixelType::Float32, "NEFF");
  write_wcs(w, m, sky);
  w.write_key("PLANE1", "neff");
  w.write_key("PLANE2", "mask");
  for (std::size_t e = 0; e < m.names.size(); ++e) {
    Tensor c({4, ny, nx});
    const Image<double>* planes[4] = {&m.g1[e], &m.g2[e], &m.sigma1[e], &m.sigma2[e]};
    for (int p = 0; p < 4; ++p)
      for (long i = 0; i < n; ++i) c.data()[p * n + i] = float(planes[p]->data()[i]);
    w.write_cube(c, PixelType::Float32, m.names[e]);
    write_wcs(w, m, sky);
    w.write_key("PLANE1", "g1");
    w.write_key("PLANE2", "g2");
    w.write_key("PLANE3", "sigma_g1");
    w.write_key("PLANE4", "sigma_g2");
    w.write_key("NBOOT", m.nboot, "bootstrap resamplings behind the sigma planes");
  }
  w.commit();
}

void write_linear_wcs(FitsWriter& w, const Grid& g) {
  w.write_key("CTYPE1", "LINEAR"), w.write_key("CTYPE2", "LINEAR");
  w.write_key("CUNIT1", "arcsec"), w.write_key("CUNIT2", "arcsec");
  w.write_key("CRPIX1", 1.0), w.write_key("CRPIX2", 1.0);
  w.write_key("CRVAL1", g.x0), w.write_key("CRVAL2", g.y0);
  w.write_key("CDELT1", g.step), w.write_key("CDELT2", g.step);
}

void write_convergence_fits(const ConvergenceMap& kappa, const Grid& grid, const std::string& estimator,
                            double lambda, const std::string& path) {
  FitsWriter w(path);
  for (int mode = 0; mode < 2; ++mode) {
    w.write_image(mode == 0 ? kappa.kappa_e : kappa.kappa_b, PixelType::Float64, mode == 0 ? "KAPPA_E" : "KAPPA_B");
    write_linear_wcs(w, grid);
    w.write_key("ESTIMATR", estimator, "shear estimator");
    w.write_key("LAMBDA", lambda, "smoothing length [arcsec]");
  }
  w.commit();
}

}  // namespace ds::lens
