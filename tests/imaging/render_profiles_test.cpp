// Profiles: fluxes, half-light radii, Fourier transforms against real-space
// numerical integration; interpolants against their own definitions.
#include <cmath>
#include <vector>

#include "deepshear/imaging/draw.hpp"
#include "deepshear/imaging/interpolated.hpp"
#include "deepshear/imaging/moments.hpp"
#include "deepshear/imaging/profile.hpp"
#include "test_support.hpp"

using namespace ds::img;

namespace {
// 2 pi int_0^R f(r) r dr by Simpson in ln r (n intervals from r = 1e-8), independent of the tables.
template <class F>
double enclosed(F f, double R, int n = 20000) {
  double t0 = std::log(1e-8), t1 = std::log(R), h = (t1 - t0) / n, s = 0;
  for (int i = 0; i <= n; ++i) {
    double r = std::exp(t0 + i * h), w = (i == 0 || i == n) ? 1 : (i % 2 ? 4 : 2);
    s += w * f(r) * r * r;
  }
  return 2 * M_PI * s * h / 3 + M_PI * 1e-16 * f(1e-8);
}
// Real-space Hankel transform 2 pi int f(r) J0(k r) r dr, fine Simpson in r up to R (for smooth profiles).
template <class F>
double hankel(F f, double k, double R, int n = 200000) {
  double h = R / n, s = 0;
  for (int i = 0; i <= n; ++i) {
    double r = i * h, w = (i == 0 || i == n) ? 1 : (i % 2 ? 4 : 2);
    s += w * f(r) * std::cyl_bessel_j(0.0, k * r) * r;
  }
  return 2 * M_PI * s * h / 3;
}
}  // namespace

TEST_CASE("render: Sersic and exponential flux within 1e-3 and half-light radius within 1% of real-space integration") {
  const double hlr = 0.4, flux = 2.5;
  for (double n : {0.3, 0.5, 1.0, 1.5, 2.5, 4.0, 6.2}) {
    auto p = sersic(n, hlr, flux);
    auto f = [&](double r) { return p->xvalue(r, 0); };
    double rbig = hlr * std::pow(80.0 / sersic_bn(n), n) + 10 * hlr;  // b (r/hlr)^(1/n) = 80
    double total = enclosed(f, rbig, 200000);
    INFO("n = " << n << " total " << total);
    CHECK(std::abs(total - flux) < 1e-3 * flux);
    CHECK(std::abs(p->kvalue(0, 0).real() - flux) < 1e-3 * flux);
    CHECK(std::abs(enclosed(f, hlr, 20000) - 0.5 * flux) < 0.01 * 0.5 * flux);
    // The half-light radius of the drawn image (curve of growth, 0.05"/px: hlr = 8 px) within 1%.
    auto img = draw_image(*p, 256, 256, DrawOptions{0.05, 0, 0});
    double r_img = half_light_radius(img.view(), 127.5, 127.5, flux) * 0.05;
    CHECK(r_img == doctest::Approx(hlr).epsilon(0.01));
  }
}

TEST_CASE("render: Sersic Fourier table matches the real-space Hankel transform to 1e-4 of the flux") {
  for (double n : {0.7, 2.5, 4.0}) {
    auto p = sersic(n, 1.0, 1.0, 12.0);  // truncated at 12 hlr so a plain quadrature converges
    auto f = [&](double r) { return p->xvalue(r, 0); };
    for (double k : {0.3, 1.0, 3.0, 10.0}) {
      double ref = hankel(f, k, 12.0, 120000);
      INFO("n = " << n << " k = " << k << " table " << p->kvalue(k, 0).real() << " ref " << ref);
      CHECK(std::abs(p->kvalue(k, 0).real() - ref) < 1e-4);
    }
    // Truncated flux and hlr.
    CHECK(std::abs(enclosed(f, 12.0) - 1.0) < 1e-3);
    CHECK(std::abs(enclosed(f, 1.0) - 0.5) < 5e-3);
  }
}

