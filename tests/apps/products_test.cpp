// What the commands write and refuse, as a user sees it: flag spellings, exit
// codes, the estimate catalogue (NaN on failure, flag cards, carried columns,
// PSF from the input), provenance, fitsverify, and a failed cluster run that
// leaves nothing behind.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "deepshear/engine/fits.hpp"
#include "deepshear/lensing/cluster/sextractor_run.hpp"
#include "test_support.hpp"

using ds::test::run_cli;
using ds::test::TempDir;
namespace fs = std::filesystem;

namespace {

// fitsverify's verdict on a file: "" when clean or when fitsverify is absent.
std::string fitsverify_problems(const std::string& path) {
  if (std::system("command -v fitsverify >/dev/null 2>&1") != 0) return "";
  const std::string cmd = "fitsverify -q '" + path + "' 2>&1";
  std::string out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[512];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    pclose(p);
  }
  return out.find("verification OK") != std::string::npos ? "" : out;
}

// The entries of a folder (hidden ones too).
std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> v;
  if (fs::is_directory(dir))
    for (const auto& e : fs::directory_iterator(dir)) v.push_back(e.path().filename().string());
  return v;
}

// A set of simulated stamps (cube + TRUTH table) at a given PSF.
std::string simulate(const TempDir& tmp, const std::string& name, const std::string& flags) {
  const std::string path = tmp / name;
  auto r = run_cli("simulate --quiet --n 12 --seed 5 " + flags + " -o '" + path + "'");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  return path;
}

}  // namespace

TEST_CASE("flags: dashes and underscores alike, -h and -q after the command, help shows one spelling") {
  for (const char* cmd : {"estimate --psf_fwhm 0.1 --pixel_scale 0.05 -h", "estimate --psf-fwhm 0.1 -h",
                          "mock-cluster --psf_fwhm 0.1 --z_lens 0.3 -h", "simulate --psf_fwhm 0.1 -h",
                          "simulate --psf-fwhm 0.1 -h", "maps --centre_radec 150,2 -h", "maps --centre-radec 150,2 -h",
                          "cluster --noise_step 4 -h"}) {
    auto r = run_cli(cmd);
    CHECK_MESSAGE(r.exit_code == 0, cmd, r.err);
    CHECK(r.out.find("usage: deepshear ") == 0);
  }
  auto h = run_cli("maps --help");
  CHECK(h.out.find("--centre-radec") != std::string::npos);
  CHECK(h.out.find("--centre_radec") == std::string::npos);
  CHECK(run_cli("info -q").exit_code == 0);
}

TEST_CASE("the same bad value gets the same exit code and a message naming the flag, before any work") {
  TempDir tmp;
  for (const char* cmd : {"simulate --n -1 -o X.fits", "evaluate --n -1 --out D", "train --train.n -1",
                          "simulate --n 10 --threads -1 -o X.fits", "simulate --n 10 --threads 100000 -o X.fits",
                          "noise-kernel in.fits --step 9223372036854775807 -o k.txt",
                          "cluster --image a.fits --background-box 99999999999 --out D",
                          "estimate in.fits --psf-fwhm 0 -o x.fits", "render --psf-fwhm 0 -o x.fits",
                          "render --flux 1e308 --noise default -o x.fits"}) {
    auto r = run_cli(std::string(cmd));
    CHECK_MESSAGE(r.exit_code == 2, cmd, r.err);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
  auto r = run_cli("simulate --n -1 -o X.fits");
  CHECK(r.err.find("'n'") != std::string::npos);
  r = run_cli("render --psf-fwhm 0 -o x.fits");
  CHECK(r.err.find("psf") != std::string::npos);
  CHECK(r.err.find("sigma") == std::string::npos);
}

TEST_CASE("estimate: the input's PSF is read and checked against the model's; the output says which it used") {
  TempDir tmp;
  const std::string wide = simulate(tmp, "wide.fits", "--psf-fwhm 0.25");
  const std::string out = tmp / "e.fits";
  // The shipped model (no --model) was trained at 0.12 arcsec: refused, nothing written.
  auto r = run_cli("estimate --quiet '" + wide + "' -o '" + out + "'");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("PSF FWHM 0.25") != std::string::npos);
  CHECK(r.err.find("0.12") != std::string::npos);
  CHECK(!fs::exists(out));
  r = run_cli("estimate --quiet '" + wide + "' --estimators cnn,rrg --allow-mismatch -o '" + out + "'");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.err.find("warning") != std::string::npos);
  ds::fits::FitsFile f(out);
  f.hdu("SHEAR");
  CHECK(f.key_double("PSFFWHM") == 0.25);  // from the input's header, for RRG too
  f.hdu(0);
  CHECK(f.key_string("DSMODEL").find("model_default.dsm:") == 0);
  CHECK(f.key_string("DSCMD").find("estimate") != std::string::npos);
  // An explicit flag wins over the header.
  const std::string narrow = simulate(tmp, "narrow.fits", "--psf-fwhm 0.12");
  r = run_cli("estimate --quiet '" + narrow + "' --estimators rrg --psf-fwhm 0.125 -o '" + out + "'");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(ds::fits::FitsFile(out).hdu("SHEAR").key_double("PSFFWHM") == 0.125);
}

