// Population matching (paper sec. 3.2): weights that make a set of source
// galaxies, resampled by them, follow a target distribution of
// (magnitude, log10 r_half) - the ratio of the two 2-D histograms.
#pragma once
#include <string>
#include <vector>

namespace ds::lens {

struct PopulationSample {
  std::vector<double> magnitude;   // mag
  std::vector<double> log_rhalf;   // log10(r_half / arcsec)
};

// Reads a target population: a text table with one "magnitude r_half" pair
// per line (r_half in arcsec; '#' comments), or a FITS table with columns
// MAG (or MAG_AUTO) and R_HALF (arcsec) or FLUX_RADIUS with a PIXEL_SCALE key.
// Errors name the file, line or column.
PopulationSample read_population(const std::string& path);

// Weight per source: H_target(bin) / H_source(bin) over an nbins x nbins grid
// spanning the target's range (sources outside it, or in bins the target
// leaves empty, get 0). Normalised to a mean of 1 over the sources.
std::vector<double> population_weights(const PopulationSample& sources, const PopulationSample& target,
                                       int nbins = 20);

}  // namespace ds::lens
