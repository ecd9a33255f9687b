// The pieces of deepshear cluster that need no mock field: field lists, input
// checks, the sky frame of the shears, point-source selection and the cuts.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>

#include "deepshear/engine/error.hpp"
#include "deepshear/engine/fits.hpp"
#include "deepshear/engine/random.hpp"
#include "deepshear/lensing/calibration.hpp"
#include "deepshear/lensing/cluster/cluster_run.hpp"
#include "deepshear/lensing/training/stamp_set.hpp"
#include "deepshear/nn/model_file.hpp"
#include "test_support.hpp"

namespace {

using ds::test::error_of;

using ds::test::TempDir;

// A float image of ny x nx filled with v, with a north-up TAN WCS unless wcs is false.
void write_image(const std::string& path, long ny, long nx, float v, bool wcs = true) {
  ds::fits::FitsWriter w(path);
  w.write_image(ds::ImageF(ny, nx, v), ds::fits::PixelType::Float32);
  if (wcs) {
    w.write_key("CTYPE1", "RA---TAN"), w.write_key("CTYPE2", "DEC--TAN");
    w.write_key("CRPIX1", nx / 2.0), w.write_key("CRPIX2", ny / 2.0);
    w.write_key("CRVAL1", 150.0), w.write_key("CRVAL2", 2.0);
    w.write_key("CD1_1", -0.065 / 3600), w.write_key("CD1_2", 0.0);
    w.write_key("CD2_1", 0.0), w.write_key("CD2_2", 0.065 / 3600);
  }
  w.commit();
}

}  // namespace

TEST_CASE("cluster field list: key=value lines, paths from the list's folder, errors name line and key") {
  TempDir d;
  {
    std::ofstream f(d / "fields.txt");
    f << "# two fields\n"
      << "name=a image=a1.fits,a2.fits weight=a1_w.fits,a2_w.fits mask=bad.fits\n\n"
      << "image=/abs/b_drz.fits weight=/abs/b_wht.fits catalog=b.cat  # with a catalogue\n";
  }
  auto fields = ds::lens::read_field_list(d / "fields.txt");
  REQUIRE(fields.size() == 2);
  CHECK(fields[0].name == "a");
  CHECK(fields[0].images == std::vector<std::string>{d / "a1.fits", d / "a2.fits"});
  CHECK(fields[0].masks == std::vector<std::string>{d / "bad.fits"});
  CHECK(fields[1].images[0] == "/abs/b_drz.fits");
  CHECK(fields[1].catalogue == d / "b.cat");
  CHECK(fields[1].display_name() == "b");
  {
    std::ofstream f(d / "bad.txt");
    f << "image=x.fits weight=y.fits\nimage=x.fits wieght=y.fits\n";
  }
  auto msg = error_of([&] { ds::lens::read_field_list(d / "bad.txt"); });
  CHECK(msg.find("bad.txt:2") != std::string::npos);
  CHECK(msg.find("'wieght'") != std::string::npos);
  // Without weight=, the MosaicDrizzle names pair X_drz.fits with X_wht.fits.
  std::ofstream(d / "c_drz.fits") << "x";
  std::ofstream(d / "c_wht.fits") << "x";
  {
    std::ofstream f(d / "conv.txt");
    f << "image=c_drz.fits\n";
  }
  auto conv = ds::lens::read_field_list(d / "conv.txt");
  CHECK(conv[0].weights == std::vector<std::string>{d / "c_wht.fits"});
  {
    std::ofstream f(d / "noweight.txt");
    f << "image=e_drz.fits\n";
  }
  CHECK(error_of([&] { ds::lens::read_field_list(d / "noweight.txt"); }).find("noweight.txt:1: no weight=") !=
        std::string::npos);
}

