// deepshear estimate STAMPS.fits --model MODEL -o OUT.fits: shear estimates
// (g1, g2) and flags per stamp from the CNN (8-fold symmetrised and calibrated
// by default) and, with --estimators, RRG and KSB on the same stamps.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <memory>
#include <map>
#include <string>
#include <vector>

#include "cli.hpp"
#include "deepshear/engine/atomic_file.hpp"
#include "deepshear/engine/data_path.hpp"
#include "deepshear/engine/fits.hpp"
#include "deepshear/engine/log.hpp"
#include "deepshear/engine/progress.hpp"
#include "deepshear/engine/ranks.hpp"
#include "deepshear/lensing/calibration.hpp"
#include "deepshear/lensing/estimators/across_ranks.hpp"
#include "deepshear/lensing/estimators/cnn.hpp"
#include "deepshear/lensing/estimators/estimator.hpp"
#include "deepshear/lensing/shear_catalogue.hpp"
#include "deepshear/nn/model_file.hpp"

namespace {

// Reads the stamps of a table: with --column, a vector column of a table HDU
// (ny*nx values per row). Cubes are read chunk by chunk by StampSource.
std::vector<float> read_stamps(const std::string& path, const std::string& column, long side, long& n) {
  ds::fits::FitsFile f(path);
  for (int h = 0; h < f.num_hdus(); ++h) {
    auto info = f.hdu(h).info();
    if (!column.empty() && info.kind != ds::fits::HduKind::Image && f.has_column(column)) {
      auto m = f.read_vector_column(column);
      ds::require(m.cols() == side * side, f.where() + ": column " + column + " has " + std::to_string(m.cols()) +
                                               " values per row, expected " + std::to_string(side * side));
      n = m.rows();
      std::vector<float> out(static_cast<std::size_t>(n * side * side));
      for (long i = 0; i < n; ++i)
        for (long j = 0; j < side * side; ++j) out[std::size_t(i * side * side + j)] = float(m(i, j));
      return out;
    }
  }
  throw ds::Error(path + ": no stamp cube (3-D image HDU)" +
                  (column.empty() ? std::string() : " or table with column " + column));
}

// Where the stamps are: a cube HDU (read chunk by chunk), else a table
// column read whole.
struct StampSource {
  std::unique_ptr<ds::fits::FitsFile> cube;
  std::vector<float> table;
  long n = 0, side = 32;

  StampSource(const std::string& path, const std::string& column, long side_) : side(side_) {
    ds::fits::FitsFile f(path);
    for (int h = 0; h < f.num_hdus() && column.empty(); ++h) {
      auto info = f.hdu(h).info();
      if (info.kind == ds::fits::HduKind::Image && info.shape.size() == 3) {
        ds::require(info.shape[1] == side && info.shape[2] == side,
                    f.where() + ": stamps are " + std::to_string(info.shape[1]) + "x" + std::to_string(info.shape[2]) +
                        ", the estimators read " + std::to_string(side) + "x" + std::to_string(side));
        n = info.shape[0];
        cube = std::make_unique<ds::fits::FitsFile>(path);
        cube->hdu(h);
        return;
      }
    }
    table = read_stamps(path, column, side, n);
  }

