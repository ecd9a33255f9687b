// Running SExtractor (Bertin & Arnouts 1996; Debian package source-extractor)
// on a total image with its inverse-variance map, with the configuration
// shipped in data/sextractor/, and reading back its catalogue and its
// SEGMENTATION and BACKGROUND check-images.
#pragma once
#include <string>
#include <vector>

#include "deepshear/engine/image.hpp"
#include "deepshear/lensing/cluster/sextractor.hpp"

namespace ds::lens {

struct SExtractorOptions {
  std::string binary;      // "" = source-extractor, then sex, on PATH
  std::string config_dir;  // "" = the shipped data/sextractor/
  double zero_point = 25.419;
  double pixel_scale = 0.065;  // arcsec / px
  double seeing_fwhm = 0.12;   // arcsec
  // Further "-KEY value" settings passed on the command line, e.g.
  // {"-DETECT_THRESH", "1.5"}.
  std::vector<std::string> extra;
};

struct SExtractorResult {
  SourceList sources;          // the LDAC_OBJECTS table
  ImageF segmentation;         // ny x nx: 0 background, else the source NUMBER
  ImageF background;           // ny x nx: SExtractor's background model
  double seconds = 0;          // wall time of the SExtractor process
  std::string command;         // as run
};

// The SExtractor executable on PATH, or "" when there is none.
std::string find_sextractor(const std::string& preferred = "");

// Writes image and weight (ny x nx) into `workdir`, runs SExtractor there and
// reads its outputs. No SExtractor: an error saying how to install it; a
// failed run: an error with the end of its messages.
SExtractorResult run_sextractor(const ImageF& image, const ImageF& weight, const SExtractorOptions& options,
                                const std::string& workdir);

}  // namespace ds::lens