TEST_CASE("cluster inputs: total image of the filters; a missing weight, a size mismatch or no WCS is a clear error") {
  TempDir d;
  write_image(d / "f1.fits", 40, 50, 1.0f);
  write_image(d / "f2.fits", 40, 50, 3.0f, false);
  write_image(d / "w1.fits", 40, 50, 4.0f, false);
  write_image(d / "w2.fits", 40, 50, 4.0f, false);
  write_image(d / "small.fits", 40, 49, 1.0f, false);
  write_image(d / "nowcs.fits", 40, 50, 1.0f, false);
  ds::lens::FieldInputs in;
  in.images = {d / "f1.fits", d / "f2.fits"}, in.weights = {d / "w1.fits", d / "w2.fits"};
  auto f = ds::lens::load_field(in);
  CHECK(f.total.image(3, 4) == doctest::Approx(2.0));
  CHECK(f.total.weight(3, 4) == doctest::Approx(4.0 / (0.25 + 0.25)));  // n^2 / sum V
  CHECK(f.pixel_scale == doctest::Approx(0.065));
  CHECK(f.bad(0, 0) == 0);

  auto missing = in;
  missing.weights.pop_back();
  CHECK(error_of([&] { ds::lens::load_field(missing); }).find("2 science image(s) but 1 weight map") != std::string::npos);
  auto mismatch = in;
  mismatch.weights[1] = d / "small.fits";
  auto msg = error_of([&] { ds::lens::load_field(mismatch); });
  CHECK(msg.find("small.fits") != std::string::npos);
  CHECK(msg.find("49x40") != std::string::npos);
  auto nowcs = in;
  nowcs.images[0] = d / "nowcs.fits";
  msg = error_of([&] { ds::lens::load_field(nowcs); });
  CHECK(msg.find("nowcs.fits") != std::string::npos);
  CHECK(msg.find("CTYPE1") != std::string::npos);
  auto nofile = in;
  nofile.weights[0] = d / "absent.fits";
  CHECK(error_of([&] { ds::lens::load_field(nofile); }).find("absent.fits") != std::string::npos);
}

TEST_CASE("cluster shears in the sky frame: east-left images mirror g2; a rotated WCS rotates g by twice the angle") {
  // North up, east left (CD1_1 < 0): x_sky = -x_pix, so g2 changes sign.
  ds::img::TanWcs flip(1, 1, 150, 2, -1e-5, 0, 0, 1e-5);
  double g1 = 0.1, g2 = 0.05;
  ds::lens::pixel_to_sky_shear(flip, g1, g2);
  CHECK(g1 == doctest::Approx(0.1));
  CHECK(g2 == doctest::Approx(-0.05));
  // A pure rotation by theta (no mirror): g -> g exp(2 i theta).
  const double th = 0.3, s = 2e-5;
  ds::img::TanWcs rot(1, 1, 150, 2, s * std::cos(th), -s * std::sin(th), s * std::sin(th), s * std::cos(th));
  g1 = 0.1, g2 = 0.05;
  ds::lens::pixel_to_sky_shear(rot, g1, g2);
  const std::complex<double> want = std::complex<double>(0.1, 0.05) * std::polar(1.0, 2 * th);
  CHECK(g1 == doctest::Approx(want.real()));
  CHECK(g2 == doctest::Approx(want.imag()));
}

TEST_CASE("point sources: the box's stars fit the mu_max - magnitude line, the stripe finds the faint ones") {
  ds::RandomStream r(5, "test.stars", 0);
  std::vector<double> mag, rh, mu;
  std::vector<int> truth;
  for (int i = 0; i < 60; ++i) {  // stars: mu_max = mag - 5.6, r_half 0.06" (small scatter)
    const double m = 18 + 6.5 * r.uniform();
    mag.push_back(m), mu.push_back(m - 5.6 + 0.05 * r.normal()), rh.push_back(0.06 + 0.004 * r.normal());
    truth.push_back(1);
  }
  for (int i = 0; i < 300; ++i) {  // galaxies: larger and of lower surface brightness
    const double m = 20 + 7 * r.uniform();
    mag.push_back(m), mu.push_back(m - 3.5 + 0.6 * r.uniform()), rh.push_back(0.12 + 0.5 * r.uniform());
    truth.push_back(0);
  }
  ds::lens::PointSourceOptions opt;
  auto sel = ds::lens::select_point_sources(mag, rh, mu, opt);
  CHECK(sel.line_fitted);
  CHECK(sel.slope == doctest::Approx(1.0).epsilon(0.05));
  CHECK(sel.intercept == doctest::Approx(-5.6).epsilon(0.05));
  int hits = 0, false_pos = 0, faint_stripe = 0;
  for (std::size_t i = 0; i < mag.size(); ++i) {
    hits += truth[i] && sel.star[i];
    false_pos += !truth[i] && sel.star[i];
    faint_stripe += truth[i] && !sel.in_box[i] && sel.on_line[i];
  }
  CHECK(hits >= 58);       // all but stars fainter than the stripe
  CHECK(false_pos == 0);
  CHECK(faint_stripe > 0);  // stars fainter than the box, found by the stripe
  TempDir d;
  ds::lens::plot_point_sources(mag, rh, mu, sel, opt, d / "stars.svg", "test");
  CHECK(std::filesystem::file_size(d / "stars.svg") > 1000);
  opt.enabled = false;
  CHECK(ds::lens::select_point_sources(mag, rh, mu, opt).stars == 0);
}

