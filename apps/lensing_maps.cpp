// deepshear maps CATALOGUE... --out DIR: from shear catalogues to maps and
// statistics (paper sec. 6): smoothed shear fields with bootstrap errors,
// whisker and sigma maps, Kaiser-Squires convergence, the tangential profile
// (with an NFW fit when redshifts are given), the relative calibration of each
// estimator to a reference one, and per-source errors against lambda; one
// folder with FITS cubes, pictures, JSON and an index page. The journey is
// ds::lens::run_maps (maps_run.hpp); this file parses, calls, writes and prints.
#include "cli.hpp"
#include "deepshear/engine/atomic_file.hpp"
#include "deepshear/engine/config.hpp"
#include "deepshear/engine/error.hpp"
#include "deepshear/engine/log.hpp"
#include "deepshear/engine/provenance.hpp"
#include "deepshear/lensing/cluster/maps_folder.hpp"
#include "deepshear/lensing/cluster/maps_run.hpp"

namespace {

using namespace ds;
using namespace ds::lens;

int run(int argc, char** argv) {
  Config cfg;
  add_maps_params(cfg);
  app::Args args("deepshear maps CATALOGUE.fits... --out DIR [--KEY=VALUE ...]",
                 "Maps and statistics from shear catalogues (FITS tables with RA/DEC or X/Y and G1_<EST>,\n"
                 "G2_<EST>, FLAGS_<EST> per estimator): smoothed shear maps with bootstrap errors (FITS cubes\n"
                 "with WCS, whisker and sigma pictures), Kaiser-Squires convergence, tangential profile and NFW\n"
                 "fit, relative calibration to the reference estimator over all fields, per-source errors\n"
                 "against lambda, and an index.html that shows them all.");
  args.positional("CATALOGUE", "shear catalogues, one per field", true, true);
  args.config(cfg);
  if (!args.parse(argc, argv)) return 0;
  const std::string out = cfg.get_string("out");
  if (out.empty()) throw Error::usage("maps: --out DIR is required");
  const MapsConfig config = maps_config(cfg);
  config.check();
  const MapsReport report = run_maps(args.positionals(), config);
  write_maps_folder(report, out);
  write_text_atomic(out + "/config.cfg", config_text(cfg.dump()));
  for (const auto& line : report.summary()) info(line);
  info("maps written to " + out + "/ (index.html)");
  return 0;
}

app::Register reg("maps", "smoothed shear maps, convergence, profiles, calibration and errors from shear catalogues", run);

}  // namespace
