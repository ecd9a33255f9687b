#include "deepshear/lensing/training/stamp_set.hpp"

#include <cmath>
#include <cstring>
#include <filesystem>

#include "deepshear/engine/constants.hpp"
#include "deepshear/engine/data_path.hpp"
#include "deepshear/engine/error.hpp"
#include "deepshear/engine/fits.hpp"
#include "deepshear/engine/parallel.hpp"
#include "deepshear/engine/random.hpp"
#include "deepshear/engine/ranks.hpp"
#include "deepshear/lensing/training/population.hpp"
#include "deepshear/nn/inference.hpp"

namespace ds::lens {

const char* split_name(Split s) {
  switch (s) {
    case Split::Train: return "train";
    case Split::Calibration: return "calibration";
    case Split::Test: return "test";
  }
  return "?";
}

static Split parse_split(const std::string& s, const std::string& key) {
  if (s == "train") return Split::Train;
  if (s == "calibration") return Split::Calibration;
  if (s == "test") return Split::Test;
  throw Error("key '" + key + "': split '" + s + "' is not train, calibration or test", Error::Kind::Usage);
}

void add_stamp_set_params(Config& c, const std::string& p, const StampSetConfig& d) {
  c.add_string(p + "source", d.source, "galaxy source: parametric, or a RealGalaxyCatalog FITS file");
  c.add_int(p + "seed", long(d.seed), "random seed of the set");
  c.add_string(p + "split", split_name(d.split), "disjoint source split: train, calibration or test");
  c.add_int(p + "n", d.n, "number of stamps");
  c.add_double(p + "shear_range", d.shear_range, "shears uniform in [-range, range] per component");
  c.add_double(p + "shear_sigma", d.shear_sigma, "> 0: Gaussian shears of this sigma, truncated to the range");
  c.add_bool(p + "rotate_mirror", d.rotate_mirror, "augmentation (iv): random rotation and mirror");
  c.add_double(p + "size_jitter", d.size_jitter, "augmentation (ii): size scaled uniformly within +-jitter");
  c.add_double(p + "shift_range", d.shift_range, "augmentation (iii): centroid shift uniform within +-range px");
  c.add_double(p + "mu_range", d.mu_range, "magnification uniform in 1 +- range/2");
  c.add_bool(p + "magnitude_segments", d.magnitude_segments,
             "augmentation (i): equal numbers per COSMOS magnitude segment (catalogue source)");
  c.add_string(p + "match_population", d.match_population,
               "target (magnitude, r_half) table or FITS catalogue to match by resampling ('' = off)");
  c.add_int(p + "match_bins", d.match_bins, "bins per axis of the population-matching histograms");
  c.add_double(p + "centroid_fraction", d.centroid_fraction,
               "extra centroid shift within a disk of this fraction of r_half (evaluation)");
  c.add_double(p + "background", d.background, "constant added to every stamp (evaluation)");
  c.add_string(p + "noise_kernel", d.noise_kernel, "7x7 noise kernel file ('' = the shipped default)");
  c.add_double(p + "noise_scale", d.noise_scale, "noise kernel scale factor (0 = noiseless)");
  c.add_double(p + "pixel_scale", d.setup.pixel_scale, "target pixel scale [arcsec/px]");
  c.add_double(p + "psf_fwhm", d.setup.psf_fwhm, "target PSF FWHM [arcsec] (Gaussian)");
  // What a value may be, checked when it is set (a usage error naming the key).
  c.range(p + "seed", 0, 9.2e18).range(p + "n", 1, 1e10).range(p + "shear_range", 0, 0.999);
  c.range(p + "shear_sigma", 0, 1).range(p + "size_jitter", 0, 0.99).range(p + "shift_range", 0, 1e3);
  c.range(p + "mu_range", 0, 1.99).range(p + "match_bins", 1, 1000).range(p + "centroid_fraction", 0, 10);
  c.range(p + "noise_scale", 0, 1e6).range(p + "pixel_scale", 1e-4, 100).range(p + "psf_fwhm", 1e-4, 100);
  c.range(p + "background", -1e30, 1e30);
}

StampSetConfig stamp_set_from_config(const Config& c, const std::string& p) {
  StampSetConfig s;
  s.source = c.get_string(p + "source");
  s.seed = std::uint64_t(c.get_int(p + "seed"));
  s.split = parse_split(c.get_string(p + "split"), p + "split");
  s.n = c.get_int(p + "n");
  s.shear_range = c.get_double(p + "shear_range");
  s.shear_sigma = c.get_double(p + "shear_sigma");
  s.rotate_mirror = c.get_bool(p + "rotate_mirror");
  s.size_jitter = c.get_double(p + "size_jitter");
  s.shift_range = c.get_double(p + "shift_range");
  s.mu_range = c.get_double(p + "mu_range");
  s.magnitude_segments = c.get_bool(p + "magnitude_segments");
  s.match_population = c.get_string(p + "match_population");
  s.match_bins = int(c.get_int(p + "match_bins"));
  s.centroid_fraction = c.get_double(p + "centroid_fraction");
  s.background = c.get_double(p + "background");
  s.noise_kernel = c.get_string(p + "noise_kernel");
  s.noise_scale = c.get_double(p + "noise_scale");
  s.setup.pixel_scale = c.get_double(p + "pixel_scale");
  s.setup.psf_fwhm = c.get_double(p + "psf_fwhm");
  require(s.n > 0, "key '" + p + "n' must be positive");
  require(s.shear_range >= 0 && s.shear_range < 1, "key '" + p + "shear_range' must be in [0, 1)");
  return s;
}

std::string default_noise_kernel_path() { return data_path("noise_kernel_default.txt"); }

static img::NoiseKernel load_kernel(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  return (ext == ".fits" || ext == ".fit" || ext == ".gz") ? img::NoiseKernel::load_fits(path)
                                                           : img::NoiseKernel::load_text(path);
}

namespace {

// The catalogue rows of one split, and the COSMOS magnitude segments.
struct CatalogueSplit {
  std::vector<long> rows;
  std::vector<std::vector<long>> segments;  // rows per magnitude segment
  std::unique_ptr<WeightedSampler> matched; // over rows, when matching a population
};

CatalogueSplit split_rows(const img::RealGalaxyCatalog& cat, const StampSetConfig& c) {
  CatalogueSplit s;
  s.segments.resize(3);
  const double edges[] = {16, 19.5, 21.5, 23.5};
  for (std::size_t i = 0; i < cat.size(); ++i) {
    // A row's split is fixed by the seed alone, so train, calibration and
    // test sets made with one seed never share a source.
    double u = RandomStream(c.seed, "split", i).uniform();
    Split which = u < c.test_fraction ? Split::Test
                  : u < c.test_fraction + c.calibration_fraction ? Split::Calibration
                                                                 : Split::Train;
    if (which != c.split) continue;
    s.rows.push_back(long(i));
    double m = cat.row(i).mag;
    for (int k = 0; k < 3; ++k)
      if (m >= edges[k] && m < edges[k + 1]) s.segments[std::size_t(k)].push_back(long(i));
  }
  if (s.rows.empty())
    throw Error(c.source + ": no catalogue rows fall in the " + std::string(split_name(c.split)) + " split");
  if (!c.match_population.empty()) {
    PopulationSample src;
    for (long r : s.rows) {
      const auto& row = cat.row(std::size_t(r));
      double rh = row.flux_radius > 0 ? row.flux_radius * row.pixel_scale * c.treatment.size_rescale : NAN;
      src.magnitude.push_back(row.mag);
      src.log_rhalf.push_back(rh > 0 ? std::log10(rh) : NAN);
    }
    s.matched = std::make_unique<WeightedSampler>(
        population_weights(src, read_population(c.match_population), c.match_bins));
  }
  return s;
}

}  // namespace

// Everything a set needs that does not change from stamp to stamp, loaded once,
// and the drawing of one stamp from it.
struct StampRenderer::Impl {
  StampSetConfig cfg;
  img::NoiseKernel kernel;
  bool noisy = false, parametric = true;
  std::shared_ptr<const img::RealGalaxyCatalog> cat;
  std::unique_ptr<img::RealGalaxySource> real;
  CatalogueSplit split;
  std::uint64_t source_seed = 0;
  std::string purpose, noise_purpose;

