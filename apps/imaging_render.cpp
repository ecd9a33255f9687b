// deepshear render: one stamp to a FITS file, from flags or a JSON description
// (imaging/stamp_description.hpp: the keys, the JSON layout and its rules), so
// any case can be checked by hand or against another renderer.
#include <string>

#include "cli.hpp"
#include "deepshear/engine/atomic_file.hpp"
#include "deepshear/engine/config.hpp"
#include "deepshear/engine/error.hpp"
#include "deepshear/engine/fits.hpp"
#include "deepshear/engine/log.hpp"
#include "deepshear/imaging/stamp_description.hpp"

namespace {

using namespace ds::img;

constexpr const char* kAbout =
    "Renders one stamp (float32 FITS). The galaxy, its transforms (dilate -> rotate -> mirror ->\n"
    "lens -> shift, or any ordered list in JSON), the target PSF and the pixel grid come from\n"
    "flags or from a JSON description whose values override them:\n"
    "  {\"galaxy\": {\"kind\", \"flux\", \"sigma\", \"fwhm\", \"hlr\", \"n\", \"trunc\", \"beta\", \"g1\", \"g2\",\n"
    "              \"catalog\", \"index\", \"seed\", \"treatment\"},\n"
    "   \"transforms\": [{\"dilate\": s}, {\"rotate\": deg}, {\"mirror\": true}, {\"shear\": [g1, g2]},\n"
    "                  {\"lens\": [g1, g2, mu]}, {\"shift\": [x, y]}, {\"flux_scale\": f}],\n"
    "   \"psf\": {\"kind\", \"fwhm\", \"beta\", \"g1\", \"g2\"}, \"pixel_scale\", \"nx\", \"ny\", \"offset\": [x, y],\n"
    "   \"pixel\", \"noise\": {\"kernel\", \"scale\", \"seed\", \"index\"}}\n"
    "(the flags of the same names; unknown or repeated keys and malformed values are errors).\n"
    "Pixel (x, y) is centred at ((x - (nx-1)/2 - offset_x) * scale, ...) from the profile origin.";

// Writes the stamp with its grid, flux, noise and profile description.
void write_stamp(const std::string& out, const StampDescription& d, const RenderedStamp& s) {
  ds::fits::FitsWriter w(out);
  w.write_image(s.image, ds::fits::PixelType::Float32);
  w.write_key("PIXSCALE", d.pixel_scale, "arcsec per pixel");
  w.write_key("OFFSETX", d.offset_x, "profile origin - stamp centre [px]");
  w.write_key("OFFSETY", d.offset_y, "profile origin - stamp centre [px]");
  w.write_key("FLUX", s.profile->flux(), "total flux of the rendered profile");
  w.write_key("NOISE", d.noise, "noise kernel");
  const std::string text = s.profile->describe();
  for (std::size_t i = 0; i < text.size(); i += 60) w.write_history(text.substr(i, 60));
  w.commit();
}

int run(int argc, char** argv) {
  ds::Config c;
  declare_stamp_description(c);
  ds::app::Args args("deepshear render [--json FILE] [--KEY=VALUE ...] --out OUT.fits", kAbout);
  args.option("--json", "FILE", "JSON description of the stamp (overrides flags it sets)");
  args.option("--out", "OUT", "output FITS file");
  args.config(c);
  args.alias("-o", "--out");
  if (!args.parse(argc, argv)) return 0;
  const std::string out = args.get("--out");
  if (out.empty()) throw ds::Error::usage("render: no output file (--out OUT.fits)");
  ds::check_output_file(out, "render: --out");
  StampDescription d = stamp_description_from_config(c);
  if (args.has("--json")) apply_stamp_json(d, ds::read_text_file(args.get("--json")), args.get("--json"));
  const RenderedStamp s = render_described_stamp(d);
  write_stamp(out, d, s);
  ds::info("render: " + std::to_string(d.ny) + "x" + std::to_string(d.nx) + " stamp, flux in stamp " +
           std::to_string(s.image.sum()) + " -> " + out + (s.note.empty() ? "" : " (" + s.note + ")"));
  return 0;
}

ds::app::Register reg("render", "render one stamp (analytic, parametric or real galaxy) to a FITS file", run);

}  // namespace