TEST_CASE("render: Moffat, Airy, Gaussian, exponential and box transforms match real-space integration") {
  std::vector<ProfilePtr> ps = {moffat(3.5, 0.2, 1.3), gaussian(0.1, 0.7), exponential(0.1, 1.1), airy(0.1, 1.0)};
  for (auto& p : ps) {
    auto f = [&](double r) { return p->xvalue(r, 0); };
    for (double k : {0.0, 5.0, 20.0}) {
      double R = 3.0;
      double ref = hankel(f, k, R, 300000);
      INFO(p->describe() << " k = " << k << " kvalue " << p->kvalue(k, 0).real() << " ref " << ref);
      // The Airy pattern's slow tail (1 - EE ~ 2 / (pi^2 R / lambda/D)) leaves 6.8e-3 outside R = 3" (30 lambda/D).
      CHECK(std::abs(p->kvalue(k, 0).real() - ref) < (p->describe().rfind("Airy", 0) == 0 ? 8e-3 : 1e-5));
    }
  }
  auto b = box(0.2, 0.1, 2.0);
  CHECK(b->kvalue(10, 0).real() == doctest::Approx(2.0 * std::sin(1.0) / 1.0));
  CHECK(b->kvalue(0, 10).real() == doctest::Approx(2.0 * std::sin(0.5) / 0.5));
}

TEST_CASE("render: the quintic interpolant's transform is the Fourier transform of its kernel") {
  Interpolant q(InterpolantKind::Quintic);
  // Partition of unity and interpolation (xval(0) = 1, xval(j) = 0).
  for (double x0 : {0.0, 0.3, 0.77}) {
    double s = 0;
    for (int j = -4; j <= 4; ++j) s += q.xval(x0 + j);
    CHECK(s == doctest::Approx(1.0).epsilon(1e-12));
  }
  CHECK(q.xval(0) == 1.0);
  CHECK(std::abs(q.xval(1)) < 1e-15);
  CHECK(std::abs(q.xval(2)) < 1e-15);
  for (double u : {0.0, 0.2, 0.5, 0.9, 1.4}) {
    const int N = 60000;
    double h = 6.0 / N, s = 0;
    for (int i = 0; i <= N; ++i) {
      double x = -3 + i * h, w = (i == 0 || i == N) ? 1 : (i % 2 ? 4 : 2);
      s += w * q.xval(x) * std::cos(2 * M_PI * u * x);
    }
    CHECK(std::abs(s * h / 3 - q.uval(u)) < 1e-9);
  }
  Interpolant l3(InterpolantKind::Lanczos3);
  CHECK(l3.xval(0) == 1.0);
  CHECK(std::abs(l3.xval(1.0)) < 1e-15);
  // Lanczos-3 transform against a trapezoid integral of its kernel (the table uses Simpson).
  for (double u : {0.0, 0.25, 0.6}) {
    const int N = 30000;
    double h = 6.0 / N, s = 0;
    for (int i = 0; i <= N; ++i) s += (i == 0 || i == N ? 0.5 : 1.0) * l3.xval(-3 + i * h) * std::cos(2 * M_PI * u * (-3 + i * h));
    CHECK(std::abs(s * h - l3.uval(u)) < 1e-5);
  }
}

TEST_CASE("render: an interpolated image with the Lanczos-5 interpolant reproduces a Gaussian") {
  auto truth = gaussian(0.12, 2.0);
  auto img = draw_image(*truth, 64, 64, DrawOptions{0.03, 0, 0, false});
  InterpolatedOptions o;
  o.x_interpolant = InterpolantKind::Lanczos5;
  auto ii = interpolated_image(img.view(), 0.03, o);
  for (double k : {0.0, 4.0, 12.0, 30.0}) {
    INFO("k " << k);
    CHECK(std::abs(ii->kvalue(k, 0.5 * k) - truth->kvalue(k, 0.5 * k)) < 2e-3 * 2.0);
  }
}