  // The source of stamp i (t.source, t.magnitude, t.rhalf set); real galaxies
  // also set the chain's dilation and flux scale and return their treatment.
  img::ProfilePtr draw_source(long i, RandomStream& r, StampTruth& t, img::TransformChain& chain,
                              const img::RealGalaxyTreatment*& treatment) const;
  // The augmentations and the lensing of stamp i, in the order of the draws.
  void draw_transforms(RandomStream& r, StampTruth& t, img::TransformChain& chain) const;
  // Stamp i (size^2 floats at out) and its truth.
  void draw_stamp(long i, StampTruth& t, ImageView<float> out) const;
};

StampRenderer::StampRenderer(const StampSetConfig& c) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.cfg = c;
  m.noisy = c.noise_scale > 0;
  if (m.noisy)
    m.kernel = load_kernel(c.noise_kernel.empty() ? default_noise_kernel_path() : c.noise_kernel).scaled(c.noise_scale);
  m.parametric = c.source == "parametric";
  if (!m.parametric) {
    m.cat = std::make_shared<const img::RealGalaxyCatalog>(img::RealGalaxyCatalog::load(c.source));
    m.real = std::make_unique<img::RealGalaxySource>(m.cat);
    m.split = split_rows(*m.cat, c);
  }
  // Parametric sources of different splits come from different seeds.
  m.source_seed = c.seed ^ purpose_hash(std::string("source.") + split_name(c.split));
  m.purpose = std::string("stamp.") + split_name(c.split);
  m.noise_purpose = std::string("noise.") + split_name(c.split);
}

