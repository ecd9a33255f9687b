// The lattice fast paths (Profile::klattice overrides: row-vectorised radial
// profiles, the Sersic look-up, the knot sum, phase factors, the cached PSF in a
// convolution) against the straightforward path, kvalue point by point.
#include <algorithm>
#include <cmath>
#include <complex>
#include <string>
#include <vector>

#include "deepshear/engine/random.hpp"
#include "deepshear/imaging/draw.hpp"
#include "deepshear/imaging/galaxy.hpp"
#include "deepshear/imaging/profile.hpp"
#include "test_support.hpp"

using namespace ds::img;

namespace {
// A profile that hides its target's klattice: the base class evaluates kvalue
// at every lattice point (the straightforward path).
class PointByPoint final : public Profile {
 public:
  explicit PointByPoint(ProfilePtr p) : p_(std::move(p)) {}
  double flux() const override { return p_->flux(); }
  cdouble kvalue(double kx, double ky) const override { return p_->kvalue(kx, ky); }
  double maxk() const override { return p_->maxk(); }
  double stepk() const override { return p_->stepk(); }
  std::string describe() const override { return "PointByPoint(" + p_->describe() + ")"; }

 private:
  ProfilePtr p_;
};

// A skewed lattice (as a transform produces) whose row length is not a multiple
// of the vector width, through k = 0 and well past maxk.
KLattice skewed_lattice(ds::RandomStream& r, double kmax) {
  KLattice L;
  L.nx = 37 + long(r.integer(0, 20));
  L.ny = 2 * (L.nx - 1) + 1;
  const double dk = kmax / double(L.nx - 1);
  const double th = r.uniform(0, 2 * M_PI), sk = r.uniform(0.7, 1.3);
  L.ax = dk * std::cos(th);
  L.ay = dk * std::sin(th);
  L.bx = -dk * sk * std::sin(th + 0.2);
  L.by = dk * sk * std::cos(th + 0.2);
  const long half = (L.ny - 1) / 2;
  L.k0x = -half * L.bx;  // row `half`, column 0 is k = 0
  L.k0y = -half * L.by;
  return L;
}

// max |fast - kvalue| over the lattice.
double lattice_error(const Profile& p, const KLattice& L) {
  std::vector<cdouble> fast(std::size_t(L.nx * L.ny));
  p.klattice(L, fast.data());
  double e = 0;
  for (long iy = 0; iy < L.ny; ++iy)
    for (long ix = 0; ix < L.nx; ++ix)
      e = std::max(e, std::abs(fast[std::size_t(iy * L.nx + ix)] - p.kvalue(L.kx(ix, iy), L.ky(ix, iy))));
  return e;
}
}  // namespace

TEST_CASE("render: each profile's lattice values agree with kvalue point by point to 1e-12 of the flux") {
  // Rounding-level: the fast paths reorder sums (knots), use a Newton reciprocal
  // square root (exponential) and vector arithmetic; all else is the same formula.
  ds::RandomStream r(3, "lattice-profiles", 0);
  for (int trial = 0; trial < 12; ++trial) {
    const double hlr = r.uniform(0.02, 1.0), flux = r.uniform(0.5, 50);
    std::vector<ProfilePtr> ps = {
        sersic(3.5 + 0.5 * double(r.integer(0, 2)), hlr, flux),  // table, below-table and tail regions
        sersic(1.5, hlr, flux),
        exponential_hlr(hlr, flux),
        gaussian(r.uniform(0.01, 0.3), flux),
        shifted(sheared(sersic(4, hlr, flux), r.uniform(-0.4, 0.4), r.uniform(-0.4, 0.4)), r.uniform(-0.1, 0.1),
                r.uniform(-0.1, 0.1)),
    };
    std::vector<double> kx, ky, kf;
    const long nk = r.integer(1, 25);  // includes knot counts that are not a multiple of anything
    for (long j = 0; j < nk; ++j) {
      kx.push_back(r.uniform(-0.5, 0.5));
      ky.push_back(r.uniform(-0.5, 0.5));
      kf.push_back(r.uniform(0, flux / double(nk)));
    }
    ps.push_back(clumps(gaussian(r.uniform(0.005, 0.05)), kx, ky, kf));
    // Symmetric about its middle row (as drawing makes: the knot sum pairs rows) and not.
    KLattice L = skewed_lattice(r, r.uniform(20, 400)), Ls = L;
    Ls.k0x += r.uniform(-0.5, 0.5) * L.ax;
    Ls.k0y += r.uniform(-0.5, 0.5) * L.ay + 0.3 * L.by;
    Ls.ny -= trial % 2;  // and an even row count
    for (const auto& p : ps)
      for (const KLattice* lat : {&L, &Ls}) {
        INFO(p->describe() << (lat == &L ? " (symmetric lattice)" : " (shifted lattice)"));
        CHECK(lattice_error(*p, *lat) <= 1e-12 * p->flux());  // observed <= 2e-14
      }
  }
}