TEST_CASE("estimate: failed rows are NaN, flag bits are in the header, the truth travels with the result") {
  TempDir tmp;
  const std::string in = simulate(tmp, "s.fits", "");
  // Blank the third stamp: every estimator flags it.
  {
    ds::fits::FitsFile f(in);
    ds::Tensor cube = f.hdu(0).read_cube();
    ds::fits::FitsFile t(in);
    t.hdu("TRUTH");
    std::vector<ds::fits::TableColumn> truth = {ds::fits::TableColumn::doubles("G1", t.read_column("G1")),
                                                ds::fits::TableColumn::doubles("MAG", t.read_column("MAG"))};
    for (long i = 0; i < 32 * 32; ++i) cube.data()[2 * 32 * 32 + i] = 0;
    ds::fits::FitsWriter w(tmp / "b.fits");
    w.write_cube(cube, ds::fits::PixelType::Float32);
    w.write_key("PSFFWHM", 0.12);
    w.write_table(truth, "TRUTH");
    w.commit();
  }
  const std::string out = tmp / "e.fits";
  auto r = run_cli("estimate --quiet '" + tmp / "b.fits" + "' --estimators cnn,rrg,ksb -o '" + out + "'");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  ds::fits::FitsFile f(out);
  f.hdu("SHEAR");
  for (const char* e : {"CNN", "RRG", "KSB"}) {
    const auto g1 = f.read_column(std::string("G1_") + e);
    const auto flags = f.read_int_column(std::string("FLAGS_") + e);
    CHECK_MESSAGE(flags[2] != 0, e);
    for (std::size_t i = 0; i < g1.size(); ++i) CHECK(std::isnan(g1[i]) == (flags[i] != 0));
  }
  CHECK(f.key_string("FLAGBIT3") == "blank");
  ds::fits::FitsFile t(in);
  t.hdu("TRUTH");
  CHECK(f.read_column("TRUE_G1") == t.read_column("G1"));
  CHECK(f.read_column("TRUE_MAG") == t.read_column("MAG"));
  CHECK(fitsverify_problems(out).empty());
  CHECK(fitsverify_problems(in).empty());
}

TEST_CASE("an output folder that does not exist is an error before any work") {
  TempDir tmp;
  // The input does not exist either: the output is checked first.
  auto r = run_cli("estimate --quiet '" + tmp / "missing.fits" + "' -o '" + tmp / "no/such/x.fits" + "'");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("no/such") != std::string::npos);
  CHECK(r.err.find("does not exist") != std::string::npos);
  for (const std::string& cmd : std::vector<std::string>{"simulate --n 5", "render", "noise-kernel '" + tmp / "missing.fits" + "'"}) {
    r = run_cli(cmd + " --quiet -o '" + tmp / "no/such/x.fits" + "'");
    CHECK_MESSAGE(r.exit_code == 2, cmd, r.err);
    CHECK(r.err.find("does not exist") != std::string::npos);
  }
}

