// deepshear simulate: N training/test stamps and their truth from a config
// file: a FITS file with the (N, 32, 32) float32 cube in the primary HDU and a
// binary table TRUTH (g1, g2, mu, magnitude, r_half, source index, rotation,
// mirror, dilation, offsets, seed), plus OUT.cfg with the effective configuration.
// Every stamp's draws come from RandomStream(seed, purpose, stamp index), so the
// output does not depend on the thread count.
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli.hpp"
#include "deepshear/engine/atomic_file.hpp"
#include "deepshear/engine/config.hpp"
#include "deepshear/engine/error.hpp"
#include "deepshear/engine/fits.hpp"
#include "deepshear/engine/log.hpp"
#include "deepshear/engine/parallel.hpp"
#include "deepshear/engine/progress.hpp"
#include "deepshear/engine/random.hpp"
#include "deepshear/engine/tensor.hpp"
#include "deepshear/imaging/galaxy.hpp"
#include "deepshear/imaging/noise.hpp"
#include "deepshear/imaging/real_galaxy_catalog.hpp"

namespace {

using namespace ds::img;
constexpr double kPi = 3.14159265358979323846;

ds::Config make_config() {
  ds::Config c;
  c.add_int("n", 1000, "number of stamps");
  c.add_int("seed", 1, "random seed (all draws derive from it and the stamp index)");
  c.add_string("source", "parametric", "galaxy source: parametric or real");
  c.add_string("catalog", "", "RealGalaxyCatalog FITS file (source = real)");
  c.add_bool("catalog_weights", true, "source = real: draw rows with probability ~ WEIGHT");
  c.add_double("pixel_scale", 0.065, "arcsec per pixel");
  c.add_double("psf_fwhm", 0.12, "target PSF FWHM [arcsec] (Gaussian; Moffat when psf_beta > 0)");
  c.add_double("psf_beta", 0, "Moffat beta of the target PSF (0: Gaussian)");
  c.add_int("stamp_size", 32, "stamp side kept [px]");
  c.add_int("full_size", 64, "stamp side rendered [px]");
  c.add_double("g_min", -0.2, "shears g1, g2 ~ U(g_min, g_max)");
  c.add_double("g_max", 0.2, "shears g1, g2 ~ U(g_min, g_max)");
  c.add_bool("rotate", true, "random rotation U(0, 2 pi)");
  c.add_bool("mirror", true, "random mirror with p = 0.5");
  c.add_double("shift_range", 0, "centroid shift (u - 0.5) * range [px] after shear");
  c.add_double("mu_range", 0, "magnification 1 + (u - 0.5) * range");
  c.add_double("size_jitter", 0, "size scaled by 1 + (u - 0.5) * 2 * jitter (paper: 0.15)");
  c.add_bool("subpixel_offset", true, "sub-pixel offset U(-0.5, 0.5) px in x and y");
  c.add_double("size_rescale", 0.5416666666666667, "real source: dilation alpha");
  c.add_double("flux_rescale", 0.5416666666666667 * 0.5416666666666667, "real source: flux factor at render");
  c.add_double("cutoff", 0.012, "real source: pixels below are set to 0 after rendering");
  c.add_double("flux_factor", 0.32, "real source: then multiplied by this");
  c.add_double("mag_min", 20, "parametric: faintest..brightest magnitudes (CLASH zero point 25.419)");
  c.add_double("mag_max", 27, "parametric: faint limit");
  c.add_string("noise", "default", "noise kernel: default, none, or a kernel file");
  c.add_double("noise_scale", 1, "noise kernel scale (paper: 1, 0.5, 0.25)");
  return c;
}

int run(int argc, char** argv) {
  ds::Config c = make_config();
  ds::app::Args args("deepshear simulate [--config FILE] [--KEY=VALUE ...] --out OUT.fits",
                     "Renders N stamps (source -> dilate -> rotate -> mirror -> lens -> shift -> PSF + pixel ->\n"
                     "full_size^2 -> central stamp_size^2 -> noise) and their truth table.");
  args.option("--out", "OUT", "output FITS file");
  args.config(c);
  args.alias("-o", "--out");
  if (!args.parse(argc, argv)) return 0;
  const std::string out = args.get("--out");
  if (out.empty()) throw ds::Error::usage("simulate: no output file (--out OUT.fits)");
  const long n = c.get_int("n");
  if (n <= 0) throw ds::Error::usage("simulate: n must be > 0");
  const std::uint64_t seed = std::uint64_t(c.get_int("seed"));
  const std::string source = c.get_string("source");
  if (source != "parametric" && source != "real")
    throw ds::Error::usage("simulate: source must be parametric or real, not '" + source + "'");

  StampSetup setup;
  setup.pixel_scale = c.get_double("pixel_scale");
  setup.psf_fwhm = c.get_double("psf_fwhm");
  setup.psf_beta = c.get_double("psf_beta");
  setup.stamp_size = c.get_int("stamp_size");
  setup.full_size = c.get_int("full_size");
  RealGalaxyTreatment rt;
  rt.size_rescale = c.get_double("size_rescale");
  rt.flux_rescale = c.get_double("flux_rescale");
  rt.cutoff = c.get_double("cutoff");
  rt.flux_factor = c.get_double("flux_factor");
  ParametricPopulation pop;
  pop.mag_min = c.get_double("mag_min");
  pop.mag_max = c.get_double("mag_max");

  std::unique_ptr<RealGalaxySource> real;
  std::unique_ptr<ds::WeightedSampler> sampler;
  if (source == "real") {
    if (c.get_string("catalog").empty()) throw ds::Error::usage("simulate: source = real needs catalog = FILE");
    auto cat = std::make_shared<RealGalaxyCatalog>(RealGalaxyCatalog::load(c.get_string("catalog")));
    std::vector<double> w(cat->size(), 1.0);
    if (c.get_bool("catalog_weights"))
      for (std::size_t i = 0; i < cat->size(); ++i) w[i] = std::max(0.0, cat->row(i).weight);
    sampler = std::make_unique<ds::WeightedSampler>(w);
    real = std::make_unique<RealGalaxySource>(cat);
  }
  std::unique_ptr<NoiseKernel> kernel;
  const std::string noise = c.get_string("noise");
  if (noise != "none") {
    kernel = std::make_unique<NoiseKernel>(
        (noise == "default" ? NoiseKernel::load_default(DEEPSHEAR_DATA_DIR) : NoiseKernel::load(noise))
            .scaled(c.get_double("noise_scale")));
  }

  const long S = setup.stamp_size;
  ds::Tensor cube({n, S, S});
  std::vector<double> g1(n), g2(n), mu(n), mag(n), rhalf(n), rot(n), dil(n), offx(n), offy(n);
  std::vector<std::int64_t> src(n), stamp_seed(n, std::int64_t(seed));
  std::vector<std::int32_t> mir(n);
  const double gmin = c.get_double("g_min"), gmax = c.get_double("g_max");
  ds::Progress progress("simulate", n, "stamps");
  ds::parallel_for(n, [&](long i, int) {
    ds::RandomStream r(seed, "simulate", std::uint64_t(i));
    TransformChain t;
    t.g1 = r.uniform(gmin, gmax);
    t.g2 = r.uniform(gmin, gmax);
    t.mu = 1 + (r.uniform() - 0.5) * c.get_double("mu_range");
    t.rotation = c.get_bool("rotate") ? r.uniform(0, 2 * kPi) : 0.0;
    t.mirror = c.get_bool("mirror") ? r.uniform() < 0.5 : false;
    t.dilation = 1 + (r.uniform() - 0.5) * 2 * c.get_double("size_jitter");
    const double sr = c.get_double("shift_range");
    double shx = (r.uniform() - 0.5) * sr, shy = (r.uniform() - 0.5) * sr;
    t.shift_x = shx * setup.pixel_scale;
    t.shift_y = shy * setup.pixel_scale;
    double ox = 0, oy = 0;
    if (c.get_bool("subpixel_offset")) {
      ox = r.uniform(-0.5, 0.5);
      oy = r.uniform(-0.5, 0.5);
    }
    ProfilePtr gal;
    const RealGalaxyTreatment* treat = nullptr;
    if (real) {
      std::size_t idx = (*sampler)(r);
      gal = real->profile(idx);
      treat = &rt;
      src[std::size_t(i)] = std::int64_t(idx);
      const auto& row = real->catalog().row(idx);
      mag[std::size_t(i)] = row.mag;
      rhalf[std::size_t(i)] =
          std::isfinite(row.flux_radius) && row.flux_radius > 0 ? row.flux_radius * row.pixel_scale * rt.size_rescale
                                                                : std::nan("");
    } else {
      double m = 0, rh = 0;
      gal = pop.draw(seed, std::uint64_t(i), &m, &rh).profile();
      src[std::size_t(i)] = i;
      mag[std::size_t(i)] = m;
      rhalf[std::size_t(i)] = rh;
    }
    ds::RandomStream nr(seed, "noise", std::uint64_t(i));
    render_stamp(gal, t, setup, ox, oy, cube.image(i), treat, kernel.get(), kernel ? &nr : nullptr);
    g1[std::size_t(i)] = t.g1;
    g2[std::size_t(i)] = t.g2;
    mu[std::size_t(i)] = t.mu;
    rot[std::size_t(i)] = t.rotation;
    mir[std::size_t(i)] = t.mirror ? 1 : 0;
    dil[std::size_t(i)] = t.dilation;
    offx[std::size_t(i)] = ox + shx;
    offy[std::size_t(i)] = oy + shy;
    progress.tick();
  });
  progress.finish();

  using TC = ds::fits::TableColumn;
  ds::fits::FitsWriter w(out);
  w.write_cube(cube, ds::fits::PixelType::Float32);
  w.write_key("SOURCE", source, "galaxy source");
  w.write_key("PIXSCALE", setup.pixel_scale, "arcsec per pixel");
  w.write_key("PSFFWHM", setup.psf_fwhm, "target PSF FWHM [arcsec]");
  w.write_key("SEED", (long long)seed, "random seed");
  w.write_key("NOISE", noise, "noise kernel");
  w.write_table({TC::doubles("g1", g1), TC::doubles("g2", g2), TC::doubles("mu", mu), TC::doubles("magnitude", mag),
                 TC::doubles("r_half", rhalf, 1, "arcsec"), TC::int64s("source_index", src),
                 TC::doubles("rotation", rot, 1, "rad"), TC::int32s("mirror", mir), TC::doubles("dilation", dil),
                 TC::doubles("offset_x", offx, 1, "px"), TC::doubles("offset_y", offy, 1, "px"),
                 TC::int64s("seed", stamp_seed)},
                "TRUTH");
  w.commit();
  ds::write_text_atomic(out + ".cfg", c.dump());
  ds::info("simulate: " + std::to_string(n) + " stamps -> " + out);
  return 0;
}

ds::app::Register reg("simulate", "render N stamps and their truth table from a config (FITS cube + table)", run);

}  // namespace
