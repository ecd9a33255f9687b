// The synthetic lensing cluster: truth against the NFW formulas, fluxes against
// the truth magnitudes, the WCS of the written files, the noise level,
// thread-count independence, and the mock-cluster command.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <vector>

#include <nlohmann/json.hpp>

#include "deepshear/engine/atomic_file.hpp"
#include "deepshear/engine/error.hpp"
#include "deepshear/engine/fits.hpp"
#include "deepshear/engine/parallel.hpp"
#include "deepshear/imaging/noise.hpp"
#include "deepshear/imaging/wcs.hpp"
#include "deepshear/lensing/cluster/mock_cluster.hpp"
#include "test_support.hpp"

using namespace ds::lens;

namespace {
// A small field: 40" x 40" (615 px), dense, the cluster centre 45" to the left
// of the field centre so that every source is in the weak-lensing regime.
MockClusterConfig small_field() {
  MockClusterConfig c;
  c.size = 40;
  c.density = 120;
  c.stars = 3;
  c.foreground = 2;
  c.centre_dx = -45;
  c.seed = 7;
  return c;
}

double flux_of(double mag) { return std::pow(10.0, -0.4 * (mag - 25.419)); }
}  // namespace

TEST_CASE("mock cluster: the truth table follows the NFW lens at each source's position") {
  MockClusterConfig c = small_field();
  c.noise_scale = 0;
  MockCluster m = make_mock_cluster(c);
  REQUIRE(m.count(MockKind::Background) == std::lround(120 * 40.0 * 40.0 / 3600));
  CHECK(m.count(MockKind::Star) == 3);
  CHECK(m.count(MockKind::Foreground) == 2);
  CHECK(m.image.nx() == 615);
  CHECK(m.xcen == doctest::Approx(307 - 45 / 0.065));
  NfwLens lens = NfwLens::with_source_redshift(0.35, 1.0, 4.0, Cosmology{70, 0.27});
  for (const MockSource& s : m.truth) {
    CHECK(s.theta == doctest::Approx(std::hypot(s.x - m.xcen, s.y - m.ycen) * 0.065));
    if (s.kind != MockKind::Background) {
      CHECK((s.g1 == 0 && s.g2 == 0 && s.mu == 1 && s.kappa == 0));
      continue;
    }
    const NfwLensing l = lens.lensing(1e15, s.theta);
    CHECK(s.kappa == doctest::Approx(l.kappa).epsilon(1e-9));
    CHECK(s.mu == doctest::Approx(l.mu).epsilon(1e-9));
    // Tangential: g = -g_t exp(2 i phi), phi the position angle in the image x/y frame.
    const double phi = std::atan2(s.y - m.ycen, s.x - m.xcen);
    CHECK(s.g1 == doctest::Approx(-l.g_t * std::cos(2 * phi)).epsilon(1e-9));
    CHECK(s.g2 == doctest::Approx(-l.g_t * std::sin(2 * phi)).epsilon(1e-9));
    CHECK(std::hypot(s.g1, s.g2) < c.max_shear);
    // mu > 1 brightens: the observed magnitude is within the population's range shifted by -2.5 log10 mu.
    CHECK(s.mag + 2.5 * std::log10(s.mu) >= 20);
    CHECK(s.mag + 2.5 * std::log10(s.mu) <= 27);
  }
  // Sources keep their distance from each other and from the edges.
  for (std::size_t i = 0; i < m.truth.size(); ++i) {
    const MockSource& a = m.truth[i];
    CHECK((a.x >= 1.5 / 0.065 - 1e-9 && a.y >= 1.5 / 0.065 - 1e-9 && a.x <= 614 - 1.5 / 0.065 && a.y <= 614 - 1.5 / 0.065));
    for (std::size_t j = 0; j < i; ++j)
      CHECK(std::hypot(a.x - m.truth[j].x, a.y - m.truth[j].y) * 0.065 >= 2.0 - 1e-9);
  }
  // Centred on the cluster, the strong-lensing core stays empty of background galaxies.
  MockClusterConfig centred = small_field();
  centred.centre_dx = 0;
  centred.noise_scale = 0;
  centred.density = 30;
  MockCluster mc = make_mock_cluster(centred);
  CHECK(mc.theta_min > 5);  // ~1e15 Msun at z = 0.35: critical curves at ~10-30"
  const NfwLensing edge = lens.lensing(1e15, mc.theta_min);
  CHECK(edge.g_t < 0.5);
  for (const MockSource& s : mc.truth)
    if (s.kind == MockKind::Background) CHECK(s.theta >= mc.theta_min);
}

