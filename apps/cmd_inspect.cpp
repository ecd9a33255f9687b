// deepshear inspect FILE.fits: the HDUs of a FITS file, like astropy's
// fitsinfo (and fitsheader with --header).
#include <cstdio>
#include <string>

#include "cli.hpp"
#include "deepshear/engine/fits.hpp"

namespace {

const char* kKeyCards[] = {"EXTNAME", "OBJECT", "TELESCOP", "INSTRUME", "FILTER", "EXPTIME", "BUNIT", "BSCALE",
                           "BZERO", "CTYPE1", "CTYPE2", "CRVAL1", "CRVAL2", "CRPIX1", "CRPIX2", "CD1_1", "CD1_2",
                           "CD2_1", "CD2_2", "CDELT1", "CDELT2", "PHOTZPT", "GAIN"};

std::string type_name(const ds::fits::HduInfo& h) {
  switch (h.equiv_bitpix) {
    case 8: return "uint8";
    case 10: return "int8";
    case 16: return "int16";
    case 20: return "uint16";
    case 32: return "int32";
    case 40: return "uint32";
    case 64: return "int64";
    case -32: return "float32";
    case -64: return "float64";
  }
  return "bitpix " + std::to_string(h.bitpix);
}

int run(int argc, char** argv) {
  ds::app::Args args("deepshear inspect FILE.fits [--header]",
                     "Lists the HDUs of a FITS file (.fits.gz too): index, name, kind, image shape and pixel\n"
                     "type or table rows and columns with their types, and the key header cards.");
  args.positional("FILE", "a FITS file");
  args.flag("--header", "print every header card of every HDU");
  if (!args.parse(argc, argv)) return 0;
  ds::fits::FitsFile f(args.positionals()[0]);
  auto hdus = f.all_hdus();  // reads everything first, so errors come before output
  std::printf("%s: %zu HDU%s\n", f.path().c_str(), hdus.size(), hdus.size() == 1 ? "" : "s");
  for (const auto& h : hdus) {
    f.hdu(h.index);
    std::string name = h.extname.empty() ? (h.index == 0 ? "PRIMARY" : "") : h.extname;
    if (h.kind == ds::fits::HduKind::Image) {
      std::string shape;
      for (std::size_t i = 0; i < h.shape.size(); ++i) shape += (i ? " x " : "") + std::to_string(h.shape[i]);
      std::printf("  %3d  %-12s IMAGE     %s%s\n", h.index, name.c_str(),
                  h.shape.empty() ? "(no data)" : (shape + "  " + type_name(h)).c_str(), "");
    } else {
      std::printf("  %3d  %-12s %-9s %ld rows x %zu columns\n", h.index, name.c_str(), h.kind_name().c_str(),
                  h.nrows, h.columns.size());
      for (const auto& c : h.columns)
        std::printf("         %-24s %-8s%s\n", c.name.c_str(), c.tform.c_str(),
                    c.unit.empty() ? "" : ("  [" + c.unit + "]").c_str());
    }
    for (const auto& card : f.cards()) {
      bool key = args.has("--header");
      for (const char* k : kKeyCards) key = key || card.key == k;
      if (key && (args.has("--header") || card.key != "EXTNAME"))
        std::printf("         %-8s = %s%s\n", card.key.c_str(), card.value.c_str(),
                    card.comment.empty() ? "" : (" / " + card.comment).c_str());
    }
  }
  return 0;
}

ds::app::Register reg("inspect", "list the HDUs, images, table columns and key cards of a FITS file", run);

}  // namespace
