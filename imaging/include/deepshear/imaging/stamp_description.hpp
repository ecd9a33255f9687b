// The description of one rendered stamp (deepshear render): galaxy, transforms,
// target PSF, pixel grid and noise. One table of keys (stamp_description_keys)
// declares every parameter once and feeds both the flags (a Config) and the
// JSON description:
//   {"galaxy": {"kind": "sersic", "n": 4, "hlr": 0.3, "flux": 100, "g1": 0.1, "g2": 0,
//               "sigma": .., "fwhm": .., "trunc": .., "beta": ..,
//               "catalog": "cat.fits", "index": 0, "seed": 1, "treatment": false},
//    "transforms": [{"dilate": 1.1}, {"rotate": 30}, {"mirror": true},
//                   {"shear": [0.05, 0]}, {"lens": [0.05, -0.02, 1.0]}, {"shift": [0.01, 0]},
//                   {"flux_scale": 2}],   // in list order (rotate in degrees, shift in arcsec)
//    "psf": {"kind": "gaussian" | "moffat" | "none", "fwhm": 0.12, "beta": 3.5, "g1": 0, "g2": 0},
//    "pixel_scale": 0.065, "nx": 32, "ny": 32, "offset": [0.1, -0.2], "pixel": true,
//    "noise": {"kernel": "default" | "none" | FILE, "scale": 1, "seed": 1, "index": 0}}
// JSON values override the flags; a transform list replaces the flags' chain
// (dilate -> rotate -> mirror -> lens -> shift). Unknown, misspelt or repeated
// keys, values of the wrong type, and malformed JSON (numbers such as inf, nan or
// hex, bad escapes) are errors naming the file and the key.
#pragma once
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "deepshear/engine/config.hpp"
#include "deepshear/engine/image.hpp"
#include "deepshear/imaging/profile.hpp"

namespace ds::img {

// One transform of a JSON list: its kind (dilate, rotate, mirror, shear, lens,
// shift, flux_scale) and its numbers (1, 2 or 3 of them).
struct DescribedTransform {
  std::string kind;
  std::vector<double> values;
};

struct StampDescription {
  // Galaxy. Kinds: gaussian (sigma | fwhm | hlr), exponential (hlr), sersic (n, hlr,
  // trunc), moffat (beta, fwhm | 2 hlr), delta, parametric (seed, index: a draw of
  // the built-in population), real (catalog, index: reconvolution of a
  // RealGalaxyCatalog row), twin (catalog, index: the parametric twin of the row).
  std::string kind = "sersic";
  double flux = 1;                 // analytic kinds; parametric, real, twin only when given
  double sigma = 0, fwhm = 0;      // gaussian sigma, gaussian/moffat FWHM [arcsec] (0: from hlr)
  double hlr = 0.3, n = 4, trunc = 0, beta = 3.5;  // [arcsec], Sersic index, truncation, Moffat beta
  double g1 = 0, g2 = 0;           // intrinsic shear
  std::string catalog;
  long index = 0, seed = 1;        // catalogue row / population item; population seed
  bool treatment = false;          // real galaxies: the method's rescale, cut-off and flux factor
  // Transforms from flags (rotate in degrees, shift in arcsec), or the JSON list.
  double dilate = 1, rotate = 0, lens_g1 = 0, lens_g2 = 0, mu = 1, shift_x = 0, shift_y = 0;
  bool mirror = false;
  bool has_transform_list = false;
  std::vector<DescribedTransform> transforms;
  // Target PSF: gaussian, moffat or none.
  std::string psf = "gaussian";
  double psf_fwhm = 0.12, psf_beta = 3.5, psf_g1 = 0, psf_g2 = 0;
  // Pixel grid: pixel (x, y) is centred at ((x - (nx-1)/2 - offset_x) * scale, ...).
  double pixel_scale = 0.065, offset_x = 0, offset_y = 0;
  long nx = 32, ny = 32;
  bool pixel = true;
  // Noise: kernel none, default or a file; stream RandomStream(noise_seed, "noise", noise_index).
  std::string noise = "none";
  double noise_scale = 1;
  long noise_seed = -1, noise_index = 0;  // noise_seed -1: the flags' seed
  // Flag names of the keys given explicitly (by flag or JSON).
  std::set<std::string> given;
};

// One parameter: its flag (Config key), its place in the JSON description
// ("galaxy.hlr", "offset[0]"; "" = flags only), the member it sets, and its help.
struct StampDescriptionKey {
  using Field = std::variant<double StampDescription::*, long StampDescription::*, bool StampDescription::*,
                             std::string StampDescription::*>;
  const char* flag;
  const char* json;
  Field field;
  const char* help;
};
const std::vector<StampDescriptionKey>& stamp_description_keys();

// Declares every key as a Config parameter with the defaults of StampDescription{}.
void declare_stamp_description(Config& cfg);
// The description the flags in cfg give (keys not on the command line or in a
// config file keep their defaults and are not `given`).
StampDescription stamp_description_from_config(const Config& cfg);
// Overrides d with the JSON description `text`, read from `file` (named in errors).
void apply_stamp_json(StampDescription& d, const std::string& text, const std::string& file);

// A rendered stamp: the image, the profile drawn (galaxy, transforms, PSF) and a
// note on the source (catalogue row, population draw) for the log.
struct RenderedStamp {
  ImageF image;
  ProfilePtr profile;
  std::string note;
};
// Renders d: galaxy -> (real + treatment: rescale) -> transforms -> PSF -> draw
// (ny x nx, with the pixel unless !pixel) -> (cut-off, flux factor) -> noise.
RenderedStamp render_described_stamp(const StampDescription& d);

}  // namespace ds::img
