// deepshear estimate STAMPS.fits --model MODEL -o OUT.fits: shear estimates
// (g1, g2) and flags per stamp from the CNN (8-fold symmetrised and calibrated
// by default) and, with --estimators, RRG and KSB on the same stamps.
#include <cmath>
#include <cstdio>
#include <memory>
#include <map>
#include <string>
#include <vector>

#include "cli.hpp"
#include "deepshear/engine/fits.hpp"
#include "deepshear/engine/log.hpp"
#include "deepshear/engine/progress.hpp"
#include "deepshear/lensing/calibration.hpp"
#include "deepshear/lensing/estimators/cnn.hpp"
#include "deepshear/lensing/estimators/ksb.hpp"
#include "deepshear/lensing/estimators/rrg.hpp"
#include "deepshear/lensing/estimators/stamp_psf.hpp"

namespace {

// Reads the stamps: the first image HDU with 3 axes (nz, ny, nx), or, with
// --column, a vector column of a table HDU (ny*nx values per row).
std::vector<float> read_stamps(const std::string& path, const std::string& column, long side, long& n) {
  ds::fits::FitsFile f(path);
  for (int h = 0; h < f.num_hdus(); ++h) {
    f.hdu(h);
    auto info = f.info();
    if (column.empty() && info.kind == ds::fits::HduKind::Image && info.shape.size() == 3) {
      ds::require(info.shape[1] == side && info.shape[2] == side,
                  f.where() + ": stamps are " + std::to_string(info.shape[1]) + "x" + std::to_string(info.shape[2]) +
                      ", the model reads " + std::to_string(side) + "x" + std::to_string(side));
      ds::Tensor cube = f.read_cube();
      n = cube.dim(0);
      return std::vector<float>(cube.begin(), cube.end());
    }
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

int run(int argc, char** argv) {
  ds::app::Args args("deepshear estimate STAMPS.fits --model MODEL -o OUT.fits [--estimators cnn,rrg,ksb] "
                     "[--no-symmetrise] [--no-calibration]",
                     "Shear estimates per stamp. STAMPS.fits holds a cube (n, 32, 32) or, with --column, a table\n"
                     "whose column holds 1024 values per row. OUT.fits gets a table: INDEX, then G1, G2 and FLAGS\n"
                     "of the first estimator and G1_<EST>, G2_<EST>, FLAGS_<EST> of every estimator. The CNN gives\n"
                     "by default the 8-fold symmetrised estimate (eq. 14) with the model's calibration\n"
                     "(g - c) / (1 + m); --no-symmetrise and --no-calibration give the raw network output.\n"
                     "RRG and KSB use a round Gaussian PSF of --psf-fwhm (and the pixel) at --pixel-scale.");
  args.positional("STAMPS", "FITS file of stamps");
  args.option("--model", "MODEL", "model file (deepshear train or import-keras)");
  args.option("--output", "OUT", "output FITS table");
  args.alias("-o", "--output");
  args.option("--column", "NAME", "read stamps from this table column instead of a cube");
  args.option("--estimators", "LIST", "estimators, comma separated: cnn, rrg, ksb", "cnn");
  args.option("--psf-fwhm", "ARCSEC", "Gaussian PSF FWHM for RRG and KSB", "0.12");
  args.option("--pixel-scale", "ARCSEC", "pixel scale for RRG and KSB", "0.065");
  args.flag("--no-symmetrise", "raw network on each stamp only");
  args.flag("--no-calibration", "skip the model's (c, m) calibration");
  args.option("--rrg-calibration", "FILE", "calibration file applied to RRG (deepshear evaluate writes one)");
  args.option("--ksb-calibration", "FILE", "calibration file applied to KSB");
  if (!args.parse(argc, argv)) return 0;
  if (!args.has("--output")) throw ds::Error::usage("estimate: -o OUT.fits is required");
  const std::vector<std::string> names = ds::split_list(args.get("--estimators"));
  if (names.empty()) throw ds::Error::usage("estimate: --estimators is empty");
  std::unique_ptr<ds::lens::CnnEstimator> cnn;
  long side = 32;
  for (const auto& e : names) {
    if (e != "cnn" && e != "rrg" && e != "ksb")
      throw ds::Error::usage("estimate: unknown estimator '" + e + "' (known: cnn, rrg, ksb)");
    if (e == "cnn") {
      if (!args.has("--model")) throw ds::Error::usage("estimate: --model MODEL is required for the CNN");
      cnn = std::make_unique<ds::lens::CnnEstimator>(ds::lens::CnnEstimator::load(
          args.get("--model"), !args.has("--no-symmetrise"), !args.has("--no-calibration")));
      const auto& arch = cnn->model().net.arch();
      ds::require(arch.in_h == arch.in_w && arch.in_c == 1, "estimate: the model does not read square 1-channel stamps");
      ds::require(arch.outputs() == 2, "estimate: the model has " + std::to_string(arch.outputs()) +
                                           " outputs; shear estimation needs 2 (g1, g2)");
      side = arch.in_h;
    }
  }
  // Stamps stream through in chunks: a cube is read plane range by plane
  // range, so memory stays bounded whatever the number of stamps.
  const long chunk = 4096;
  const std::string in_path = args.positionals()[0], column = args.get("--column");
  long n = 0, cube_hdu = -1;
  std::vector<float> table_stamps;
  {
    ds::fits::FitsFile f(in_path);
    for (int h = 0; h < f.num_hdus() && column.empty(); ++h) {
      auto info = f.hdu(h).info();
      if (info.kind == ds::fits::HduKind::Image && info.shape.size() == 3) {
        ds::require(info.shape[1] == side && info.shape[2] == side,
                    f.where() + ": stamps are " + std::to_string(info.shape[1]) + "x" + std::to_string(info.shape[2]) +
                        ", the estimators read " + std::to_string(side) + "x" + std::to_string(side));
        cube_hdu = h, n = info.shape[0];
        break;
      }
    }
  }
  if (cube_hdu < 0) table_stamps = read_stamps(in_path, column, side, n);
  const auto psf = ds::lens::StampPsf::gaussian(args.get_double("--psf-fwhm"), args.get_double("--pixel-scale"));
  ds::lens::RrgOptions rrg_opt;  // G from the first chunk's population, then kept fixed
  std::map<std::string, std::vector<ds::lens::ShearEstimate>> results;
  std::unique_ptr<ds::fits::FitsFile> cube;
  if (cube_hdu >= 0) cube = std::make_unique<ds::fits::FitsFile>(in_path), cube->hdu(int(cube_hdu));
  ds::Progress progress("estimate", n, "stamps");
  for (long first = 0; first < n; first += chunk) {
    const long m = std::min(chunk, n - first);
    ds::Tensor stamps;
    if (cube) {
      stamps = cube->read_cube_planes(first, m);
    } else {
      stamps = ds::Tensor({m, side, side});
      std::copy(table_stamps.begin() + first * side * side, table_stamps.begin() + (first + m) * side * side,
                stamps.begin());
    }
    for (const auto& e : names) {
      std::vector<ds::lens::ShearEstimate> g;
      if (e == "cnn") g = cnn->estimate(stamps);
      if (e == "rrg")
        g = ds::lens::rrg_estimate(stamps, psf.moments, rrg_opt,
                                   rrg_opt.fixed_G > 0 ? nullptr : &rrg_opt.fixed_G);
      if (e == "ksb") g = ds::lens::ksb_estimate(stamps, psf.image.view());
      if ((e == "rrg" || e == "ksb") && args.has("--" + e + "-calibration"))
        ds::lens::calibrate(g, ds::lens::Calibration::load(args.get("--" + e + "-calibration")));
      auto& dst = results[e];
      dst.insert(dst.end(), g.begin(), g.end());
    }
    progress.tick(m);
  }
  progress.finish();
  std::vector<std::int64_t> index(static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) index[std::size_t(i)] = i;
  std::vector<ds::fits::TableColumn> cols = {ds::fits::TableColumn::int64s("INDEX", index)};
  for (const auto& e : names) {
    std::vector<double> g1, g2;
    std::vector<std::int32_t> flags;
    for (const auto& x : results[e]) g1.push_back(x.g1), g2.push_back(x.g2), flags.push_back(std::int32_t(x.flags));
    std::string up = e;
    for (auto& c : up) c = char(std::toupper(static_cast<unsigned char>(c)));
    if (&e == &names.front()) {
      cols.push_back(ds::fits::TableColumn::doubles("G1", g1));
      cols.push_back(ds::fits::TableColumn::doubles("G2", g2));
      cols.push_back(ds::fits::TableColumn::int32s("FLAGS", flags));
    }
    cols.push_back(ds::fits::TableColumn::doubles("G1_" + up, g1));
    cols.push_back(ds::fits::TableColumn::doubles("G2_" + up, g2));
    cols.push_back(ds::fits::TableColumn::int32s("FLAGS_" + up, flags));
  }
  ds::fits::FitsWriter w(args.get("--output"));
  w.write_table(cols, "SHEAR");
  w.write_key("ESTIMATR", args.get("--estimators"), "shear estimators");
  if (cnn) {
    w.write_key("MODEL", args.get("--model"), "model file");
    w.write_key("SYMMETR", cnn->symmetrise(), "8-fold symmetrised (eq. 14)");
    w.write_key("CALIBR", cnn->calibrate() && !cnn->model().cal_c.empty(), "(g - c) / (1 + m) applied");
  }
  w.commit();
  ds::info("estimate: " + std::to_string(n) + " stamps -> " + args.get("--output"));
  return 0;
}

ds::app::Register reg("estimate", "shear (g1, g2) per stamp from a FITS cube of stamps: CNN, RRG, KSB", run);

}  // namespace
