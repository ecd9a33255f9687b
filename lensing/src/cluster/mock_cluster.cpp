// The synthetic lensing cluster (see mock_cluster.hpp for the model and its random streams).
#include "deepshear/lensing/cluster/mock_cluster.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "deepshear/engine/atomic_file.hpp"
#include "deepshear/engine/config.hpp"
#include "deepshear/engine/constants.hpp"
#include "deepshear/engine/error.hpp"
#include "deepshear/engine/fits.hpp"
#include "deepshear/engine/parallel.hpp"
#include "deepshear/engine/provenance.hpp"
#include "deepshear/engine/random.hpp"
#include "deepshear/imaging/draw.hpp"
#include "deepshear/imaging/noise.hpp"
#include "deepshear/imaging/profile.hpp"
#include "deepshear/lensing/training/report_json.hpp"

namespace ds::lens {

namespace {
constexpr double kNoiselessWeight = 1e12;  // finite, passes any exposure cut

std::string num(double v) { return json_number(v, 8); }

void usage_require(bool ok, const std::string& option, double value, const std::string& rule) {
  if (!ok) throw Error::usage("mock-cluster: " + option + " " + num(value) + " " + rule);
}

// Field side in pixels.
long field_pixels(const MockClusterConfig& c) { return std::lround(c.size / c.pixel_scale); }

long background_count(const MockClusterConfig& c) { return std::lround(c.density * c.size * c.size / 3600.0); }

// The radius inside which background galaxies are not placed: the largest theta
// (scanned inwards from theta_max in 0.5% steps down to 0.05") where the lens
// is not weak (1 - kappa <= 0, mu <= 0 or g_t >= max_shear); 0 if none.
double core_radius(const NfwLens& lens, double m200, double max_shear, double theta_max) {
  for (double t = std::max(theta_max, 0.1); t > 0.05; t /= 1.005) {
    const NfwLensing l = lens.lensing(m200, t);
    if (!(1 - l.kappa > 0 && l.mu > 0 && l.g_t < max_shear)) return t * 1.005;
  }
  return 0;
}

// Stamp side (px) for a source of effective radius r_eff (px): 24 r_eff + 16
// rounded up to an FFT size (2^k or 3 2^k, so the stamp is the FFT grid and
// light beyond it folds back in, as in the training stamps), within [64, 512].
long stamp_side(double r_eff_px) {
  return std::clamp(img::good_fft_size(long(std::ceil(24 * r_eff_px + 16))), 64L, 512L);
}

// Draws the positions of all sources in index order, each from its own stream
// (seed, "mock.position", i), redrawn until it keeps min_separation from the
// sources before it (and, for background galaxies, lies outside the core).
// x, y: 0-based px.
void place_sources(const MockClusterConfig& c, long n, std::vector<MockSource>& src, double xcen, double ycen,
                   double core_px) {
  const double lo = c.margin / c.pixel_scale, hi = double(n - 1) - lo;
  const double sep2 = std::pow(c.min_separation / c.pixel_scale, 2);
  for (std::size_t i = 0; i < src.size(); ++i) {
    RandomStream r(c.seed, "mock.position", i);
    bool placed = false;
    for (int attempt = 0; attempt < 20000 && !placed; ++attempt) {
      const double x = r.uniform(lo, hi), y = r.uniform(lo, hi);
      if (src[i].kind == MockKind::Background && std::hypot(x - xcen, y - ycen) < core_px) continue;
      placed = true;
      for (std::size_t j = 0; j < i && placed; ++j)
        placed = (x - src[j].x) * (x - src[j].x) + (y - src[j].y) * (y - src[j].y) >= sep2;
      if (placed) src[i].x = x, src[i].y = y;
    }
    if (!placed)
      throw Error::usage("mock-cluster: cannot place source " + std::to_string(i) + " of " +
                         std::to_string(src.size()) + " at --min-separation " + num(c.min_separation) +
                         " arcsec: the field is too crowded (lower --density, --stars or --foreground)");
  }
}

// Renders source s (its profile and lensing) on its own stamp, its true
// position's sub-pixel offset applied as a shift at the end of the chain (as
// the training stamps' centroid shifts); returns the stamp (stamp x stamp px)
// whose pixel (0, 0) lies at field pixel (x0, y0).
ImageF render_source(const MockSource& s, const img::ProfilePtr& profile, img::TransformChain chain,
                     const img::StampSetup& setup, long& x0, long& y0) {
  img::StampSetup st = setup;
  st.full_size = st.stamp_size = s.stamp;
  x0 = std::lround(s.x) - s.stamp / 2;
  y0 = std::lround(s.y) - s.stamp / 2;
  // The stamp centre ((N-1)/2, DESIGN.md) sits at field pixel x0 + (N-1)/2.
  chain.shift_x = (s.x - (double(x0) + 0.5 * double(s.stamp - 1))) * setup.pixel_scale;
  chain.shift_y = (s.y - (double(y0) + 0.5 * double(s.stamp - 1))) * setup.pixel_scale;
  ImageF out(s.stamp, s.stamp);
  img::render_stamp(profile, chain, st, 0, 0, out.view());
  return out;
}
}  // namespace

img::ParametricPopulation MockClusterConfig::bright_population() {
  img::ParametricPopulation p;
  p.mag_min = 18, p.mag_max = 21;
  p.rhalf_at_22 *= 1.5;
  p.rhalf_max = 2.0;
  return p;
}

long MockCluster::count(MockKind k) const {
  return long(std::count_if(truth.begin(), truth.end(), [&](const MockSource& s) { return s.kind == k; }));
}

void check_mock_cluster_config(const MockClusterConfig& c) {
  usage_require(c.pixel_scale > 0 && c.pixel_scale < 10, "--pixel-scale", c.pixel_scale, "arcsec/px must be in (0, 10)");
  usage_require(std::isfinite(c.size) && c.size / c.pixel_scale >= 64 && c.size / c.pixel_scale <= 20000, "--size",
                c.size, "arcsec must span 64 to 20000 pixels");
  usage_require(c.density >= 0 && c.density <= 1000, "--density", c.density, "per arcmin^2 must be in [0, 1000]");
  usage_require(c.m200 > 0 && c.m200 < 1e17, "--m200", c.m200, "Msun must be in (0, 1e17)");
  usage_require(std::isfinite(c.concentration) && c.concentration < 100, "--concentration", c.concentration,
                "must be < 100 (<= 0: Duffy et al. 2008)");
  usage_require(c.z_lens > 0 && c.z_lens < 10, "--z-lens", c.z_lens, "must be in (0, 10)");
  usage_require(c.z_source > c.z_lens && c.z_source < 20, "--z-source", c.z_source, "must exceed --z-lens");
  usage_require(c.stars >= 0 && c.stars <= 100000, "--stars", double(c.stars), "must be in [0, 100000]");
  usage_require(c.foreground >= 0 && c.foreground <= 100000, "--foreground", double(c.foreground),
                "must be in [0, 100000]");
  usage_require(c.psf_fwhm > 0 && c.psf_fwhm < 10, "--psf-fwhm", c.psf_fwhm, "arcsec must be in (0, 10)");
  usage_require(c.noise_scale >= 0 && std::isfinite(c.noise_scale), "--noise-scale", c.noise_scale, "must be >= 0");
  usage_require(c.min_separation >= 0, "--min-separation", c.min_separation, "arcsec must be >= 0");
  usage_require(c.margin >= 0 && 2 * c.margin < c.size, "--margin", c.margin, "arcsec must be in [0, size/2)");
  usage_require(c.max_shear > 0 && c.max_shear < 1, "--max-shear", c.max_shear, "must be in (0, 1)");
  usage_require(c.mask_corner >= 0 && c.mask_corner <= c.size, "--mask-corner", c.mask_corner,
                "arcsec must be in [0, size]");
  usage_require(c.dec > -89 && c.dec < 89, "--dec", c.dec, "deg must be in (-89, 89)");
  usage_require(std::isfinite(c.ra), "--ra", c.ra, "must be finite");
  usage_require(std::isfinite(c.centre_dx) && std::isfinite(c.centre_dy), "--centre", c.centre_dx,
                "must be finite");
}

long mock_cluster_sources(const MockClusterConfig& c) { return background_count(c) + c.stars + c.foreground; }

namespace {

// The field's WCS, cluster centre (px, 0-based, and RA/Dec), the halo's
// concentration and the source-free core radius theta_min (arcsec).
void mock_geometry(const MockClusterConfig& c, const NfwLens& lens, MockCluster& m) {
  const long n = field_pixels(c);
  const double scale = c.pixel_scale;
  const double crpix = 0.5 * double(n + 1);  // 1-based: the field centre
  m.wcs = img::TanWcs(crpix, crpix, c.ra, c.dec, -scale / 3600, 0, 0, scale / 3600);
  m.xcen = 0.5 * double(n - 1) + c.centre_dx / scale;
  m.ycen = 0.5 * double(n - 1) + c.centre_dy / scale;
  m.wcs.pixel_to_world(m.xcen, m.ycen, m.ra_cen, m.dec_cen);
  m.concentration = NfwHalo::make(c.m200, c.z_lens, c.concentration, c.cosmo).c;
  const double theta_max = std::hypot(std::max(m.xcen, double(n - 1) - m.xcen), std::max(m.ycen, double(n - 1) - m.ycen)) * scale;
  m.theta_min = core_radius(lens, c.m200, c.max_shear, theta_max);
}

// Source i's truth (position on the sky, magnitude, size, lensing) and its
// stamp, whose corner in the field goes to (x0, y0) px.
ImageF draw_mock_source(const MockClusterConfig& c, const MockCluster& m, const NfwLens& lens, long i, MockSource& s,
                        long& x0, long& y0) {
  const double scale = c.pixel_scale, zp = c.background_population.zero_point;
  m.wcs.pixel_to_world(s.x, s.y, s.ra, s.dec);
  s.theta = std::hypot(s.x - m.xcen, s.y - m.ycen) * scale;
  img::ProfilePtr profile;
  img::TransformChain chain;
  double r_eff = 0;  // arcsec, for the stamp size
  if (s.kind == MockKind::Star) {
    s.mag = RandomStream(c.seed, "mock.star", std::uint64_t(i)).uniform(c.star_mag_min, c.star_mag_max);
    profile = img::delta(std::pow(10.0, -0.4 * (s.mag - zp)));
  } else {
    const bool bg = s.kind == MockKind::Background;
    const auto& pop = bg ? c.background_population : c.foreground_population;
    const std::uint64_t seed = c.seed ^ purpose_hash(bg ? "mock.background" : "mock.foreground");
    double mag = 0;
    profile = pop.draw(seed, std::uint64_t(i), &mag, &s.r_half).profile();
    // Orientation as the training stamps' augmentation (iv).
    RandomStream r(c.seed, "mock.orient", std::uint64_t(i));
    chain.rotation = r.uniform(0, 2 * kPi);
    chain.mirror = r.uniform() < 0.5;
    if (bg && s.theta > 0) {
      const NfwLensing l = lens.lensing(c.m200, s.theta);
      const double phi = std::atan2(s.y - m.ycen, s.x - m.xcen);
      s.g1 = -l.g_t * std::cos(2 * phi), s.g2 = -l.g_t * std::sin(2 * phi);
      s.kappa = l.kappa, s.mu = l.mu;
      chain.g1 = s.g1, chain.g2 = s.g2, chain.mu = s.mu;
    }
    s.mag = mag - 2.5 * std::log10(s.mu);
    r_eff = s.r_half * std::sqrt(s.mu) / (1 - std::hypot(s.g1, s.g2));
  }
  s.stamp = stamp_side(r_eff / scale);
  img::StampSetup setup;
  setup.pixel_scale = scale;
  setup.psf_fwhm = c.psf_fwhm;
  return render_source(s, profile, chain, setup, x0, y0);
}

// Correlated noise over the whole field, the inverse variance, and the
// masked corner (image and weight 0).
void add_noise_and_weight(const MockClusterConfig& c, MockCluster& m) {
  const long n = m.image.ny();
  if (c.noise_scale > 0) {
    const img::NoiseKernel k =
        (c.noise_kernel.empty() ? img::NoiseKernel::load_default() : img::NoiseKernel::load(c.noise_kernel))
            .scaled(c.noise_scale);
    m.noise_rms = k.rms();
    RandomStream r(c.seed, "mock.noise", 0);
    img::add_correlated_noise(m.image.view(), k, r);
  }
  m.weight = ImageF(n, n, float(m.noise_rms > 0 ? 1 / (m.noise_rms * m.noise_rms) : kNoiselessWeight));
  if (c.mask_corner > 0) {
    const long side = std::min(n, std::lround(c.mask_corner / c.pixel_scale));
    for (long y = n - side; y < n; ++y)
      for (long x = n - side; x < n; ++x) m.image(y, x) = 0, m.weight(y, x) = 0;
  }
}

}  // namespace

MockCluster make_mock_cluster(const MockClusterConfig& c, Progress* progress) {
  check_mock_cluster_config(c);
  MockCluster m;
  m.config = c;
  const long n = field_pixels(c);
  NfwLens lens = NfwLens::with_source_redshift(c.z_lens, c.z_source, c.concentration, c.cosmo);
  mock_geometry(c, lens, m);

  // The sources: background galaxies, then stars, then foreground galaxies.
  const long nb = background_count(c), total = mock_cluster_sources(c);
  m.truth.resize(std::size_t(total));
  for (long i = 0; i < total; ++i) {
    MockSource& s = m.truth[std::size_t(i)];
    s.id = i;
    s.kind = i < nb ? MockKind::Background : i < nb + c.stars ? MockKind::Star : MockKind::Foreground;
  }
  place_sources(c, n, m.truth, m.xcen, m.ycen, m.theta_min / c.pixel_scale);

  const std::size_t count = std::size_t(total);
  std::vector<ImageF> stamps(count);
  std::vector<long> x0(count), y0(count);
  parallel_for(total, [&](long i, int) {
    const auto k = std::size_t(i);
    stamps[k] = draw_mock_source(c, m, lens, i, m.truth[k], x0[k], y0[k]);
    if (progress) progress->tick();
  });

  // Sum the stamps into the field in index order (the same sums on any thread count).
  m.image = ImageF(n, n);
  for (long i = 0; i < total; ++i) {
    const ImageF& st = stamps[std::size_t(i)];
    const long ax = x0[std::size_t(i)], ay = y0[std::size_t(i)];
    for (long y = std::max(0L, -ay); y < st.ny() && ay + y < n; ++y)
      for (long x = std::max(0L, -ax); x < st.nx() && ax + x < n; ++x) m.image(ay + y, ax + x) += st(y, x);
  }
  stamps.clear();
  add_noise_and_weight(c, m);
  return m;
}

namespace {
// An image of the mock field with its TAN WCS and the mock's keys, atomically.
void write_field_image(const MockCluster& m, const ImageF& image, const std::string& path, const std::string& bunit,
                       const std::string& bunit_comment) {
  fits::FitsWriter w(path);
  w.write_image(image, fits::PixelType::Float32);
  m.wcs.write_header(w);
  w.write_key("MAGZERO", m.config.background_population.zero_point, "AB zero point (CLASH total images)");
  w.write_key("PIXSCALE", m.config.pixel_scale, "[arcsec] per pixel");
  w.write_key("PSF_FWHM", m.config.psf_fwhm, "Gaussian PSF FWHM [arcsec]");
  w.write_key("NOISERMS", m.noise_rms, "RMS of the correlated noise (0: noiseless)");
  w.write_key("MOCK", true, "deepshear mock-cluster field");
  w.write_key("BUNIT", bunit, bunit_comment);
  w.commit();
}
}  // namespace

namespace {

// mock_cluster.json: the files, source counts, the field and the configuration.
Json mock_cluster_json(const MockCluster& m) {
  auto jnum = [](double v) { return json_printed(v, "%.8g"); };
  const MockClusterConfig& c = m.config;
  Json config = {{"size", jnum(c.size)}, {"pixel_scale", jnum(c.pixel_scale)}, {"density", jnum(c.density)},
                 {"m200", jnum(c.m200)}, {"concentration", jnum(c.concentration)}, {"z_lens", jnum(c.z_lens)},
                 {"z_source", jnum(c.z_source)}, {"omega_m", jnum(c.cosmo.omega_m)}, {"h0", jnum(c.cosmo.h0)},
                 {"centre", {jnum(c.centre_dx), jnum(c.centre_dy)}}, {"stars", c.stars},
                 {"foreground", c.foreground}, {"psf_fwhm", jnum(c.psf_fwhm)}, {"noise_kernel", c.noise_kernel},
                 {"noise_scale", jnum(c.noise_scale)}, {"seed", c.seed}, {"min_separation", jnum(c.min_separation)},
                 {"margin", jnum(c.margin)}, {"max_shear", jnum(c.max_shear)}, {"mask_corner", jnum(c.mask_corner)},
                 {"ra", jnum(c.ra)}, {"dec", jnum(c.dec)}};
  return {{"files", {{"image", "mock_sci.fits"}, {"weight", "mock_wht.fits"}, {"truth", "mock_truth.fits"}}},
          {"counts", {{"background", m.count(MockKind::Background)}, {"stars", m.count(MockKind::Star)},
                      {"foreground", m.count(MockKind::Foreground)}, {"total", m.truth.size()}}},
          {"image", {{"nx", m.image.nx()}, {"ny", m.image.ny()}, {"noise_rms", jnum(m.noise_rms)},
                     {"xcen", jnum(m.xcen)}, {"ycen", jnum(m.ycen)}, {"ra_cen", jnum(m.ra_cen)},
                     {"dec_cen", jnum(m.dec_cen)}, {"concentration", jnum(m.concentration)},
                     {"theta_min", jnum(m.theta_min)}}},
          {"config", config}};
}

}  // namespace

void write_mock_cluster(const MockCluster& m, const std::string& dir) {
  std::filesystem::create_directories(dir);
  write_field_image(m, m.image, dir + "/mock_sci.fits", "adu", "sky-subtracted counts per pixel, zero point MAGZERO");
  write_field_image(m, m.weight, dir + "/mock_wht.fits", "adu**(-2)", "inverse variance of mock_sci.fits");
  {
    std::vector<std::int64_t> id;
    std::vector<std::int32_t> kind, stamp;
    std::vector<double> x, y, ra, dec, mag, rh, g1, g2, kappa, mu, theta;
    for (const MockSource& s : m.truth) {
      id.push_back(s.id), kind.push_back(int(s.kind)), stamp.push_back(std::int32_t(s.stamp));
      x.push_back(s.x), y.push_back(s.y), ra.push_back(s.ra), dec.push_back(s.dec), mag.push_back(s.mag);
      rh.push_back(s.r_half), g1.push_back(s.g1), g2.push_back(s.g2), kappa.push_back(s.kappa), mu.push_back(s.mu);
      theta.push_back(s.theta);
    }
    using fits::TableColumn;
    fits::FitsWriter w(dir + "/mock_truth.fits");
    w.write_table({TableColumn::int64s("ID", id),
                   TableColumn::doubles("X", x, 1, "pixel").described("x, 0-based: first pixel centre at 0"),
                   TableColumn::doubles("Y", y, 1, "pixel").described("y, 0-based: first pixel centre at 0"),
                   TableColumn::doubles("RA", ra, 1, "deg"),
                   TableColumn::doubles("DEC", dec, 1, "deg"), TableColumn::int32s("KIND", kind),
                   TableColumn::doubles("MAG", mag, 1, "mag"), TableColumn::doubles("R_HALF", rh, 1, "arcsec"),
                   TableColumn::doubles("G1", g1).described("reduced shear, image x, y frame"),
                   TableColumn::doubles("G2", g2).described("reduced shear, image x, y frame"),
                   TableColumn::doubles("KAPPA", kappa), TableColumn::doubles("MU", mu).described("magnification"),
                   TableColumn::doubles("THETA", theta, 1, "arcsec").described("distance from the cluster centre"),
                   TableColumn::int32s("STAMP", stamp, 1, "pixel").described("side of the drawn stamp")},
                  "TRUTH");
    const MockClusterConfig& c = m.config;
    w.write_key("M200", c.m200, "NFW M200c [Msun]");
    w.write_key("CONC", m.concentration, "NFW concentration c200");
    w.write_key("Z_LENS", c.z_lens, "lens redshift");
    w.write_key("Z_SRC", c.z_source, "redshift of every background source");
    w.write_key("XCEN", m.xcen, "cluster centre x, 0-based px");
    w.write_key("YCEN", m.ycen, "cluster centre y, 0-based px");
    w.write_key("RA_CEN", m.ra_cen, "cluster centre RA [deg]");
    w.write_key("DEC_CEN", m.dec_cen, "cluster centre Dec [deg]");
    w.write_key("OMEGA_M", c.cosmo.omega_m, "flat LambdaCDM");
    w.write_key("H0", c.cosmo.h0, "km/s/Mpc");
    w.write_key("SEED", (long long)c.seed, "random seed");
    w.write_key("THETAMIN", m.theta_min, "no background source inside [arcsec] (strong-lensing core)");
    w.write_key("KINDS", "KIND: 0 lensed background galaxy, 1 star, 2 foreground galaxy");
    w.commit();
  }
  write_text_atomic(dir + "/mock_cluster.json", report_text(mock_cluster_json(m)));
}

}  // namespace ds::lens