TEST_CASE("render: random parametric galaxies draw the same stamps through the fast lattice path and point by point") {
  // The whole pipeline of render_stamp (chain, PSF (x) pixel, sub-pixel offset,
  // 64x64 periodic render, fold) against the same profile evaluated point by point:
  // agreement to 1e-10 of the peak (rounding-level in the float stamps).
  ParametricPopulation pop;
  StampSetup setup;
  DrawOptions o;
  o.scale = setup.pixel_scale;
  o.max_n = setup.full_size;
  o.add_pixel = false;
  for (std::uint64_t i = 0; i < 25; ++i) {
    ds::RandomStream r(5, "lattice-galaxies", i);
    TransformChain t;
    t.g1 = r.uniform(-0.2, 0.2);
    t.g2 = r.uniform(-0.2, 0.2);
    t.rotation = r.uniform(0, 2 * M_PI);
    t.mirror = r.uniform() < 0.5;
    o.offset_x = r.uniform(-0.5, 0.5);
    o.offset_y = r.uniform(-0.5, 0.5);
    ProfilePtr final = convolve({apply_chain(pop.draw(9, i).profile(), t), setup.psf(), pixel(setup.pixel_scale)});
    ds::ImageD fast = draw_image(*final, setup.full_size, setup.full_size, o);
    ds::ImageD slow = draw_image(PointByPoint(final), setup.full_size, setup.full_size, o);
    double peak = 0, err = 0;
    for (long y = 0; y < fast.ny(); ++y)
      for (long x = 0; x < fast.nx(); ++x) {
        peak = std::max(peak, std::abs(slow(y, x)));
        err = std::max(err, std::abs(fast(y, x) - slow(y, x)));
      }
    INFO("galaxy " << i << ": " << final->describe());
    CHECK(peak > 0);
    CHECK(err <= 1e-10 * peak);  // observed <= 3e-15
  }
}

TEST_CASE("render: render_stamp's cached PSF lattice gives the stamp of the uncached convolution") {
  // render_stamp multiplies by the per-thread cached PSF (x) pixel lattice in place;
  // the same stamp drawn from the plain convolution must agree to float rounding.
  ParametricPopulation pop;
  StampSetup setup;
  for (std::uint64_t i = 0; i < 10; ++i) {
    TransformChain t;
    t.rotation = 0.3 * double(i);
    t.g1 = 0.05;
    ProfilePtr gal = pop.draw(11, i).profile();
    ds::ImageF stamp(setup.stamp_size, setup.stamp_size);
    render_stamp(gal, t, setup, 0.25, -0.1, stamp.view());
    DrawOptions o;
    o.scale = setup.pixel_scale;
    o.max_n = setup.full_size;
    o.add_pixel = false;
    o.offset_x = 0.25;
    o.offset_y = -0.1;
    ds::ImageD full = draw_image(*convolve({apply_chain(gal, t), convolve({setup.psf(), pixel(setup.pixel_scale)})}),
                             setup.full_size, setup.full_size, o);
    const long c0 = (setup.full_size - setup.stamp_size) / 2;
    double peak = 0, err = 0;
    for (long y = 0; y < setup.stamp_size; ++y)
      for (long x = 0; x < setup.stamp_size; ++x) {
        peak = std::max(peak, std::abs(full(y + c0, x + c0)));
        err = std::max(err, std::abs(double(stamp(y, x)) - full(y + c0, x + c0)));
      }
    CHECK(err <= 1e-6 * peak);
  }
}