TEST_CASE("cluster: catalogue conventions, provenance everywhere, and a failed run leaves nothing") {
  if (ds::lens::find_sextractor().empty()) {
    MESSAGE("skipped: SExtractor (Debian package source-extractor) is not installed");
    return;
  }
  TempDir d;
  auto mock = run_cli("mock-cluster -o " + d / "mock" + " --size 60 --density 60 --seed 3 --quiet");
  REQUIRE_MESSAGE(mock.exit_code == 0, mock.err);
  const std::string field = " --image " + d / "mock/mock_sci.fits" + " --weight " + d / "mock/mock_wht.fits";
  // A truth table that is not there fails the field after SExtractor and the noise kernel ran.
  auto bad = run_cli("cluster" + field + " --estimators rrg --truth " + d / "none.fits" + " --quiet --out " + d / "bad");
  CHECK(bad.exit_code != 0);
  CHECK(entries(d / "bad").empty());
  // A catalogue whose positions are not numbers in the image: an error naming the row, before rounding.
  for (double bad : {std::nan(""), 1e300}) {
    {
      using TC = ds::fits::TableColumn;
      ds::fits::FitsWriter w(d / "cat.fits");
      w.write_table({TC::doubles("NUMBER", {1, 2}), TC::doubles("X_IMAGE", {100, bad}), TC::doubles("Y_IMAGE", {100, 120}),
                     TC::doubles("MAG_AUTO", {24, 24}), TC::doubles("FLUX_RADIUS", {3, 3})},
                    "OBJECTS");
      w.commit();
    }
    auto r = run_cli("cluster" + field + " --catalogue " + d / "cat.fits" + " --estimators rrg --quiet --out " + d / "cat");
    CHECK(r.exit_code == 1);
    CHECK_MESSAGE(r.err.find("row 2: X_IMAGE") != std::string::npos, r.err);
    CHECK(entries(d / "cat").empty());
  }
  auto escape = run_cli("cluster" + field + " --name ../escape --estimators rrg --quiet --out " + d / "esc");
  CHECK(escape.exit_code == 2);
  CHECK(!fs::exists(d / "escape_shear.fits"));

  auto run = run_cli("cluster" + field + " --estimators rrg --quiet --out " + d / "out");
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  const std::string cat = d / "out/mock_shear.fits";
  ds::fits::FitsFile f(cat);
  f.hdu("SHEAR");
  const auto x = f.read_column("X"), x1 = f.read_column("X_IMAGE"), g1 = f.read_column("G1_RRG");
  const auto flags = f.read_int_column("FLAGS_RRG"), cut = f.read_int_column("CUT");
  long cut_rows = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    CHECK(x1[i] == x[i] + 1);
    CHECK(std::isnan(g1[i]) == (flags[i] != 0));
    if (cut[i]) {
      CHECK(std::isnan(g1[i]));
      ++cut_rows;
    }
  }
  CHECK(cut_rows > 0);
  CHECK(f.key_string("FLAGBIT7") == "cut");
  CHECK(fitsverify_problems(cat).empty());
  CHECK(fitsverify_problems(d / "mock/mock_sci.fits").empty());
  CHECK(fitsverify_problems(d / "mock/mock_truth.fits").empty());
  f.hdu(0);
  CHECK(f.key_string("DSCMD").find("cluster --image") != std::string::npos);
  const std::string cfg = ds::read_text_file(d / "out/cluster_config.cfg");
  CHECK(cfg.find("# command: ") != std::string::npos);
  CHECK(cfg.find(f.key_string("DSCFGH")) != std::string::npos);
  CHECK(ds::read_text_file(d / "out/cluster_summary.json").find("\"provenance\"") != std::string::npos);
  for (const auto& e : entries(d / "out")) CHECK_MESSAGE(e[0] != '.', e);
}

TEST_CASE("render and noise-kernel outputs pass fitsverify and carry the provenance") {
  TempDir tmp;
  auto r = run_cli("render --quiet --noise default -o '" + tmp / "r.fits" + "'");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  r = run_cli("noise-kernel --quiet '" + tmp / "r.fits" + "' --clip 100 -o '" + tmp / "k.fits" + "'");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  for (const char* name : {"r.fits", "k.fits"}) {
    CHECK_MESSAGE(fitsverify_problems(tmp / name).empty(), name);
    ds::fits::FitsFile f(tmp / name);
    CHECK(f.hdu(0).key_string("DSCMD").find(name) != std::string::npos);
  }
}

TEST_CASE("train refuses a network that does not fit the task, before rendering anything") {
  TempDir tmp;
  for (const char* arch : {"input 32 32 1; conv 8 5 3 relu; affine 3 none 0",   // 3 outputs
                           "input 16 16 1; conv 8 5 3 relu; affine 2 none 0",   // 16x16 stamps
                           "input 32 32 2; conv 8 5 3 relu; affine 2 none 0"}) {  // two channels
    auto r = run_cli(std::string("train --quiet --arch '") + arch + "' --train.n 50 --val-n 10 --out '" +
                     tmp / "m.dsm" + "'");
    CHECK_MESSAGE(r.exit_code == 2, arch, r.err);
    CHECK(r.err.find("--arch: the network reads") != std::string::npos);
    CHECK(!fs::exists(tmp / "m.dsm"));
  }
}