StampRenderer::~StampRenderer() = default;

const StampSetConfig& StampRenderer::config() const { return impl_->cfg; }

img::ProfilePtr StampRenderer::Impl::draw_source(long i, RandomStream& r, StampTruth& t, img::TransformChain& chain,
                                                 const img::RealGalaxyTreatment*& treatment) const {
  const StampSetConfig& c = cfg;
  if (parametric) {
    t.source = i;
    return c.population.draw(source_seed, std::uint64_t(i), &t.magnitude, &t.rhalf).profile();
  }
  const std::vector<long>* pool = &split.rows;
  if (c.magnitude_segments) {
    const auto& seg = split.segments[std::size_t(i % 3)];
    if (!seg.empty()) pool = &seg;
  }
  if (split.matched && pool == &split.rows)
    t.source = split.rows[(*split.matched)(r)];
  else
    t.source = (*pool)[std::size_t(r.integer(0, long(pool->size()) - 1))];
  const auto& row = cat->row(std::size_t(t.source));
  t.magnitude = row.mag;
  t.rhalf = row.flux_radius > 0 ? row.flux_radius * row.pixel_scale * c.treatment.size_rescale : NAN;
  chain.dilation = c.treatment.size_rescale;
  chain.flux_scale = c.treatment.flux_rescale;
  treatment = &c.treatment;
  return real->profile(std::size_t(t.source));
}

// A shear component: uniform in +-shear_range, or Gaussian truncated to it.
static double draw_shear(const StampSetConfig& c, RandomStream& r) {
  if (c.shear_sigma <= 0) return r.uniform(-c.shear_range, c.shear_range);
  double g;
  do g = r.normal(0, c.shear_sigma);
  while (std::abs(g) > c.shear_range);
  return g;
}

