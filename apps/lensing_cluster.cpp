// deepshear cluster: cluster fields (science images with inverse-variance
// maps) in, per-galaxy shear catalogues (CNN and RRG on the same stamps),
// point-source plots, noise kernels and a JSON summary out.
#include <iostream>

#include "cli.hpp"
#include "deepshear/engine/config.hpp"
#include "deepshear/lensing/cluster/cluster_run.hpp"

namespace ds::app {
namespace {

int run(int argc, char** argv) {
  Config cfg;
  lens::add_cluster_params(cfg);
  Args args("deepshear cluster (--image IMG[,IMG...] --weight WHT[,WHT...] | --fields LIST) --out DIR [--KEY=VALUE ...]",
            "Shear catalogues of cluster fields (Springer et al. 2018, sec. 2 and 6). Per field: the total image\n"
            "and inverse variance of the filter images (eqs. 2-3), sources from a SExtractor catalogue or from\n"
            "SExtractor run here, cuts (exposure, bad pixels, image edge, point sources in the r_half and mu_max\n"
            "- magnitude planes, SExtractor flags), the field's background noise kernel compared with the model's,\n"
            "then CNN (symmetrised, calibrated) and RRG on the same 32x32 stamps. Writes <field>_shear.fits (all\n"
            "sources with RA, DEC, G1_<EST>, G2_<EST>, FLAGS_<EST>, CUT, CUT_REASON; shears in the sky frame),\n"
            "<field>_point_sources.png, <field>_noise_kernel.txt, <field>_summary.json, and cluster_summary.json\n"
            "and cluster_config.cfg for the run. Feed the catalogues to deepshear maps.");
  args.config(cfg);
  if (!args.parse(argc, argv)) return 0;
  lens::run_cluster(cfg, [](const lens::ClusterSummary& s) { std::cout << s.text(); });
  return 0;
}

Register reg("cluster", "cluster fields (images + weight maps) -> shear catalogues with CNN and RRG side by side", run);

}  // namespace
}  // namespace ds::app
