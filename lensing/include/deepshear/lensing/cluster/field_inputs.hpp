// The inputs of one cluster field and their loading: per-filter science
// images with inverse-variance maps (the HST MosaicDrizzle *_drz.fits /
// *_wht.fits convention), optional bad-pixel masks, an optional SExtractor
// catalogue; the total image of eqs. 2-3 and the TAN WCS of the first image.
#pragma once
#include <string>
#include <vector>

#include "deepshear/engine/image.hpp"
#include "deepshear/imaging/wcs.hpp"
#include "deepshear/lensing/cluster/total_image.hpp"

namespace ds::lens {

struct FieldInputs {
  std::string name;                  // for output names ("" = the first image's stem)
  std::vector<std::string> images;   // per filter, FITS (first 2-D image HDU)
  std::vector<std::string> weights;  // inverse variance, one per image
  std::vector<std::string> masks;    // bad-pixel masks (non-zero = bad), any number
  std::string catalogue;             // SExtractor catalogue ("" = run SExtractor)
  std::string truth;                 // truth table of a simulated field ("" = none)
  // The name, or the first image's file name without .fits / _drz / _sci.
  std::string display_name() const;
};

// A list of fields, one per line of whitespace-separated key=value tokens:
//   name=a383 image=f606w_drz.fits,f814w_drz.fits weight=f606w_wht.fits,f814w_wht.fits
//   mask=bad.fits catalog=a383_sex.fits truth=mock_truth.fits
// (image required; weight too, unless every image has a conventional
// *_wht.fits beside it; '#' starts a comment). Relative paths are taken
// from the list file's folder. Errors name the file, line and key.
std::vector<FieldInputs> read_field_list(const std::string& path);

struct LoadedField {
  TotalImage total;                 // ny x nx image and inverse variance (0 = masked)
  Image<unsigned char> bad;         // ny x nx: 1 where a mask flags the pixel or W = 0
  img::TanWcs wcs;                  // of the first image
  double pixel_scale = 0;           // arcsec / px, from the WCS
  long nx() const { return total.image.nx(); }
  long ny() const { return total.image.ny(); }
};

// The weight map of a science image by the MosaicDrizzle naming convention:
// X_drz.fits or X_sci.fits -> X_wht.fits (also .fits.gz, .fit), when that
// file exists; "" otherwise.
std::string conventional_weight_map(const std::string& image);

// When in.weights is empty, fills it with each image's conventional weight map;
// an image without one is an error "IMAGE: no WHAT and no X_wht.fits beside it
// ..." (what: how the weights could have been given, e.g. "weight= given").
void complete_weight_maps(FieldInputs& in, const std::string& what, const std::string& where = "");

// Reads and checks every file of a field: equal sizes, one weight per image,
// a TAN WCS in the first image's header. Errors name the file and the problem.
LoadedField load_field(const FieldInputs& in);

// Reads the first 2-D image HDU of a FITS file (the primary or an extension
// such as drizzle's SCI); `hdu` gets its index.
ImageF read_first_image(const std::string& path, int* hdu = nullptr);

}  // namespace ds::lens