TEST_CASE("cluster cuts: edge, exposure (mean W in the 32 px box), bad pixels, stars and SExtractor flags") {
  ds::lens::LoadedField f;
  f.total.image = ds::ImageF(200, 200, 0.0f);
  f.total.weight = ds::ImageF(200, 200, 1e5f);
  f.bad = ds::Image<unsigned char>(200, 200, 0);
  for (long y = 0; y < 200; ++y)
    for (long x = 150; x < 200; ++x) f.total.weight(y, x) = 1e4f;  // shallow strip on the right
  f.bad(100, 60) = 1;
  const std::vector<double> x = {50, 10, 170, 60, 100, 100, 134.5};
  const std::vector<double> y = {50, 100, 100, 90, 150, 40, 40};
  const std::vector<double> flags = {0, 0, 0, 0, 0, 8, 0};
  const std::vector<unsigned char> star = {0, 0, 0, 0, 1, 0, 0};
  std::vector<double> exposure;
  auto cuts = ds::lens::source_cuts(f, x, y, flags, star, {}, &exposure);
  CHECK(cuts[0] == 0);
  CHECK(cuts[1] == ds::lens::kCutEdge);             // the stamp starts at x = -6
  CHECK((cuts[2] & ds::lens::kCutExposure) != 0);   // inside the shallow strip
  CHECK(cuts[3] == ds::lens::kCutBadPixel);         // pixel (60, 100) in its stamp
  CHECK(cuts[4] == ds::lens::kCutPointSource);
  CHECK(cuts[5] == ds::lens::kCutSExtractor);       // FLAGS 8: truncated
  // Box [119, 151) straddles the strip by one column: mean W just above 5e4.
  CHECK(exposure[6] == doctest::Approx((31 * 1e5 + 1e4) / 32.0));
  CHECK(cuts[6] == 0);
  CHECK(ds::lens::describe_cuts(ds::lens::kCutEdge | ds::lens::kCutPointSource) == "edge|star");
}