TEST_CASE("render: an interpolated image of a drawn Gaussian reproduces the Gaussian") {
  // Draw a well-sampled Gaussian at 0.03"/px (no pixel: samples of SB x area), make an
  // InterpolatedImage of it and compare its Fourier values and a redraw at 0.065"/px.
  const double s = 0.03, sigma = 0.12;
  for (long n : {64L, 65L}) {
    auto truth = gaussian(sigma, 5.0);
    auto img = draw_image(*truth, n, n, DrawOptions{s, 0, 0, false});
    auto ii = interpolated_image(img.view(), s);
    CHECK(ii->flux() == doctest::Approx(5.0).epsilon(1e-6));
    for (double k : {0.0, 3.0, 10.0, 25.0}) {
      auto v = ii->kvalue(k * 0.6, -k * 0.8);
      INFO("n " << n << " k " << k << " " << v << " vs " << truth->kvalue(k * 0.6, -k * 0.8));
      CHECK(std::abs(v - truth->kvalue(k * 0.6, -k * 0.8)) < 1e-4 * 5.0);
    }
    auto psf = gaussian(0.05);
    auto a = draw_image(*convolve({ii, psf}), 32, 32, DrawOptions{0.065, 0.2, -0.3});
    auto b = draw_image(*convolve({truth, psf}), 32, 32, DrawOptions{0.065, 0.2, -0.3});
    double peak = 0, err = 0;
    for (long i = 0; i < a.size(); ++i) {
      peak = std::max(peak, b.data()[i]);
      err = std::max(err, std::abs(a.data()[i] - b.data()[i]));
    }
    CHECK(err < 1e-4 * peak);
    // Real space: the interpolated surface brightness at pixel centres is the image / area.
    CHECK(ii->xvalue(0.0, 0.0) * s * s == doctest::Approx(img(n / 2, n / 2)).epsilon(n % 2 ? 1e-12 : 0.05));
  }
}

TEST_CASE("render: obscured Airy: the pupil autocorrelation in k is the transform of the real-space closed form") {
  // F(k) (annular pupil autocorrelation) has compact support k <= 2 pi / (lam/D), so the
  // inverse Hankel transform I(r) = (1/2pi) int F(k) J0(k r) k dk is accurate by Simpson;
  // it must reproduce I(r) = f pi / (4 (lam/D)^2 (1-eps^2)) [2J1(u)/u - eps^2 2J1(eps u)/(eps u)]^2,
  // u = pi r / (lam/D), to 1e-6 of the peak (eps = 0 is the unobscured Airy).
  const double lod = 0.1, flux = 1.7;
  for (double eps : {0.0, 0.2, 0.5, 0.8}) {
    auto p = airy(lod, flux, eps);
    const double kmax = 2 * M_PI / lod;
    CHECK(p->kvalue(0, 0).real() == doctest::Approx(flux).epsilon(1e-12));
    CHECK(p->kvalue(kmax * 1.0001, 0).real() == 0);
    CHECK(p->maxk() == doctest::Approx(kmax));
    const double peak = p->xvalue(0, 0);
    CHECK(peak == doctest::Approx(flux * M_PI * (1 - eps * eps) / (4 * lod * lod)).epsilon(1e-12));
    for (double r : {0.0, 0.02, 0.05, 0.08, 0.13, 0.21, 0.34}) {
      const int n = 40000;
      const double h = kmax / n;
      double s = 0;
      for (int i = 0; i <= n; ++i) {
        const double k = i * h, w = (i == 0 || i == n) ? 1 : (i % 2 ? 4 : 2);
        s += w * p->kvalue(k, 0).real() * std::cyl_bessel_j(0.0, k * r) * k;
      }
      const double ref = s * h / 3 / (2 * M_PI);
      INFO("eps = " << eps << " r = " << r << " xvalue " << p->xvalue(r, 0) << " transform " << ref);
      CHECK(std::abs(p->xvalue(r, 0) - ref) < 1e-6 * peak);  // observed < 1e-9
    }
    // The obscuration moves light into the rings: stepk shrinks as 1 - eps (GalSim's SBAiry).
    CHECK(p->stepk() == doctest::Approx(airy(lod, flux)->stepk() * (1 - eps)));
  }
  CHECK_THROWS(airy(0.1, 1, 1.0));
  CHECK_THROWS(airy(0.1, 1, -0.1));
}
