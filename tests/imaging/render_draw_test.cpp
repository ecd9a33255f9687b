// Drawing accuracy against closed forms, and the stamp symmetries of DESIGN.md.
#include <cmath>
#include <vector>

#include "deepshear/imaging/draw.hpp"
#include "deepshear/imaging/moments.hpp"
#include "deepshear/imaging/profile.hpp"
#include "test_support.hpp"

using namespace ds::img;

namespace {

// 2-D Gaussian with covariance C (arcsec^2) and flux f, integrated over the pixel
// centred at (xc, yc) of side s by 24 x 24 Gauss-Legendre points (independent of the renderer).
double gauss_pixel(double f, double cxx, double cxy, double cyy, double xc, double yc, double s) {
  static std::vector<double> gx, gw;
  if (gx.empty()) {  // Gauss-Legendre nodes by Newton on P_n
    const int n = 24;
    for (int i = 0; i < n; ++i) {
      double x = std::cos(M_PI * (i + 0.75) / (n + 0.5)), dp = 0;
      for (int it = 0; it < 100; ++it) {
        double p0 = 1, p1 = x;
        for (int k = 2; k <= n; ++k) {
          double p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
          p0 = p1;
          p1 = p2;
        }
        dp = n * (x * p1 - p0) / (x * x - 1);
        double dx = p1 / dp;
        x -= dx;
        if (std::abs(dx) < 1e-15) break;
      }
      gx.push_back(x);
      gw.push_back(2 / ((1 - x * x) * dp * dp));
    }
  }
  double det = cxx * cyy - cxy * cxy;
  double ixx = cyy / det, ixy = -cxy / det, iyy = cxx / det;
  double sum = 0;
  for (std::size_t i = 0; i < gx.size(); ++i)
    for (std::size_t j = 0; j < gx.size(); ++j) {
      double x = xc + 0.5 * s * gx[i], y = yc + 0.5 * s * gx[j];
      sum += gw[i] * gw[j] * std::exp(-0.5 * (ixx * x * x + 2 * ixy * x * y + iyy * y * y));
    }
  return f / (2 * M_PI * std::sqrt(det)) * sum * 0.25 * s * s;
}

double max_abs(const ds::ImageD& a) {
  double m = 0;
  for (double v : a) m = std::max(m, std::abs(v));
  return m;
}

}  // namespace

TEST_CASE("render: sheared Gaussian (x) Gaussian PSF (x) pixel matches the closed form to 1e-4 of the peak") {
  const double s = 0.065, sig_g = 0.1, sig_p = 0.12 / 2.3548200450309493, flux = 3.7;
  struct Case { double g1, g2, ox, oy; };
  for (Case c : {Case{0.0, 0.0, 0.0, 0.0}, Case{0.15, -0.1, 0.3, -0.2}, Case{-0.2, 0.18, -0.45, 0.5},
                 Case{0.05, 0.3, 0.13, 0.37}}) {
    auto gal = sheared(gaussian(sig_g, flux), c.g1, c.g2);
    auto img = draw_image(*convolve({gal, gaussian(sig_p)}), 32, 32, DrawOptions{s, c.ox, c.oy});
    // Closed form: C = sig_g^2 S S^T + sig_p^2 I.
    Jacobian S = Jacobian::shear(c.g1, c.g2);
    double cxx = sig_g * sig_g * (S.a * S.a + S.b * S.b) + sig_p * sig_p;
    double cxy = sig_g * sig_g * (S.a * S.c + S.b * S.d);
    double cyy = sig_g * sig_g * (S.c * S.c + S.d * S.d) + sig_p * sig_p;
    ds::ImageD truth(32, 32);
    for (long y = 0; y < 32; ++y)
      for (long x = 0; x < 32; ++x)
        truth(y, x) = gauss_pixel(flux, cxx, cxy, cyy, (x - 15.5 - c.ox) * s, (y - 15.5 - c.oy) * s, s);
    double peak = max_abs(truth), err = 0;
    for (long i = 0; i < truth.size(); ++i) err = std::max(err, std::abs(img.data()[i] - truth.data()[i]));
    INFO("g=(" << c.g1 << "," << c.g2 << ") offset=(" << c.ox << "," << c.oy << ") err/peak=" << err / peak);
    CHECK(err < 1e-4 * peak);
    CHECK(img.sum() == doctest::Approx(truth.sum()).epsilon(1e-4));
  }
}

