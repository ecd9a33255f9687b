// Galaxy sources and the stamp pipeline (see galaxy.hpp).
#include "deepshear/imaging/galaxy.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include "deepshear/engine/constants.hpp"
#include "deepshear/engine/error.hpp"
#include "deepshear/imaging/draw.hpp"

namespace ds::img {

namespace {
constexpr std::size_t kLockStripes = 64;

// Reduced shear of an ellipse with axis ratio q and major-axis angle beta.
void shear_from_q(double q, double beta, double& g1, double& g2) {
  double g = (1 - q) / (1 + q);
  g1 = g * std::cos(2 * beta);
  g2 = g * std::sin(2 * beta);
}
}  // namespace

// ---------------------------------------------------------------- real galaxies
ProfilePtr real_galaxy(ImageView<const double> gal, ImageView<const double> psf, double scale, double flux_rescale,
                       InterpolantKind x_interp, bool fold_psf) {
  InterpolatedOptions po;
  po.x_interpolant = x_interp;
  po.flux = 1;
  auto psf_ii = interpolated_image(psf, scale, po);
  InterpolatedOptions go;
  go.x_interpolant = x_interp;
  go.stepk_cap = psf_ii->stepk();
  go.maxk_cap = psf_ii->maxk();
  auto gal_ii = interpolated_image(gal, scale, go);
  ProfilePtr p = fold_psf ? reconvolution_profile(gal_ii, psf_ii) : convolve({gal_ii, deconvolve(psf_ii)});
  return flux_rescale != 1 ? flux_scaled(p, flux_rescale) : p;
}

ProfilePtr RealGalaxyTreatment::rescaled(const ProfilePtr& source) const {
  return flux_scaled(dilated(source, size_rescale), flux_rescale);
}

RealGalaxySource::RealGalaxySource(std::shared_ptr<const RealGalaxyCatalog> cat)
    : cat_(std::move(cat)), locks_(new std::mutex[kLockStripes]) {
  DS_REQUIRE(cat_ != nullptr, "real-galaxy source: no catalogue");
  cache_.resize(cat_->size());
}

ProfilePtr RealGalaxySource::profile(std::size_t i) const {
  DS_REQUIRE(i < cat_->size(), "real-galaxy source: row " + std::to_string(i) + " outside the catalogue of " +
                                std::to_string(cat_->size()) + " rows (" + cat_->path() + ")");
  std::lock_guard<std::mutex> lock(locks_[i % kLockStripes]);
  if (!cache_[i]) {
    const RealGalaxyRow& row = cat_->row(i);
    const ImageD& g = cat_->galaxy_image(i);
    const ImageD& p = cat_->psf_image(i);
    cache_[i] = real_galaxy(g.view(), p.view(), row.pixel_scale);
  }
  return cache_[i];
}

// ---------------------------------------------------------------- parametric galaxies
double ParametricGalaxy::disk_q() const {
  double c = std::cos(disk_inclination), s = std::sin(disk_inclination);
  return std::sqrt(c * c + disk_q0 * disk_q0 * s * s);
}

ProfilePtr ParametricGalaxy::profile() const {
  DS_REQUIRE(flux > 0 && std::isfinite(flux), "parametric galaxy: flux must be > 0");
  DS_REQUIRE(bulge_fraction >= 0 && bulge_fraction <= 1, "parametric galaxy: bulge_fraction outside [0, 1]");
  DS_REQUIRE(knot_fraction >= 0 && knot_fraction <= 1, "parametric galaxy: knot_fraction outside [0, 1]");
  std::vector<ProfilePtr> parts;
  const double fb = flux * bulge_fraction, fd = flux - fb;
  if (fb > 0) {
    double g1, g2;
    shear_from_q(bulge_q, bulge_angle, g1, g2);
    parts.push_back(shifted(sheared(sersic(bulge_n, bulge_hlr, fb), g1, g2), bulge_dx, bulge_dy));
  }
  if (fd > 0) {
    // Face-on disk (smooth + knots), then inclined (sheared to q) and rotated as one.
    std::vector<ProfilePtr> disk;
    const double fk = knot_x.empty() ? 0.0 : fd * knot_fraction;
    if (fd - fk > 0) disk.push_back(exponential_hlr(disk_hlr, fd - fk));
    if (fk > 0) {
      DS_REQUIRE(knot_x.size() == knot_y.size() && knot_x.size() == knot_weight.size(),
              "parametric galaxy: knot x, y, weight lengths differ");
      double wsum = 0;
      for (double w : knot_weight) wsum += w;
      DS_REQUIRE(wsum > 0, "parametric galaxy: knot weights sum to 0");
      std::vector<double> f(knot_weight.size());
      for (std::size_t j = 0; j < f.size(); ++j) f[j] = fk * knot_weight[j] / wsum;
      disk.push_back(clumps(gaussian(knot_sigma), knot_x, knot_y, f));
    }
    double g1, g2;
    shear_from_q(disk_q(), disk_angle, g1, g2);
    parts.push_back(shifted(sheared(sum(disk), g1, g2), disk_dx, disk_dy));
  }
  return sum(parts);
}

ParametricGalaxy ParametricPopulation::draw(std::uint64_t seed, std::uint64_t item, double* magnitude,
                                            double* rhalf) const {
  RandomStream r(seed, "parametric", item);
  ParametricGalaxy g;
  // Magnitude from dN/dm ~ 10^(a m) on [mag_min, mag_max] by inverting the CDF.
  const double a = count_slope * std::log(10.0);
  const double u = r.uniform();
  double m;
  if (std::abs(a) < 1e-12) {
    m = mag_min + u * (mag_max - mag_min);
  } else {
    double e0 = std::exp(a * mag_min), e1 = std::exp(a * mag_max);
    m = std::log(e0 + u * (e1 - e0)) / a;
  }
  g.flux = std::pow(10.0, -0.4 * (m - zero_point));
  // Total half-light radius: log-normal about a magnitude-dependent median, clipped.
  double lr = std::log10(rhalf_at_22) + rhalf_mag_slope * (m - 22) + rhalf_scatter_dex * r.normal();
  double rh = std::clamp(std::pow(10.0, lr), rhalf_min, rhalf_max);
  // Bulge-to-total: U^2 (mean 1/3, most galaxies disk-dominated).
  double ub = r.uniform();
  g.bulge_fraction = ub * ub;
  g.bulge_n = 3.5 + 0.5 * double(r.integer(0, 2));  // 3.5, 4 or 4.5
  g.bulge_hlr = rh * r.uniform(0.25, 0.6);
  g.bulge_q = r.uniform(0.6, 1.0);
  g.disk_hlr = rh * r.uniform(0.9, 1.3);
  g.disk_q0 = disk_q0;
  // Random orientation of a thin disk: cos i ~ U(0, 1).
  g.disk_inclination = std::acos(r.uniform());
  g.disk_angle = r.uniform(0, kPi);
  // The bulge is twisted relative to the disk by up to ~20 degrees.
  g.bulge_angle = g.disk_angle + r.normal(0, 10 * kPi / 180);
  // Small centroid offsets between the components: ~3% of r_half.
  g.bulge_dx = r.normal(0, 0.03 * rh);
  g.bulge_dy = r.normal(0, 0.03 * rh);
  g.disk_dx = r.normal(0, 0.03 * rh);
  g.disk_dy = r.normal(0, 0.03 * rh);
  // Knots: positions drawn from the exponential disk (radius ~ Gamma(2, r0)), lumpy weights.
  g.knot_fraction = r.uniform(0, knot_fraction_max);
  const long nk = r.integer(knots_min, knots_max);
  const double r0 = g.disk_hlr / 1.6783469900166605;
  g.knot_sigma = std::max(0.01, 0.08 * g.disk_hlr);
  for (long j = 0; j < nk; ++j) {
    double rad = -r0 * std::log(std::max(1e-300, r.uniform() * r.uniform()));
    rad = std::min(rad, 3 * g.disk_hlr);
    double phi = r.uniform(0, 2 * kPi);
    g.knot_x.push_back(rad * std::cos(phi));
    g.knot_y.push_back(rad * std::sin(phi));
    g.knot_weight.push_back(-std::log(std::max(1e-300, r.uniform())));  // exponential weights
  }
  if (magnitude) *magnitude = m;
  if (rhalf) *rhalf = rh;
  return g;
}

ParametricGalaxy parametric_from_fits(const RealGalaxyRow& row, double flux_scale) {
  DS_REQUIRE(row.has_fits, "parametric twin: row with IDENT " + std::to_string(row.ident) +
                            " has no parametric fits (_fits companion)");
  const double s = row.pixel_scale;
  ParametricGalaxy g;
  g.knot_fraction = 0;
  g.disk_q0 = 0;
  if (row.use_bulgefit) {
    const double fb = row.flux[1], fd = row.flux[2];
    DS_REQUIRE(fb + fd > 0, "parametric twin: IDENT " + std::to_string(row.ident) + " has bulge+disk flux <= 0");
    g.flux = (fb + fd) * flux_scale;
    g.bulge_fraction = std::clamp(fb / (fb + fd), 0.0, 1.0);
    g.bulge_n = 4;
    g.bulge_q = std::clamp(row.bulgefit[11], 0.05, 1.0);
    g.bulge_hlr = std::max(1e-3, row.bulgefit[9] * std::sqrt(g.bulge_q) * s);
    g.bulge_angle = row.bulgefit[15];
    const double qd = std::clamp(row.bulgefit[3], 0.05, 1.0);
    g.disk_hlr = std::max(1e-3, row.bulgefit[1] * std::sqrt(qd) * s);
    g.disk_inclination = std::acos(qd);  // with q0 = 0, disk_q() = cos i = q
    g.disk_angle = row.bulgefit[7];
  } else {
    // Single Sersic as the "bulge" component with all the flux.
    g.flux = row.flux[0] * flux_scale;
    DS_REQUIRE(g.flux > 0, "parametric twin: IDENT " + std::to_string(row.ident) + " has Sersic flux <= 0");
    g.bulge_fraction = 1;
    g.bulge_n = std::clamp(row.sersicfit[2], 0.3, 6.2);
    g.bulge_q = std::clamp(row.sersicfit[3], 0.05, 1.0);
    g.bulge_hlr = std::max(1e-3, row.sersicfit[1] * std::sqrt(g.bulge_q) * s);
    g.bulge_angle = row.sersicfit[7];
  }
  return g;
}

// ---------------------------------------------------------------- stamp pipeline
namespace {
// A profile whose lattice values are remembered per thread for the last
// lattice seen under `key`: the target PSF (x) pixel is the same for every
// stamp of a run, so its k values are computed once per thread.
class LatticeCached final : public Profile {
 public:
  LatticeCached(ProfilePtr p, std::uint64_t key) : p_(std::move(p)), key_(key) {}
  double flux() const override { return p_->flux(); }
  cdouble kvalue(double kx, double ky) const override { return p_->kvalue(kx, ky); }
  double maxk() const override { return p_->maxk(); }
  double stepk() const override { return p_->stepk(); }
  bool has_xvalue() const override { return p_->has_xvalue(); }
  double xvalue(double x, double y) const override { return p_->xvalue(x, y); }
  std::string describe() const override { return p_->describe(); }
  void klattice(const KLattice& L, cdouble* out) const override {
    const std::vector<cdouble>& v = values(L);
    std::copy(v.begin(), v.end(), out);
  }
  // In a convolution: multiplies by the cached values without copying them.
  void klattice_multiply(const KLattice& L, cdouble* inout) const override {
    multiply_lattice(inout, values(L).data(), L.nx * L.ny);
  }