  // Stamps first .. first + m - 1 as (m, side, side).
  ds::Tensor chunk(long first, long m) const {
    if (cube) return cube->read_cube_planes(first, m);
    ds::Tensor stamps({m, side, side});
    std::copy(table.begin() + first * side * side, table.begin() + (first + m) * side * side, stamps.begin());
    return stamps;
  }
};

// The input's columns that travel to the output, one value per stamp: a
// table input's scalar columns (identifiers, positions) as they are, and a
// simulated set's truth table (HDU TRUTH) as TRUE_<NAME>.
std::vector<ds::fits::TableColumn> carried_columns(const std::string& path, const std::string& stamp_column, long n) {
  std::vector<ds::fits::TableColumn> out;
  ds::fits::FitsFile f(path);
  for (int h = 0; h < f.num_hdus(); ++h) {
    const auto info = f.hdu(h).info();
    if (info.kind == ds::fits::HduKind::Image || info.nrows != n) continue;
    const bool truth = ds::to_upper(info.extname) == "TRUTH";
    const bool stamps_here = !stamp_column.empty() && f.has_column(stamp_column);
    if (!truth && !stamps_here) continue;
    for (const auto& c : info.columns) {
      if (c.repeat != 1 || c.is_string()) continue;
      const std::string name = (truth ? "TRUE_" : "") + ds::to_upper(c.name);
      auto col = ds::fits::TableColumn::doubles(name, {}, 1, c.unit);
      if (c.tform.find_first_of("BIJK") != std::string::npos) {  // integers stay integers
        const auto v = f.read_int_column(c.name);
        col = ds::fits::TableColumn::int64s(name, std::vector<std::int64_t>(v.begin(), v.end()), 1, c.unit);
      } else {
        col.f64 = f.read_column(c.name);
      }
      out.push_back(col.described(truth ? "truth of the simulated stamp" : "from the input table"));
    }
  }
  return out;
}

// OUT.fits: the estimate table (shear_catalogue.hpp), then the input's
// carried columns; header cards of the set-up, the flag bits and the PSF used.
void write_estimates(const std::string& path, const std::vector<std::string>& names,
                     const std::map<std::string, ds::lens::EstimateBatch>& results,
                     ds::lens::EstimatorSet& estimators, const std::string& list,
                     std::vector<ds::fits::TableColumn> carried, const ds::lens::EstimatorSetup& setup) {
  auto cols = ds::lens::catalogue::estimate_table(names, results);
  for (auto& c : carried)
    if (std::none_of(cols.begin(), cols.end(), [&](const auto& o) { return o.name == c.name; })) cols.push_back(c);
  ds::fits::FitsWriter w(path);
  w.write_table(cols, "SHEAR");
  w.write_key("ESTIMATR", list, "shear estimators");
  w.write_key("PSFFWHM", setup.psf_fwhm, "[arcsec] Gaussian PSF FWHM used by RRG and KSB");
  w.write_key("PIXSCALE", setup.pixel_scale, "[arcsec] per pixel, as used");
  w.write_key("SHEARFRM", "PIXEL", "G1/G2 in the stamp's x, y frame");
  for (const auto& e : names)
    for (const auto& [key, value, comment] : estimators[e].header_cards()) {
      if (value == "T" || value == "F") w.write_key(key, value == "T", comment);
      else w.write_key(key, value, comment);
    }
  ds::lens::catalogue::write_flag_cards(w);
  w.commit();
}

// A set-up value: the flag when the user gave it, else the input's header
// card (the first of `keys` found in any HDU), else the flag's default.
double setup_value(const ds::app::Args& args, const std::string& flag, const std::string& path,
                   std::initializer_list<const char*> keys) {
  if (args.has(flag)) return args.get_double(flag);
  ds::fits::FitsFile f(path);
  for (int h = 0; h < f.num_hdus(); ++h) {
    f.hdu(h);
    for (const char* k : keys)
      if (auto v = f.key_double_opt(k)) {
        if (!(*v > 0)) throw ds::Error(f.where() + ": key " + k + " = " + std::to_string(*v) + " must be positive");
        return *v;
      }
  }
  return args.get_double(flag);
}

int run(int argc, char** argv) {
  ds::app::Args args("deepshear estimate STAMPS.fits -o OUT.fits [--model MODEL] [--estimators cnn,rrg,ksb] "
                     "[--no-symmetrise] [--no-calibration]",
                     "Shear estimates per stamp. STAMPS.fits holds a cube (n, 32, 32) or, with --column, a table\n"
                     "whose column holds 1024 values per row. OUT.fits gets a table: INDEX, then G1, G2 and FLAGS\n"
                     "of the first estimator and G1_<EST>, G2_<EST>, FLAGS_<EST> of every estimator (NaN where\n"
                     "FLAGS != 0; the header's FLAGBITn cards name the bits), then the input's columns: a table's\n"
                     "scalar columns as they are, a simulated set's truth as TRUE_<NAME>. The CNN gives by default\n"
                     "the 8-fold symmetrised estimate (eq. 14) with the model's calibration (g - c) / (1 + m);\n"
                     "--no-symmetrise and --no-calibration give the raw network output. RRG and KSB use a round\n"
                     "Gaussian PSF of FWHM --psf-fwhm at --pixel-scale; without the flags, the input's PSFFWHM and\n"
                     "PIXSCALE header cards. A PSF or pixel scale 5% away from the model's training set-up is an\n"
                     "error (--allow-mismatch: a warning).");
  args.positional("STAMPS", "FITS file of stamps");
  args.option("--model", "MODEL", "model file (deepshear train or import-keras)",
              ds::data_path_or_empty("model_default.dsm"));
  args.option("--output", "OUT", "output FITS table");
  args.alias("-o", "--output");
  args.option("--column", "NAME", "read stamps from this table column instead of a cube");
  args.option("--estimators", "LIST", "estimators, comma separated: " + ds::lens::known_estimators(), "cnn");
  args.option("--psf-fwhm", "ARCSEC", "Gaussian PSF FWHM for RRG and KSB (default: the input's PSFFWHM)", "0.12");
  args.option("--pixel-scale", "ARCSEC", "pixel scale (default: the input's PIXSCALE)", "0.065");
  args.range("--psf-fwhm", 1e-4, 100), args.range("--pixel-scale", 1e-4, 100);
  args.flag("--no-symmetrise", "raw network on each stamp only");
  args.flag("--no-calibration", "skip the model's (c, m) calibration");
  args.flag("--allow-mismatch", "go on (with a warning) when the PSF or pixel scale differ from the model's");
  args.option("--rrg-calibration", "FILE", "calibration file applied to RRG (deepshear evaluate writes one)");
  args.option("--ksb-calibration", "FILE", "calibration file applied to KSB");
  if (!args.parse(argc, argv)) return 0;
  if (!args.has("--output")) throw ds::Error::usage("estimate: -o OUT.fits is required");
  const std::string input = args.positionals()[0], output = args.get("--output");
  ds::check_output_file(output, "estimate: -o");
  const std::vector<std::string> names = ds::split_list(args.get("--estimators"));
  ds::lens::check_estimator_names(names, "estimate: --estimators");
  ds::lens::EstimatorSetup setup;
  setup.model_path = args.get("--model");
  setup.symmetrise = !args.has("--no-symmetrise");
  setup.model_calibration = !args.has("--no-calibration");
  setup.psf_fwhm = setup_value(args, "--psf-fwhm", input, {"PSFFWHM", "PSF_FWHM"});
  setup.pixel_scale = setup_value(args, "--pixel-scale", input, {"PIXSCALE"});
  std::shared_ptr<ds::nn::Model> model;
  long side = 32;
  if (std::find(names.begin(), names.end(), "cnn") != names.end()) {
    if (setup.model_path.empty()) throw ds::Error::usage("estimate: --model MODEL is required for the CNN");
    model = std::make_shared<ds::nn::Model>(ds::nn::load_model(setup.model_path));
    setup.model = model;
    side = model->net.arch().in_h;
    const std::string w = ds::lens::check_model_setup(*model, setup.model_path, setup.psf_fwhm, setup.pixel_scale,
                                                      args.has("--allow-mismatch"));
    if (!w.empty()) ds::warn("estimate: " + w);
  }
  ds::lens::EstimatorSet estimators(names, setup, "estimate");
  std::map<std::string, ds::lens::Calibration> cals;
  for (const auto& e : names)
    if (args.has("--" + e + "-calibration")) cals[e] = ds::lens::Calibration::load(args.get("--" + e + "-calibration"));
  // Stamps stream through in chunks, so memory stays bounded; under MPI each
  // rank reads and measures its share, and rank 0 gathers and writes.
  const long chunk = ds::lens::kEstimateChunk;
  StampSource source(input, args.get("--column"), side);
  const long n = source.n;
  std::vector<ds::fits::TableColumn> carried;  // read before the work; rank 0 writes them
  if (ds::ranks().root()) carried = carried_columns(input, args.get("--column"), n);
  ds::Progress progress("estimate", ds::lens::share_fetched(n, chunk), "stamps");
  const ds::lens::ChunkSource fetch = [&](long first, long m) { return source.chunk(first, m); };
  const auto mine = ds::lens::estimate_share(estimators, n, chunk, fetch, cals, &progress);
  progress.finish();
  const auto results = ds::lens::gather_results(mine);
  if (!ds::ranks().root()) return 0;
  write_estimates(output, names, results, estimators, args.get("--estimators"), std::move(carried), setup);
  ds::info("estimate: " + std::to_string(n) + " stamps -> " + output);
  return 0;
}

ds::app::Register reg("estimate", "shear (g1, g2) per stamp from a FITS cube of stamps: CNN, RRG, KSB", run);

}  // namespace