TEST_CASE("render: stamp centre is ((N-1)/2, (N-1)/2) for odd and even N") {
  for (long n : {31L, 32L}) {
    auto img = draw_image(*gaussian(0.08), n, n, DrawOptions{0.065, 0, 0});
    double sx = 0, sy = 0, f = 0;
    for (long y = 0; y < n; ++y)
      for (long x = 0; x < n; ++x) {
        sx += x * img(y, x);
        sy += y * img(y, x);
        f += img(y, x);
      }
    CHECK(sx / f == doctest::Approx(0.5 * (n - 1)).epsilon(1e-6));
    CHECK(sy / f == doctest::Approx(0.5 * (n - 1)).epsilon(1e-6));
  }
  // An offset moves the centroid by the offset (pixels).
  auto img = draw_image(*gaussian(0.08), 32, 32, DrawOptions{0.065, 0.3, -0.7});
  double sx = 0, sy = 0, f = 0;
  for (long y = 0; y < 32; ++y)
    for (long x = 0; x < 32; ++x) {
      sx += x * img(y, x);
      sy += y * img(y, x);
      f += img(y, x);
    }
  INFO("dx " << sx / f - 15.8); CHECK(std::abs(sx / f - 15.8) < 1e-4);  // maxk_threshold 1e-3 truncates the k grid
  INFO("dy " << sy / f - 14.8); CHECK(std::abs(sy / f - 14.8) < 1e-4);
}

namespace {
// A lopsided galaxy (bulge + offset disk + knots), with no symmetry of its own.
ProfilePtr lopsided() {
  auto bulge = shifted(sheared(sersic(4, 0.08, 1.0), 0.1, 0.05), 0.02, -0.01);
  auto disk = sheared(exponential_hlr(0.2, 2.0), -0.3, 0.2);
  auto knots = clumps(gaussian(0.02), {0.12, -0.05, 0.08}, {0.03, 0.15, -0.11}, {0.3, 0.2, 0.25});
  return sum({bulge, disk, knots});
}
double max_diff(const ds::ImageD& a, const ds::ImageD& b) {
  double m = 0;
  for (long i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a.data()[i] - b.data()[i]));
  return m;
}
ds::ImageD render_psf(ProfilePtr g) {
  return draw_image(*convolve({g, gaussian_fwhm(0.12)}), 32, 32, DrawOptions{0.065, 0, 0});
}
}  // namespace

TEST_CASE("render: 90 degree rotation, transpose and flip of the galaxy are those array operations on the stamp") {
  auto g = lopsided();
  auto base = render_psf(g);
  double peak = max_abs(base), tol = 1e-9 * peak;
  CHECK(max_diff(render_psf(rotated(g, M_PI / 2)), rotate90(base)) < tol);
  CHECK(max_diff(render_psf(transformed(g, Jacobian{0, 1, 1, 0})), transpose(base)) < tol);
  CHECK(max_diff(render_psf(transformed(g, Jacobian::mirror_x())), flip_x(base)) < tol);
  // The stamp is not itself symmetric, so these checks can fail.
  CHECK(max_diff(base, rotate90(base)) > 1e-3 * peak);
  CHECK(max_diff(base, transpose(base)) > 1e-3 * peak);
  CHECK(max_diff(base, flip_x(base)) > 1e-3 * peak);
}

TEST_CASE("render: shear maps as DESIGN.md says under transpose, flip and 90 degree rotation") {
  auto g = lopsided();
  const double g1 = 0.13, g2 = -0.07;
  auto T = [](ProfilePtr p) { return transformed(p, Jacobian{0, 1, 1, 0}); };
  auto F = [](ProfilePtr p) { return transformed(p, Jacobian{1, 0, 0, -1}); };  // flip y
  auto R = [](ProfilePtr p) { return rotated(p, M_PI / 2); };
  double peak = max_abs(render_psf(sheared(g, g1, g2))), tol = 1e-9 * peak;
  // Array op on the sheared galaxy == shear (mapped) of the array-op'd galaxy.
  CHECK(max_diff(transpose(render_psf(sheared(g, g1, g2))), render_psf(sheared(T(g), -g1, g2))) < tol);
  CHECK(max_diff(render_psf(F(sheared(g, g1, g2))), render_psf(sheared(F(g), g1, -g2))) < tol);
  CHECK(max_diff(rotate90(render_psf(sheared(g, g1, g2))), render_psf(sheared(R(g), -g1, -g2))) < tol);
  // With the wrong mapping the stamps differ.
  CHECK(max_diff(transpose(render_psf(sheared(g, g1, g2))), render_psf(sheared(T(g), g1, g2))) > 1e-3 * peak);
}