 private:
  const std::vector<cdouble>& values(const KLattice& L) const {
    struct Slot {
      KLattice L;
      std::vector<cdouble> v;
    };
    thread_local std::map<std::uint64_t, Slot> cache;
    Slot& s = cache[key_];
    const bool same = s.L.nx == L.nx && s.L.ny == L.ny && s.L.k0x == L.k0x && s.L.k0y == L.k0y &&
                      s.L.ax == L.ax && s.L.ay == L.ay && s.L.bx == L.bx && s.L.by == L.by;
    if (!same || s.v.size() != std::size_t(L.nx * L.ny)) {
      s.v.resize(std::size_t(L.nx * L.ny));
      p_->klattice(L, s.v.data());
      s.L = L;
    }
    return s.v;
  }
  ProfilePtr p_;
  std::uint64_t key_;
};

std::uint64_t setup_key(const StampSetup& s) {
  std::uint64_t h = 1469598103934665603ULL;
  for (double v : {s.pixel_scale, s.psf_fwhm, s.psf_beta, s.psf_g1, s.psf_g2}) {
    std::uint64_t b;
    std::memcpy(&b, &v, 8);
    h = (h ^ b) * 1099511628211ULL;
  }
  return h;
}
}  // namespace

ProfilePtr StampSetup::psf() const {
  ProfilePtr p = psf_beta > 0 ? moffat(psf_beta, psf_fwhm) : gaussian_fwhm(psf_fwhm);
  if (psf_g1 != 0 || psf_g2 != 0) p = sheared(p, psf_g1, psf_g2);
  return p;
}

void render_stamp(const ProfilePtr& galaxy, const TransformChain& chain, const StampSetup& setup, double offset_x,
                  double offset_y, ImageView<float> out, const RealGalaxyTreatment* real, const NoiseKernel* noise,
                  RandomStream* r) {
  DS_REQUIRE(out.nx() == setup.stamp_size && out.ny() == setup.stamp_size,
          "render_stamp: output is " + std::to_string(out.ny()) + "x" + std::to_string(out.nx()) + ", expected " +
              std::to_string(setup.stamp_size) + "x" + std::to_string(setup.stamp_size));
  DS_REQUIRE(setup.full_size >= setup.stamp_size && (setup.full_size - setup.stamp_size) % 2 == 0,
          "render_stamp: full_size must be >= stamp_size with the same parity (centres must coincide)");
  TransformChain c = chain;
  if (real) {
    c.dilation *= real->size_rescale;
    c.flux_scale *= real->flux_rescale;
  }
  // Target PSF (x) pixel, its k values computed once per thread for this set-up.
  ProfilePtr psf_pix = std::make_shared<LatticeCached>(convolve({setup.psf(), pixel(setup.pixel_scale)}),
                                                       setup_key(setup));
  auto final_profile = convolve({apply_chain(galaxy, c), psf_pix});
  thread_local ImageF full;
  if (full.nx() != setup.full_size) full = ImageF(setup.full_size, setup.full_size);
  DrawOptions o;
  o.scale = setup.pixel_scale;
  o.offset_x = offset_x;
  o.offset_y = offset_y;
  o.max_n = setup.full_size;  // render full_size^2 (periodic), keep the centre
  o.add_pixel = false;         // the pixel is in psf_pix
  draw(*final_profile, full.view(), o);
  const long c0 = (setup.full_size - setup.stamp_size) / 2;
  for (long y = 0; y < setup.stamp_size; ++y)
    for (long x = 0; x < setup.stamp_size; ++x) {
      float v = full(y + c0, x + c0);
      if (real) v = real->cut(v);
      out(y, x) = v;
    }
  if (noise && r) add_correlated_noise(out, *noise, *r);
}

}  // namespace ds::img
