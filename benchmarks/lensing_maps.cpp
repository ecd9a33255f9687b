// Cluster-map statistics on mock fields of 500 sources and 2 estimators (issue 8
// targets: maps, bootstrap and error analysis for one field in under 30 s, 20 fields in
// under 10 minutes, on the 2-core machine). Prints one JSON line of wall times in seconds.
//   bench_lensing_maps [nsources=500] [nboot=100] [nfields=1]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "deepshear/engine/parallel.hpp"
#include "deepshear/lensing/cluster/kaiser_squires.hpp"
#include "deepshear/lensing/cluster/maps.hpp"
#include "deepshear/lensing/cluster/mock_field.hpp"
#include "deepshear/lensing/cluster/nfw.hpp"
#include "deepshear/lensing/cluster/relative_calibration.hpp"
#include "deepshear/lensing/cluster/source_error.hpp"
#include "deepshear/lensing/cluster/tangential_profile.hpp"

using namespace ds::lens;

int main(int argc, char** argv) {
  const long n = argc > 1 ? std::atol(argv[1]) : 500;
  const int nboot = argc > 2 ? std::atoi(argv[2]) : 100;
  const int nfields = argc > 3 ? std::atoi(argv[3]) : 1;
  using clock = std::chrono::steady_clock;
  auto secs = [](clock::time_point a) { return std::chrono::duration<double>(clock::now() - a).count(); };
  // 240" x 240" fields (CLASH: ~16 arcmin^2) around an NFW cluster (M200 = 8e14) at z = 0.35.
  NfwLens lens = NfwLens::with_source_redshift(0.35, 1.2);
  auto shear = tangential_shear_field(120, 120, [&](double r) { return lens.reduced_shear(8e14, std::max(r, 5.0)); });
  std::vector<SourceCatalogue> fields;
  for (int f = 0; f < nfields; ++f)
    fields.push_back(mock_field(n, 240, 240, shear, {{"rrg", 0.286}, {"cnn", 0.227, 0.0, 0.05, 0.005, 0.06}}, 1,
                                std::uint64_t(f))
                         .sources);
  const auto t0 = clock::now();
  auto t = clock::now();
  std::vector<ShearMaps> maps;
  for (const auto& f : fields) maps.push_back(shear_maps(f, 4.0, 20.0, {}, nboot, 2));
  const double t_maps = secs(t);
  t = clock::now();
  auto cal = relative_calibration(fields, "rrg", "cnn", {}, nboot, 0.1, 3);
  const double t_cal = secs(t);
  t = clock::now();
  SourceErrorOptions so;
  so.lambdas = {10, 15, 19.5, 25, 30, 40};
  so.nsplit = 10;
  so.nboot = nboot;
  SourceErrors se = source_errors(fields, so);
  const double t_err = secs(t);
  t = clock::now();
  double kappa_peak = 0;
  for (const auto& m : maps) kappa_peak += convergence_map(m, 1, 2.0).kappa_e.matrix().maxCoeff() / nfields;
  const double t_ks = secs(t);
  t = clock::now();
  std::vector<double> edges{15, 30, 45, 60, 80, 100, 120, 150};
  NfwFit fit;
  for (const auto& f : fields) {
    auto prof = tangential_profile(f.x, f.y, f.g1[0], f.g2[0], 120, 120, edges);
    fit = fit_nfw_m200(lens, prof.r_mean, prof.gt, prof.gt_err);
  }
  const double t_nfw = secs(t);
  const double total = secs(t0);
  std::printf(
      "{\"bench\":\"lensing_maps\",\"threads\":%d,\"fields\":%d,\"sources_per_field\":%ld,\"nboot\":%d,"
      "\"grid\":[%ld,%ld],\"lambdas\":%zu,\"splits\":%d,\"t_maps_s\":%.3f,\"t_relative_calibration_s\":%.3f,"
      "\"t_source_errors_s\":%.3f,\"t_kaiser_squires_s\":%.4f,\"t_nfw_s\":%.3f,\"t_total_s\":%.3f,"
      "\"m1\":%.3f,\"m1_err_blocks\":%.3f,\"sigma_source_rrg_g1\":%.3f,\"sigma_source_cnn_g1\":%.3f,"
      "\"kappa_peak\":%.3f,\"m200_last_field\":%.3g,\"m200_err\":%.3g}\n",
      ds::threads(), nfields, n, nboot, maps[0].grid.ny, maps[0].grid.nx, so.lambdas.size(), so.nsplit, t_maps, t_cal,
      t_err, t_ks, t_nfw, total, cal[0].m, cal[0].m_err_blocks, se.sigma_source(2, 0, 0).value,
      se.sigma_source(2, 1, 0).value, kappa_peak, fit.m200, fit.m200_err);
  return 0;
}