TEST_CASE("render: positive g1 stretches along x, positive g2 along x = y") {
  auto q = [](const ds::ImageD& im, double& e1, double& e2) {
    double sxx = 0, syy = 0, sxy = 0;
    for (long y = 0; y < im.ny(); ++y)
      for (long x = 0; x < im.nx(); ++x) {
        double dx = x - 0.5 * (im.nx() - 1), dy = y - 0.5 * (im.ny() - 1);
        sxx += dx * dx * im(y, x);
        syy += dy * dy * im(y, x);
        sxy += dx * dy * im(y, x);
      }
    e1 = (sxx - syy) / (sxx + syy);
    e2 = 2 * sxy / (sxx + syy);
  };
  double e1, e2;
  q(draw_image(*sheared(gaussian(0.1), 0.2, 0), 48, 48, DrawOptions{0.065, 0, 0, false}), e1, e2);
  CHECK(e1 > 0.3);
  CHECK(std::abs(e2) < 1e-6);
  q(draw_image(*sheared(gaussian(0.1), 0, 0.2), 48, 48, DrawOptions{0.065, 0, 0, false}), e1, e2);
  CHECK(e2 > 0.3);
  CHECK(std::abs(e1) < 1e-6);
  // Unweighted moments of a sheared round Gaussian: e = 2g/(1+g^2) (no pixel, so exact).
  q(draw_image(*sheared(gaussian(0.1), 0.2, 0), 64, 64, DrawOptions{0.065, 0, 0, false}), e1, e2);
  CHECK(e1 == doctest::Approx(2 * 0.2 / (1 + 0.04)).epsilon(1e-4));
}

TEST_CASE("render: the transform chain composes dilate -> rotate -> mirror -> lens -> shift") {
  TransformChain t;
  t.dilation = 1.1;
  t.rotation = 0.4;
  t.mirror = true;
  t.g1 = 0.1;
  t.g2 = -0.05;
  t.mu = 1.07;
  t.shift_x = 0.03;
  t.shift_y = -0.02;
  auto g = lopsided();
  auto by_chain = apply_chain(g, t);
  auto by_steps = shifted(lensed(transformed(rotated(dilated(g, 1.1), 0.4), Jacobian::mirror_x()), 0.1, -0.05, 1.07),
                          0.03, -0.02);
  CHECK(by_chain->flux() == doctest::Approx(g->flux() * 1.07).epsilon(1e-12));
  for (double kx : {0.0, 3.0, -11.0})
    for (double ky : {0.0, 7.0, 20.0}) {
      auto a = by_chain->kvalue(kx, ky), b = by_steps->kvalue(kx, ky);
      CHECK(std::abs(a - b) < 1e-12);
    }
  // Real space: f'(u) = f(J^-1 (u - s)) (dilation keeps flux: SB / s^2).
  double u = 0.05, v = 0.02;
  CHECK(by_chain->xvalue(u, v) == doctest::Approx(by_steps->xvalue(u, v)).epsilon(1e-12));
}

TEST_CASE("render: adaptive moments of a rendered sheared round Gaussian give e = 2g/(1+g^2) to 1e-4") {
  for (double g1 : {0.05, 0.2}) {
    const double g2 = -0.5 * g1;
    // Fine sampling, no pixel: the stamp holds samples of an elliptical Gaussian.
    auto img = draw_image(*sheared(gaussian(0.1, 1.0), g1, g2), 96, 96, DrawOptions{0.02, 0, 0, false});
    auto m = adaptive_moments(img.view());
    REQUIRE(m.ok());
    const double g = std::hypot(g1, g2), e = 2 * g / (1 + g * g);
    CHECK(std::abs(m.e1 - e * g1 / g) < 1e-4);
    CHECK(std::abs(m.e2 - e * g2 / g) < 1e-4);
  }
}