void StampRenderer::Impl::draw_transforms(RandomStream& r, StampTruth& t, img::TransformChain& chain) const {
  const StampSetConfig& c = cfg;
  const double scale = c.setup.pixel_scale;
  t.dilation = c.size_jitter > 0 ? r.uniform(1 - c.size_jitter, 1 + c.size_jitter) : 1.0;
  chain.dilation *= t.dilation;
  if (c.rotate_mirror) {
    t.rotation = r.uniform(0, 2 * kPi);
    t.mirror = r.uniform() < 0.5;
  }
  chain.rotation = t.rotation;
  chain.mirror = t.mirror;
  t.g1 = draw_shear(c, r);
  t.g2 = draw_shear(c, r);
  if (c.mu_range > 0) t.mu = 1 + (r.uniform() - 0.5) * c.mu_range;
  chain.g1 = t.g1, chain.g2 = t.g2, chain.mu = t.mu;
  if (c.shift_range > 0) {
    t.dx = r.uniform(-c.shift_range, c.shift_range);
    t.dy = r.uniform(-c.shift_range, c.shift_range);
  }
  if (c.centroid_fraction > 0 && std::isfinite(t.rhalf)) {
    double rad = c.centroid_fraction * t.rhalf / scale * std::sqrt(r.uniform()), ang = r.uniform(0, 2 * kPi);
    t.dx += rad * std::cos(ang);
    t.dy += rad * std::sin(ang);
  }
  chain.shift_x = t.dx * scale;
  chain.shift_y = t.dy * scale;
}

// The ideal S/N of StampTruth::snr: flux over noise_rms sqrt(4 pi s^2), s^2 in px^2.
static double ideal_snr(double flux, double rhalf, double dilation, const img::StampSetup& setup, double noise_rms) {
  const double scale = setup.pixel_scale;
  double sp = setup.psf_fwhm / 2.3548 / scale, sg = rhalf * dilation / 1.1774 / scale;
  return noise_rms > 0 ? flux / (noise_rms * std::sqrt(4 * kPi * (sg * sg + sp * sp))) : INFINITY;
}

void StampRenderer::Impl::draw_stamp(long i, StampTruth& t, ImageView<float> stamp) const {
  const StampSetConfig& c = cfg;
  RandomStream r(c.seed, purpose, std::uint64_t(i));
  img::TransformChain chain;
  const img::RealGalaxyTreatment* treatment = nullptr;
  img::ProfilePtr galaxy = draw_source(i, r, t, chain, treatment);
  draw_transforms(r, t, chain);
  RandomStream noise_stream(c.seed, noise_purpose, std::uint64_t(i));
  double flux = galaxy->flux() * chain.flux_scale * (treatment ? treatment->flux_factor : 1.0);
  t.snr = ideal_snr(flux, t.rhalf, t.dilation, c.setup, noisy ? kernel.rms() : 0.0);
  img::render_stamp(galaxy, chain, c.setup, 0, 0, stamp, treatment, noisy ? &kernel : nullptr,
                    noisy ? &noise_stream : nullptr);
  if (c.background != 0) stamp.for_each([&](float& v) { v += float(c.background); });
}

StampSet StampRenderer::render(long first, long n, Progress* progress) const {
  const long size = impl_->cfg.setup.stamp_size;
  StampSet out;
  out.stamps.resize({n, size, size});
  out.truth.resize(std::size_t(n));
  parallel_for(n, [&](long local, int) {
    ImageView<float> stamp(out.stamps.data() + local * size * size, size, size);
    impl_->draw_stamp(first + local, out.truth[std::size_t(local)], stamp);
    if (progress) progress->tick();
  });
  return out;
}

void network_inputs(const StampSet& s, long first, long n, float* x, float* y) {
  const long m = s.stamps.dim(1) * s.stamps.dim(2);
  for (long k = 0; k < n; ++k) {
    nn::normalise_stamp(s.stamps.data() + (first + k) * m, m, x + k * m);
    y[2 * k] = float(s.truth[std::size_t(first + k)].g1);
    y[2 * k + 1] = float(s.truth[std::size_t(first + k)].g2);
  }
}