TEST_CASE("binned calibration files: a fit saved and loaded applies the same (c, m) at every magnitude") {
  ds::RandomStream r(9, "test.binned", 0);
  std::vector<double> q, t1, t2, o1, o2;
  for (int i = 0; i < 3000; ++i) {
    const double mag = 20 + 7 * r.uniform(), g1 = r.uniform(-0.2, 0.2), g2 = r.uniform(-0.2, 0.2);
    const double m = -0.1 * (mag - 22);  // bias growing with magnitude
    q.push_back(mag), t1.push_back(g1), t2.push_back(g2);
    o1.push_back(0.01 + (1 + m) * g1 + 0.02 * r.normal()), o2.push_back((1 + m) * g2 + 0.02 * r.normal());
  }
  auto fit = ds::lens::BinnedCalibration::fit("magnitude", q, t1, t2, o1, o2, 6);
  TempDir d;
  fit.save(d / "cal.cfg", "rrg");
  std::string est;
  CHECK(ds::lens::BinnedCalibration::is_binned_file(d / "cal.cfg"));
  auto back = ds::lens::BinnedCalibration::load(d / "cal.cfg", &est);
  CHECK(est == "rrg");
  CHECK(back.quantity == "magnitude");
  for (double mag : {19.0, 21.3, 24.0, 26.9, 28.0}) {
    auto a = fit.at(mag), b = back.at(mag);
    CHECK(b.m1 == doctest::Approx(a.m1).epsilon(1e-8));
    CHECK(b.c2 == doctest::Approx(a.c2).epsilon(1e-8));
  }
  CHECK(back.at(24.0).m1 == doctest::Approx(-0.2).epsilon(0.15));  // the injected m at magnitude 24
  ds::lens::Calibration{0, 0.1, 0, 0.1}.save(d / "global.cfg", "rrg");
  CHECK_FALSE(ds::lens::BinnedCalibration::is_binned_file(d / "global.cfg"));
  {
    std::ofstream f(d / "short.cfg");
    f << "quantity = magnitude\nedges = 1, 2, 3\ncentres = 1.5, 2.5\nc1 = 0, 0\nm1 = 0\nc2 = 0, 0\nm2 = 0, 0\n";
  }
  auto msg = error_of([&] { ds::lens::BinnedCalibration::load(d / "short.cfg"); });
  CHECK(msg.find("short.cfg") != std::string::npos);
  CHECK(msg.find("m1") != std::string::npos);
}

TEST_CASE("cluster command: a missing weight map or a catalogue without MAG_AUTO is one clear error, nothing written") {
  TempDir d;
  write_image(d / "sci.fits", 64, 64, 0.0f);
  write_image(d / "wht.fits", 64, 64, 1e5f, false);
  auto r = ds::test::run_cli("cluster --image " + d / "sci.fits" + " --out " + d / "out" + " --estimators rrg");
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("sci.fits: no weight map given") != std::string::npos);
  {
    ds::fits::FitsWriter w(d / "cat.fits");
    w.write_table({ds::fits::TableColumn::doubles("X_IMAGE", {30}), ds::fits::TableColumn::doubles("Y_IMAGE", {30}),
                   ds::fits::TableColumn::doubles("FLUX_RADIUS", {2})},
                  "LDAC_OBJECTS");
    w.commit();
  }
  r = ds::test::run_cli("cluster --image " + d / "sci.fits" + " --weight " + d / "wht.fits" + " --catalogue " +
                        d / "cat.fits" + " --out " + d / "out" + " --estimators rrg");
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("cat.fits") != std::string::npos);
  CHECK(r.err.find("MAG_AUTO") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(d / "out/sci_shear.fits"));
  r = ds::test::run_cli("cluster --image " + d / "sci.fits" + " --weight " + d / "wht.fits" + " --out " + d / "out" +
                        " --background sky");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--background") != std::string::npos);
}

TEST_CASE("the model's training noise comes from its provenance: kernel x scale, options first") {
  TempDir dir;
  ds::ImageD k(7, 7, 0.0);
  k(3, 3) = 0.002;  // white noise of RMS 0.002
  ds::img::NoiseKernel(k).save_text(dir / "k.txt");
  ds::Config trained;
  trained.add_string("train.noise_kernel", dir / "k.txt", "").add_double("train.noise_scale", 1.5, "");
  ds::nn::Model model;
  model.provenance["config"] = trained.dump();
  ds::lens::ClusterOptions opt;
  CHECK(ds::lens::model_noise_kernel(&model, opt).rms() == doctest::Approx(0.003).epsilon(1e-9));
  opt.model_noise_scale = 0.5;  // an option wins over the provenance
  CHECK(ds::lens::model_noise_kernel(&model, opt).rms() == doctest::Approx(0.001).epsilon(1e-9));
  // No model: the shipped default kernel at scale 1.
  opt.model_noise_scale = 0;
  const double shipped = ds::img::NoiseKernel::load(ds::lens::default_noise_kernel_path()).rms();
  CHECK(ds::lens::model_noise_kernel(nullptr, opt).rms() == doctest::Approx(shipped));
}
