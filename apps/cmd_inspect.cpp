// deepshear inspect FILE.fits: the HDUs of a FITS file, like astropy's
// fitsinfo (and fitsheader with --header). A model file (.dsm): its
// architecture, parameters, calibration, provenance and a digest of its
// weights (two models with equal digests hold the same weights, bit for bit).
#include <cstdio>
#include <string>

#include "cli.hpp"
#include "deepshear/engine/fits.hpp"
#include "deepshear/engine/provenance.hpp"
#include "deepshear/nn/model_file.hpp"

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

// A model file's summary; the provenance's long texts (config, report) only with --header.
int inspect_model(const std::string& path, bool all) {
  const ds::nn::Model m = ds::nn::load_model(path);
  const auto& net = m.net;
  std::printf("%s: model, %ld parameters\n", path.c_str(), net.num_params());
  std::printf("  architecture  %s\n", net.arch().to_text().c_str());
  std::printf("  input         %s\n", m.norm == ds::nn::InputNorm::MeanStd ? "mean_std" : "none");
  for (std::size_t k = 0; k < m.cal_c.size() && k < m.cal_m.size(); ++k)
    std::printf("  calibration   output %zu: c = %.6g, m = %.6g\n", k, m.cal_c[k], m.cal_m[k]);
  std::printf("  weights       FNV-1a 64 %016llx\n",
              (unsigned long long)ds::fnv1a64_bytes(net.params(), sizeof(float) * std::size_t(net.num_params())));
  for (const auto& [key, value] : m.provenance)
    if (all || value.size() <= 200)
      std::printf("  %-13s %s\n", key.c_str(), value.find('\n') == std::string::npos ? value.c_str() : "(several lines)");
  return 0;
}

bool is_model_file(const std::string& path) {
  return path.size() > 4 && path.compare(path.size() - 4, 4, ".dsm") == 0;
}

int run(int argc, char** argv) {
  ds::app::Args args("deepshear inspect FILE.fits|MODEL.dsm [--header]",
                     "Lists the HDUs of a FITS file (.fits.gz too): index, name, kind, image shape and pixel\n"
                     "type or table rows and columns with their types, and the key header cards. For a model\n"
                     "file (.dsm): architecture, parameter count, calibration, provenance and a digest of the\n"
                     "weights (FNV-1a 64 of their bytes).");
  args.positional("FILE", "a FITS file or a model file");
  args.flag("--header", "print every header card of every HDU");
  if (!args.parse(argc, argv)) return 0;
  if (is_model_file(args.positionals()[0])) return inspect_model(args.positionals()[0], args.has("--header"));
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

ds::app::Register reg("inspect", "list the HDUs, images, table columns and key cards of a FITS file, or a model file", run);

}  // namespace
