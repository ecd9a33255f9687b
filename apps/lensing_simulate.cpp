// deepshear simulate: a stamp set and its truth, exactly as `train` and
// `evaluate` render it (the same StampSetConfig keys and meanings, the same
// StampRenderer): a FITS file with the (N, 32, 32) float32 cube in the primary
// HDU and a binary table TRUTH, plus OUT.cfg with the effective configuration.
// Every stamp's draws come from the set's seed, split and stamp index, so the
// output does not depend on the thread count.
#include <string>

#include "cli.hpp"
#include "deepshear/engine/ranks.hpp"
#include "deepshear/engine/atomic_file.hpp"
#include "deepshear/engine/config.hpp"
#include "deepshear/engine/error.hpp"
#include "deepshear/engine/log.hpp"
#include "deepshear/engine/progress.hpp"
#include "deepshear/engine/provenance.hpp"
#include "deepshear/lensing/training/stamp_set.hpp"

namespace {

constexpr const char* kAbout =
    "Renders the stamp set that train (train.KEY) and evaluate (KEY) render for the same keys:\n"
    "source -> size jitter -> rotate + mirror -> shear and magnification -> centroid shift ->\n"
    "target PSF + pixel -> 64x64 -> central 32x32 -> (real galaxies: cut-off, flux factor) ->\n"
    "correlated noise -> background. The cube is the primary HDU; the table TRUTH has one row\n"
    "per stamp: g1, g2, mu, magnitude, r_half [\"], snr (ideal S/N), source_index (population\n"
    "item or catalogue row), rotation [rad], mirror, dilation (size jitter), offset_x, offset_y\n"
    "(centroid shift [px]: shift_range and centroid_fraction; there is no other sub-pixel offset)\n"
    "and seed.";

int run(int argc, char** argv) {
  ds::Config c;
  ds::lens::add_stamp_set_params(c, "");
  ds::app::Args args("deepshear simulate [--config FILE] [--KEY=VALUE ...] --out OUT.fits", kAbout);
  args.option("--out", "OUT", "output FITS file");
  args.config(c);
  args.alias("-o", "--out");
  if (!args.parse(argc, argv)) return 0;
  const std::string out = args.get("--out");
  if (out.empty()) throw ds::Error::usage("simulate: no output file (--out OUT.fits)");
  ds::check_output_file(out, "simulate: --out");
  const ds::lens::StampSetConfig cfg = ds::lens::stamp_set_from_config(c, "");
  const auto [first, last] = ds::rank_range(cfg.n);  // this rank's share
  ds::Progress progress("simulate", last - first, "stamps");
  ds::lens::StampSet set = ds::lens::render_across_ranks(cfg, &progress);  // whole on rank 0, empty elsewhere
  progress.finish();
  if (!ds::ranks().root()) return 0;
  ds::lens::write_stamp_set_fits(out, set, cfg);
  ds::write_text_atomic(out + ".cfg", ds::config_text(c.dump()));
  ds::info("simulate: " + std::to_string(cfg.n) + " " + ds::lens::split_name(cfg.split) + " stamps -> " + out);
  return 0;
}

ds::app::Register reg("simulate", "render a training/test stamp set and its truth table (FITS cube + table)", run);

}  // namespace