TEST_CASE("mock cluster: the flux around isolated noiseless sources matches the truth magnitude") {
  // 80" x 80", sparse, so that many sources' stamps overlap no other stamp.
  MockClusterConfig c = small_field();
  c.size = 80;
  c.noise_scale = 0;
  c.density = 12;
  c.min_separation = 10;
  MockCluster m = make_mock_cluster(c);
  const long n = m.image.nx();
  int checked = 0;
  std::vector<double> ratios;
  for (const MockSource& s : m.truth) {
    // The whole rendered stamp, inside the field and overlapping no other source's stamp.
    const long h = s.stamp / 2, x0 = std::lround(s.x) - h, y0 = std::lround(s.y) - h;
    if (x0 < 0 || y0 < 0 || x0 + s.stamp > n || y0 + s.stamp > n) continue;
    bool alone = true;
    for (const MockSource& o : m.truth)
      if (o.id != s.id && std::abs(o.x - s.x) < 0.5 * double(o.stamp + s.stamp) + 1 &&
          std::abs(o.y - s.y) < 0.5 * double(o.stamp + s.stamp) + 1)
        alone = false;
    if (!alone) continue;
    double box = 0, aperture = 0;
    // A circular aperture of radius 8 r_half sqrt(mu) + 0.5" (PSF), capped by the stamp.
    const double rad = std::min(double(h) - 1, (8 * s.r_half * std::sqrt(s.mu) + 0.5) / 0.065);
    for (long y = y0; y < y0 + s.stamp; ++y)
      for (long x = x0; x < x0 + s.stamp; ++x) {
        box += m.image(y, x);
        if (std::hypot(double(x) - s.x, double(y) - s.y) <= rad) aperture += m.image(y, x);
      }
    const double f = flux_of(s.mag);
    INFO("source " << s.id << " kind " << int(s.kind) << " mag " << s.mag << " r_half " << s.r_half << " mu " << s.mu);
    CHECK(box == doctest::Approx(f).epsilon(0.005));  // everything rendered lands in the stamp
    CHECK(aperture == doctest::Approx(f).epsilon(0.03));
    ratios.push_back(aperture / f);
    ++checked;
  }
  CHECK(checked >= 5);
  std::sort(ratios.begin(), ratios.end());
  MESSAGE(checked << " isolated sources, aperture / truth flux " << ratios.front() << " .. " << ratios.back());
  CHECK(ratios[ratios.size() / 2] == doctest::Approx(1).epsilon(0.015));
}

TEST_CASE("mock cluster: the written WCS maps the truth X, Y to RA, Dec (north up, east left)") {
  ds::test::TempDir tmp;
  MockClusterConfig c = small_field();
  c.density = 20;
  c.mask_corner = 5;
  MockCluster m = make_mock_cluster(c);
  write_mock_cluster(m, tmp / "out");
  for (const char* f : {"mock_sci.fits", "mock_wht.fits", "mock_truth.fits", "mock_cluster.json"})
    CHECK_MESSAGE(std::filesystem::exists(tmp / ("out/" + std::string(f))), f);
  ds::fits::FitsFile sci(tmp / "out/mock_sci.fits");
  const auto wcs = ds::img::TanWcs::from_header(sci);
  CHECK(wcs.pixel_scale() == doctest::Approx(0.065));
  CHECK(sci.key_double("MAGZERO") == 25.419);
  CHECK(sci.key_double("NOISERMS") == doctest::Approx(m.noise_rms));
  ds::ImageF img = sci.read_image<float>();
  CHECK(img.nx() == 615);
  ds::fits::FitsFile truth(tmp / "out/mock_truth.fits");
  truth.hdu("TRUTH");
  auto x = truth.read_column("X"), y = truth.read_column("Y"), ra = truth.read_column("RA"),
       dec = truth.read_column("DEC");
  REQUIRE(x.size() == m.truth.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    double r, d;
    wcs.pixel_to_world(x[i], y[i], r, d);
    CHECK(r == doctest::Approx(ra[i]).epsilon(1e-12));
    CHECK(d == doctest::Approx(dec[i]).epsilon(1e-12));
  }
  double r0, d0, r1, d1, r2, d2;
  wcs.pixel_to_world(300, 300, r0, d0);
  wcs.pixel_to_world(301, 300, r1, d1);
  wcs.pixel_to_world(300, 301, r2, d2);
  CHECK(r1 < r0);  // +x is west
  CHECK(d2 > d0);  // +y is north
  CHECK(truth.key_double("M200") == 1e15);
  CHECK(truth.key_double("XCEN") == doctest::Approx(m.xcen));
  double rc, dc;
  wcs.pixel_to_world(m.xcen, m.ycen, rc, dc);
  CHECK(truth.key_double("RA_CEN") == doctest::Approx(rc).epsilon(1e-12));
  // The masked corner has zero weight and no data; elsewhere the weight is 1 / noise_rms^2.
  ds::fits::FitsFile wht(tmp / "out/mock_wht.fits");
  ds::ImageF w = wht.read_image<float>();
  CHECK(w(614, 614) == 0);
  CHECK(img(614, 614) == 0);
  CHECK(w(0, 0) == doctest::Approx(1 / (m.noise_rms * m.noise_rms)).epsilon(1e-6));
}