StampSet make_stamp_set(const StampSetConfig& c, Progress* progress) {
  return StampRenderer(c).render(c.first, c.n, progress);
}

// One truth field of every stamp of a set, as a column of type T.
template <class T, class F>
static std::vector<T> truth_column(const StampSet& s, F field) {
  std::vector<T> v;
  v.reserve(s.truth.size());
  for (const StampTruth& t : s.truth) v.push_back(T(field(t)));
  return v;
}

StampSet render_across_ranks(const StampSetConfig& cfg, Progress* progress, bool to_all) {
  const auto [first, last] = rank_range(cfg.n);
  const StampSet part = StampRenderer(cfg).render(cfg.first + first, last - first, progress);
  if (ranks().size == 1) return part;
  const std::size_t bytes = sizeof(float) * std::size_t(part.stamps.size());
  const std::vector<char> pixels =
      to_all ? gather_to_all(part.stamps.data(), bytes) : gather_to_root(part.stamps.data(), bytes);
  StampSet whole;
  whole.truth = to_all ? gather_vector_to_all(part.truth) : gather_vector(part.truth);
  if (!ranks().root() && !to_all) return whole;
  whole.stamps = Tensor({cfg.n, cfg.setup.stamp_size, cfg.setup.stamp_size});
  std::memcpy(whole.stamps.data(), pixels.data(), pixels.size());
  return whole;
}

std::vector<fits::TableColumn> truth_table(const StampSet& s, const StampSetConfig& c) {
  using TC = fits::TableColumn;
  return {TC::doubles("G1", truth_column<double>(s, [](auto& t) { return t.g1; })),
          TC::doubles("G2", truth_column<double>(s, [](auto& t) { return t.g2; })),
          TC::doubles("MU", truth_column<double>(s, [](auto& t) { return t.mu; })),
          TC::doubles("MAG", truth_column<double>(s, [](auto& t) { return t.magnitude; })),
          TC::doubles("R_HALF", truth_column<double>(s, [](auto& t) { return t.rhalf; }), 1, "arcsec"),
          TC::doubles("SNR", truth_column<double>(s, [](auto& t) { return t.snr; })),
          TC::int64s("SOURCE_INDEX", truth_column<std::int64_t>(s, [](auto& t) { return t.source; })),
          TC::doubles("ROTATION", truth_column<double>(s, [](auto& t) { return t.rotation; }), 1, "rad"),
          TC::int32s("MIRROR", truth_column<std::int32_t>(s, [](auto& t) { return t.mirror ? 1 : 0; })),
          TC::doubles("DILATION", truth_column<double>(s, [](auto& t) { return t.dilation; })),
          TC::doubles("OFFSET_X", truth_column<double>(s, [](auto& t) { return t.dx; }), 1, "pixel"),
          TC::doubles("OFFSET_Y", truth_column<double>(s, [](auto& t) { return t.dy; }), 1, "pixel"),
          TC::int64s("SEED", std::vector<std::int64_t>(s.truth.size(), std::int64_t(c.seed)))};
}

void write_stamp_set_fits(const std::string& path, const StampSet& s, const StampSetConfig& c) {
  fits::FitsWriter w(path);
  w.write_cube(s.stamps, fits::PixelType::Float32);
  w.write_key("SOURCE", c.source, "galaxy source");
  w.write_key("SPLIT", split_name(c.split), "source split");
  w.write_key("PIXSCALE", c.setup.pixel_scale, "[arcsec] per pixel");
  w.write_key("PSFFWHM", c.setup.psf_fwhm, "target PSF FWHM [arcsec]");
  w.write_key("SEED", (long long)c.seed, "random seed");
  w.write_key("NOISE", c.noise_scale <= 0 ? "none" : c.noise_kernel.empty() ? "default" : c.noise_kernel,
              "noise kernel");
  w.write_key("NOISESCL", c.noise_scale, "noise kernel scale");
  w.write_table(truth_table(s, c), "TRUTH");
  w.commit();
}

}  // namespace ds::lens
