// Surface-brightness profiles with analytic Fourier transforms, composed the
// GalSim way (one small interface; composition by sum, transform, convolution
// and deconvolution objects). Units: positions in arcsec, wavenumbers k in
// radians per arcsec; a profile's flux is its integral over the sky.
//
// Fourier convention: F(k) = integral f(x) exp(-i k.x) d^2x, so F(0) = flux.
//
//   auto gal = ds::img::sersic(4.0, 0.3, 100.0);                 // n, hlr ["], flux
//   auto lensed = ds::img::transformed(gal, ds::img::Jacobian::lens(0.05, -0.02, 1.0));
//   auto final = ds::img::convolve({lensed, ds::img::gaussian_fwhm(0.12), ds::img::pixel(0.065)});
//
// Accuracy parameters follow GalSim's GSParams defaults (RECONVOLUTION.md sec. 1).
#pragma once
#include <complex>
#include <memory>
#include <string>
#include <vector>

namespace ds::img {

using cdouble = std::complex<double>;

// GalSim's GSParams subset that the renderer uses (defaults as GalSim 2.8).
struct GsParams {
  static constexpr double folding_threshold = 5e-3;
  static constexpr double maxk_threshold = 1e-3;
  static constexpr double kvalue_accuracy = 1e-5;
  static constexpr double stepk_minimum_hlr = 5;
};

// A lattice of wavenumbers: point (ix, iy) is k0 + ix * a + iy * b, for
// ix in [0, nx), iy in [0, ny). Values are written row-major: out[iy * nx + ix].
// Drawing evaluates whole lattices, so transforms map the lattice once and
// shifts cost one sincos per row and column.
struct KLattice {
  double k0x = 0, k0y = 0, ax = 0, ay = 0, bx = 0, by = 0;
  long nx = 0, ny = 0;
  double kx(long ix, long iy) const { return k0x + ix * ax + iy * bx; }
  double ky(long ix, long iy) const { return k0y + ix * ay + iy * by; }
};

class Profile {
 public:
  virtual ~Profile() = default;
  // Total flux (the integral of the surface brightness).
  virtual double flux() const = 0;
  // The Fourier transform at k = (kx, ky) [rad/arcsec].
  virtual cdouble kvalue(double kx, double ky) const = 0;
  // Wavenumber beyond which |F(k)| < maxk_threshold * flux.
  virtual double maxk() const = 0;
  // Fourier step that keeps real-space folding below folding_threshold.
  virtual double stepk() const = 0;
  // Whether xvalue is analytic for this profile.
  virtual bool has_xvalue() const { return false; }
  // Surface brightness at (x, y) [arcsec]; flux per arcsec^2. Throws when not analytic.
  virtual double xvalue(double x, double y) const;
  // Fourier values on a lattice, out: lattice.ny x lattice.nx. The default loops over kvalue.
  virtual void klattice(const KLattice& lat, cdouble* out) const;
  // inout[i] *= F(k_i) on the lattice (a convolution's factors after the first). The
  // default evaluates klattice into per-thread scratch and multiplies; profiles that
  // hold their lattice values already (a cached PSF) multiply directly.
  virtual void klattice_multiply(const KLattice& lat, cdouble* inout) const;
  // inout[i] += F(k_i) on the lattice (a sum's terms after the first); the default
  // evaluates into scratch and adds, transforms fold their phase factors into the add.
  virtual void klattice_add(const KLattice& lat, cdouble* inout) const;
  // A short description, e.g. "Sersic(n=4, hlr=0.3, flux=1)".
  virtual std::string describe() const = 0;
};
using ProfilePtr = std::shared_ptr<const Profile>;

// --- building blocks (sizes in arcsec) ---------------------------------------------
// exp(-r^2 / 2 sigma^2), normalised to flux.
ProfilePtr gaussian(double sigma, double flux = 1);
ProfilePtr gaussian_fwhm(double fwhm, double flux = 1);  // sigma = fwhm / 2.3548
// exp(-r / scale_radius); hlr = 1.67834699 scale_radius.
ProfilePtr exponential(double scale_radius, double flux = 1);
ProfilePtr exponential_hlr(double half_light_radius, double flux = 1);
// exp(-b_n (r / hlr)^(1/n)), 0.3 <= n <= 6.2; trunc > 0 truncates at that radius
// (hlr then is the half-light radius of the truncated profile). The Hankel
// transform is tabulated once per (n, trunc/hlr) and cached (thread-safe):
// Gauss-Legendre quadrature (log r near the cusp, half periods of J0 outside,
// tail cut at 1e-9), ln k step 0.04 with Catmull-Rom cubics, a power-law tail
// beyond |F| < 3e-4; accuracy 1e-4 of the flux or better (tested against
// real-space Hankel transforms in tests/imaging/render_profiles_test.cpp). Build time
// about 0.05 s (n = 1.5) to 0.2 s (n = 4) and 0.8 s (n = 6.2).
ProfilePtr sersic(double n, double half_light_radius, double flux = 1, double trunc = 0);
// (1 + (r/rd)^2)^(-beta), beta > 1.1, untruncated; fwhm = 2 rd sqrt(2^(1/beta) - 1).
ProfilePtr moffat(double beta, double fwhm, double flux = 1);
// The Airy pattern of a circular aperture, lam_over_d in arcsec, with an optional central
// obscuration (GalSim's Airy(lam_over_diam, obscuration)): the linear fraction of the
// aperture diameter blocked, in [0, 1).
ProfilePtr airy(double lam_over_d, double flux = 1, double obscuration = 0);
// A uniform box of width w x h (a pixel response when flux 1).
ProfilePtr box(double width, double height, double flux = 1);
ProfilePtr pixel(double scale);
// A point source at the origin.
ProfilePtr delta(double flux = 1);
// Copies of `base` at offsets (x_j, y_j) [arcsec] with fluxes f_j (its flux scaled):
// knots of star formation. F(k) = base(k)/base_flux * sum_j f_j exp(-i k.x_j).
ProfilePtr clumps(ProfilePtr base, std::vector<double> x, std::vector<double> y, std::vector<double> flux);

// --- composition --------------------------------------------------------------------
ProfilePtr sum(std::vector<ProfilePtr> parts);
ProfilePtr convolve(std::vector<ProfilePtr> parts);
// 1/P(k), capped at 1/(kvalue_accuracy * flux_P) and cut to 0 beyond P's maxk (GalSim Deconvolution).
ProfilePtr deconvolve(ProfilePtr psf);

// A 2x2 map u = J x from profile coordinates x to new coordinates u (arcsec).
struct Jacobian {
  double a = 1, b = 0, c = 0, d = 1;  // [[a, b], [c, d]]
  double det() const { return a * d - b * c; }
  Jacobian operator*(const Jacobian& o) const {
    return {a * o.a + b * o.c, a * o.b + b * o.d, c * o.a + d * o.c, c * o.b + d * o.d};
  }
  static Jacobian scale(double s) { return {s, 0, 0, s}; }
  // Anticlockwise by theta [radians].
  static Jacobian rotation(double theta);
  // x -> -x (GalSim transform(-1, 0, 0, 1)).
  static Jacobian mirror_x() { return {-1, 0, 0, 1}; }
  // Area-preserving reduced shear S(g) = (1-|g|^2)^(-1/2) [[1+g1, g2], [g2, 1-g1]], |g| < 1.
  static Jacobian shear(double g1, double g2);
  // sqrt(mu) S(g): lensing (flux and area x mu).
  static Jacobian lens(double g1, double g2, double mu);
};

// x-space: f'(u) = flux_ratio * f(J^-1 (u - offset)); k-space:
// F'(k) = |det J| flux_ratio F(J^T k) exp(-i k.offset). Nested transforms fold into one.
ProfilePtr transformed(ProfilePtr p, const Jacobian& J, double offset_x = 0, double offset_y = 0,
                       double flux_ratio = 1);
ProfilePtr shifted(ProfilePtr p, double dx, double dy);
// Flux-preserving dilation by s (GalSim dilate).
ProfilePtr dilated(ProfilePtr p, double s);
ProfilePtr rotated(ProfilePtr p, double theta);
ProfilePtr sheared(ProfilePtr p, double g1, double g2);
ProfilePtr lensed(ProfilePtr p, double g1, double g2, double mu);
ProfilePtr flux_scaled(ProfilePtr p, double factor);
ProfilePtr with_flux(ProfilePtr p, double flux);

// The method's transform chain, composed dilate -> rotate -> mirror -> lens -> shift:
// J = sqrt(mu) S(g) M R(theta) (dilation I), flux x flux_scale x mu, then shift [arcsec].
struct TransformChain {
  double dilation = 1;      // flux-preserving
  double rotation = 0;      // radians, anticlockwise
  bool mirror = false;      // x -> -x
  double g1 = 0, g2 = 0;    // reduced shear
  double mu = 1;            // magnification
  double flux_scale = 1;
  double shift_x = 0, shift_y = 0;  // arcsec
  Jacobian jacobian() const;
};
ProfilePtr apply_chain(ProfilePtr p, const TransformChain& t);

// inout[i] *= f[i], i < n (the complex product without the C99 NaN/inf recovery path).
void multiply_lattice(cdouble* inout, const cdouble* f, long n);

// Half-light radius b_n of a Sersic profile: P(2n, b_n) = 1/2 (untruncated).
double sersic_bn(double n);
// Regularised lower incomplete gamma P(a, x).
double gamma_p(double a, double x);

}  // namespace ds::img