TEST_CASE("mock cluster: the noise in an empty region has the kernel's RMS; threads do not change the field") {
  MockClusterConfig c = small_field();
  c.density = 10;
  c.stars = 1;
  c.foreground = 0;
  const int before = ds::threads();
  ds::set_threads(1);
  MockCluster one = make_mock_cluster(c);
  ds::set_threads(2);
  MockCluster two = make_mock_cluster(c);
  ds::set_threads(before);
  REQUIRE(one.image.size() == two.image.size());
  CHECK(std::equal(one.image.begin(), one.image.end(), two.image.begin()));
  const double k_rms = ds::img::NoiseKernel::load_default().rms();
  CHECK(one.noise_rms == doctest::Approx(k_rms));
  CHECK(k_rms == doctest::Approx(3.6e-3).epsilon(0.05));
  // Pixels farther than 4" from every source.
  double s2 = 0, s1 = 0;
  long count = 0;
  for (long y = 0; y < one.image.ny(); ++y)
    for (long x = 0; x < one.image.nx(); ++x) {
      bool empty = true;
      for (const MockSource& s : one.truth) empty = empty && std::hypot(x - s.x, y - s.y) * 0.065 > 4;
      if (!empty) continue;
      s1 += one.image(y, x), s2 += double(one.image(y, x)) * one.image(y, x), ++count;
    }
  REQUIRE(count > 50000);
  const double mean = s1 / double(count), rms = std::sqrt(s2 / double(count) - mean * mean);
  CHECK(std::abs(mean) < 0.05 * k_rms);  // sky-subtracted
  CHECK(rms == doctest::Approx(k_rms).epsilon(0.03));
  // The noise scale scales it.
  c.noise_scale = 0.5;
  CHECK(make_mock_cluster(c).noise_rms == doctest::Approx(0.5 * k_rms));
}

TEST_CASE("mock cluster command: writes the four files; a bad option fails with one line naming it") {
  ds::test::TempDir tmp;
  auto r = ds::test::run_cli("mock-cluster -o '" + (tmp / "m") +
                             "' --size 30 --density 40 --stars 2 --foreground 1 --centre=-40,0 --seed 3 --quiet");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  for (const char* f : {"mock_sci.fits", "mock_wht.fits", "mock_truth.fits", "mock_cluster.json"})
    CHECK_MESSAGE(std::filesystem::exists(tmp / ("m/" + std::string(f))), f);
  const auto json = nlohmann::json::parse(ds::read_text_file(tmp / "m/mock_cluster.json"));
  CHECK(json["counts"]["background"] == 10);
  CHECK(json["counts"]["stars"] == 2);
  CHECK(json["counts"]["foreground"] == 1);
  CHECK(json["config"]["seed"] == 3);
  ds::fits::FitsFile t(tmp / "m/mock_truth.fits");
  t.hdu("TRUTH");
  CHECK(t.num_rows() == 13);
  CHECK(t.key_long("SEED") == 3);
  for (const char* bad : {"--density -1", "--z-source 0.2", "--size abc", "--centre 1", "--bogus 3"}) {
    auto b = ds::test::run_cli("mock-cluster -o '" + (tmp / "bad") + "' " + bad);
    INFO(bad << ": " << b.err);
    CHECK(b.exit_code == 2);
    const std::string opt = std::string(bad).substr(0, std::string(bad).find(' '));
    CHECK(b.err.find(opt) != std::string::npos);
    CHECK(std::count(b.err.begin(), b.err.end(), '\n') == 1);
  }
  CHECK(!std::filesystem::exists(tmp / "bad/mock_sci.fits"));
}
