// deepshear simulate writes the stamp set that train and evaluate render: the
// same keys and meanings (StampSetConfig), the same stamps bit for bit, the
// same truth; independent of the thread count.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "deepshear/engine/fits.hpp"
#include "deepshear/lensing/training/stamp_set.hpp"
#include "test_support.hpp"

using namespace ds::lens;

namespace {

// Runs `deepshear simulate FLAGS --out PATH` and requires success.
void simulate(const std::string& flags, const std::string& path) {
  auto r = ds::test::run_cli("simulate --quiet " + flags + " --out '" + path + "'");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

// The simulated file at `path` holds exactly `set`: stamps bit for bit and every truth column.
void check_same_set(const std::string& path, const StampSet& set) {
  ds::fits::FitsFile f(path);
  ds::Tensor cube = f.read_cube();
  REQUIRE(cube.shape() == set.stamps.shape());
  long differ = 0;
  for (long k = 0; k < cube.size(); ++k) differ += cube[k] != set.stamps[k];
  CHECK(differ == 0);
  f.hdu("TRUTH");
  auto col = [&](const char* name) { return f.read_column(name); };
  const auto g1 = col("g1"), g2 = col("g2"), mu = col("mu"), mag = col("MAG"), rh = col("R_HALF");
  const auto snr = col("snr"), src = col("source_index"), rot = col("rotation"), mir = col("mirror");
  const auto dil = col("dilation"), ox = col("offset_x"), oy = col("offset_y");
  REQUIRE(g1.size() == set.truth.size());
  for (std::size_t i = 0; i < g1.size(); ++i) {
    const StampTruth& t = set.truth[i];
    CHECK(g1[i] == t.g1);
    CHECK(g2[i] == t.g2);
    CHECK(mu[i] == t.mu);
    CHECK(mag[i] == t.magnitude);
    CHECK((rh[i] == t.rhalf || (std::isnan(rh[i]) && std::isnan(t.rhalf))));
    CHECK(snr[i] == t.snr);
    CHECK(src[i] == double(t.source));
    CHECK(rot[i] == t.rotation);
    CHECK(mir[i] == (t.mirror ? 1.0 : 0.0));
    CHECK(dil[i] == t.dilation);
    CHECK(ox[i] == t.dx);
    CHECK(oy[i] == t.dy);
  }
}

}  // namespace

TEST_CASE("simulate writes the stamps and truth that the library's StampRenderer renders for the same keys") {
  ds::test::TempDir tmp;
  simulate("--n=10 --seed=5 --split=train --shear_range=0.1 --shift_range=2 --size_jitter=0.15 --mu_range=0.1 "
           "--centroid_fraction=0.2 --background=0.001 --noise_scale=0.5",
           tmp / "a.fits");
  StampSetConfig c;
  c.n = 10;
  c.seed = 5;
  c.split = Split::Train;
  c.shear_range = 0.1;
  c.shift_range = 2;
  c.size_jitter = 0.15;
  c.mu_range = 0.1;
  c.centroid_fraction = 0.2;
  c.background = 0.001;
  c.noise_scale = 0.5;
  const StampSet set = StampRenderer(c).render(0, c.n);
  check_same_set(tmp / "a.fits", set);
  // The keys mean what they mean for training: +-range shifts and shears, jitter within +-j.
  for (const StampTruth& t : set.truth) {
    CHECK(std::abs(t.g1) <= 0.1);
    CHECK(std::abs(t.dilation - 1) <= 0.15);
    CHECK(std::abs(t.mu - 1) <= 0.05);
  }
  ds::fits::FitsFile f(tmp / "a.fits");
  CHECK(f.key_string("SPLIT") == "train");
  CHECK(f.key_double("NOISESCL") == 0.5);
}

TEST_CASE("simulate of a real-galaxy catalogue equals the library's set of the same split") {
  const std::string btk =
      ds::test::shared_file("BlendingToolKit/data/cosmos/real_galaxy_catalog_26_extension_example.fits");
  if (btk.empty()) return;
  ds::test::TempDir tmp;
  simulate("--n=6 --seed=2 --split=test --source='" + btk + "' --noise_scale=0", tmp / "r.fits");
  StampSetConfig c;
  c.n = 6;
  c.seed = 2;
  c.source = btk;
  c.noise_scale = 0;
  check_same_set(tmp / "r.fits", StampRenderer(c).render(0, c.n));
}

TEST_CASE("simulate gives the same file on 1 and 2 threads, and rejects the old keys") {
  ds::test::TempDir tmp;
  simulate("--n=8 --seed=3 --threads 1 --shift_range=3.5", tmp / "a.fits");
  simulate("--n=8 --seed=3 --threads 2 --shift_range=3.5", tmp / "b.fits");
  ds::fits::FitsFile a(tmp / "a.fits"), b(tmp / "b.fits");
  ds::Tensor ca = a.read_cube(), cb = b.read_cube();
  long differ = 0;
  for (long k = 0; k < ca.size(); ++k) differ += ca[k] != cb[k];
  CHECK(differ == 0);
  a.hdu("TRUTH");
  b.hdu("TRUTH");
  CHECK(a.read_column("offset_x") == b.read_column("offset_x"));
  for (double dx : a.read_column("offset_x")) CHECK(std::abs(dx) <= 3.5);
  for (const char* old : {"--g_max=0.1", "--mirror=false", "--noise=none"}) {
    auto r = ds::test::run_cli(std::string("simulate --quiet ") + old + " --out '" + (tmp / "c.fits") + "'");
    CHECK(r.exit_code == 2);
  }
}
