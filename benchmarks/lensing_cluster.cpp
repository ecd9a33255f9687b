// The cluster pipeline on a 3' x 3' mock field (issue 7 target: FITS images to a
// shear catalogue with about 400 sources in under 60 s on the 2-core machine,
// SExtractor's time reported separately). Makes the mock field (timed apart),
// writes it, runs deepshear cluster's library entry on it with the shipped model,
// and prints one JSON line of wall times in seconds.
//   bench_lensing_cluster [density=45] [size_arcsec=180]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "deepshear/engine/data_path.hpp"
#include "deepshear/engine/log.hpp"
#include "deepshear/engine/parallel.hpp"
#include "deepshear/lensing/cluster/cluster_run.hpp"
#include "deepshear/lensing/cluster/mock_cluster.hpp"

using namespace ds::lens;

int main(int argc, char** argv) {
  using clock = std::chrono::steady_clock;
  auto secs = [](clock::time_point a) { return std::chrono::duration<double>(clock::now() - a).count(); };
  ds::set_quiet(true);
  MockClusterConfig mc;
  mc.density = argc > 1 ? std::atof(argv[1]) : 45;
  mc.size = argc > 2 ? std::atof(argv[2]) : 180;
  const std::string dir = (std::filesystem::temp_directory_path() / "deepshear-bench-cluster").string();
  std::filesystem::remove_all(dir);
  auto t0 = clock::now();
  auto mock = make_mock_cluster(mc);
  write_mock_cluster(mock, dir + "/field");
  const double t_mock = secs(t0);

  FieldInputs in;
  in.images = {dir + "/field/mock_sci.fits"};
  in.weights = {dir + "/field/mock_wht.fits"};
  ClusterOptions opt;
  for (const std::string e : {"cnn", "rrg"}) opt.calibrations[e] = ds::data_path("calibration_" + e + "_magnitude.cfg");
  t0 = clock::now();
  auto estimators = make_cluster_estimators(opt);  // the shipped model
  auto s = run_cluster_field(in, opt, estimators, dir + "/out");
  const double t_cluster = secs(t0);
  std::printf(
      "{\"bench\": \"lensing_cluster\", \"threads\": %d, \"field_arcsec\": %.0f, \"sources_true\": %zu, "
      "\"detected\": %ld, \"kept\": %ld, \"mock_seconds\": %.3f, \"cluster_seconds\": %.3f, "
      "\"sextractor_seconds\": %.3f, \"cluster_without_sextractor_seconds\": %.3f, \"target_seconds\": 60}\n",
      ds::threads(), mc.size, mock.truth.size(), s.sources, s.kept, t_mock, t_cluster, s.sextractor_seconds,
      t_cluster - s.sextractor_seconds);
  std::filesystem::remove_all(dir);
  return 0;
}
