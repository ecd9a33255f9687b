// deepshear render: one stamp to a FITS file, from flags or a JSON description,
// so any case can be checked by hand or against another renderer.
//
// JSON (every field optional; flags give the defaults):
//   {"galaxy": {"kind": "sersic", "n": 4, "hlr": 0.3, "flux": 100, "g1": 0.1, "g2": 0,
//               "sigma": .., "fwhm": .., "trunc": .., "beta": ..,
//               "catalog": "cat.fits", "index": 0, "seed": 1},   // kinds below
//    "transforms": [{"dilate": 1.1}, {"rotate": 30}, {"mirror": true},
//                   {"shear": [0.05, 0]}, {"lens": [0.05, -0.02, 1.0]}, {"shift": [0.01, 0]},
//                   {"flux_scale": 2}],            // applied in list order (rotate in degrees, shift in arcsec)
//    "psf": {"kind": "gaussian" | "moffat" | "none", "fwhm": 0.12, "beta": 3.5, "g1": 0, "g2": 0},
//    "pixel_scale": 0.065, "nx": 32, "ny": 32, "offset": [0.1, -0.2], "pixel": true,
//    "noise": {"kernel": "default" | "none" | FILE, "scale": 1, "seed": 1, "index": 0}}
// Galaxy kinds: gaussian (sigma | fwhm | hlr), exponential (hlr), sersic (n, hlr, trunc),
// moffat (beta, fwhm), delta, parametric (seed, index: a draw of the built-in population),
// real (catalog, index: reconvolution of a RealGalaxyCatalog row), twin (catalog, index:
// the parametric twin from the _fits companion).
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cli.hpp"
#include "deepshear/engine/atomic_file.hpp"
#include "deepshear/engine/config.hpp"
#include "deepshear/engine/error.hpp"
#include "deepshear/engine/fits.hpp"
#include "deepshear/engine/log.hpp"
#include "deepshear/engine/random.hpp"
#include "deepshear/imaging/draw.hpp"
#include "deepshear/imaging/galaxy.hpp"
#include "deepshear/imaging/noise.hpp"
#include "deepshear/imaging/profile.hpp"
#include "deepshear/imaging/real_galaxy_catalog.hpp"

namespace {

using namespace ds::img;
constexpr double kPi = 3.14159265358979323846;

// ---------------------------------------------------------------- a small JSON reader
struct Json {
  enum class T { Null, Bool, Num, Str, Arr, Obj } t = T::Null;
  bool b = false;
  double num = 0;
  std::string str;
  std::vector<Json> arr;
  std::map<std::string, Json> obj;
  bool has(const std::string& k) const { return t == T::Obj && obj.count(k); }
  const Json& at(const std::string& k) const { return obj.at(k); }
};

class JsonParser {
 public:
  JsonParser(const std::string& text, std::string name) : s_(text), name_(std::move(name)) {}
  Json parse() {
    Json v = value();
    ws();
    if (i_ != s_.size()) fail("trailing characters");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) {
    throw ds::Error(name_ + ": JSON error at character " + std::to_string(i_) + ": " + what);
  }
  void ws() {
    while (i_ < s_.size() && std::isspace((unsigned char)s_[i_])) ++i_;
  }
  char peek() {
    ws();
    if (i_ >= s_.size()) fail("unexpected end");
    return s_[i_];
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++i_;
  }
  std::string string_lit() {
    expect('"');
    std::string out;
    while (i_ < s_.size() && s_[i_] != '"') {
      if (s_[i_] == '\\' && i_ + 1 < s_.size()) {
        char e = s_[++i_];
        out += e == 'n' ? '\n' : e == 't' ? '\t' : e;
      } else {
        out += s_[i_];
      }
      ++i_;
    }
    if (i_ >= s_.size()) fail("unterminated string");
    ++i_;
    return out;
  }
  Json value() {
    Json v;
    char c = peek();
    if (c == '{') {
      ++i_;
      v.t = Json::T::Obj;
      if (peek() == '}') { ++i_; return v; }
      while (true) {
        std::string k = string_lit();
        expect(':');
        v.obj[k] = value();
        char d = peek();
        ++i_;
        if (d == '}') break;
        if (d != ',') fail("expected ',' or '}'");
      }
    } else if (c == '[') {
      ++i_;
      v.t = Json::T::Arr;
      if (peek() == ']') { ++i_; return v; }
      while (true) {
        v.arr.push_back(value());
        char d = peek();
        ++i_;
        if (d == ']') break;
        if (d != ',') fail("expected ',' or ']'");
      }
    } else if (c == '"') {
      v.t = Json::T::Str;
      v.str = string_lit();
    } else if (s_.compare(i_, 4, "true") == 0) {
      v.t = Json::T::Bool; v.b = true; i_ += 4;
    } else if (s_.compare(i_, 5, "false") == 0) {
      v.t = Json::T::Bool; v.b = false; i_ += 5;
    } else if (s_.compare(i_, 4, "null") == 0) {
      i_ += 4;
    } else {
      std::size_t used = 0;
      try {
        v.num = std::stod(s_.substr(i_, 64), &used);
      } catch (...) {
        fail("bad value");
      }
      v.t = Json::T::Num;
      i_ += used;
    }
    return v;
  }
  const std::string& s_;
  std::string name_;
  std::size_t i_ = 0;
};

double num(const Json& j, const std::string& where) {
  if (j.t == Json::T::Num) return j.num;
  if (j.t == Json::T::Bool) return j.b ? 1 : 0;
  throw ds::Error("render JSON: " + where + " must be a number");
}
std::string str(const Json& j, const std::string& where) {
  if (j.t != Json::T::Str) throw ds::Error("render JSON: " + where + " must be a string");
  return j.str;
}

// ---------------------------------------------------------------- the description
ds::Config make_config() {
  ds::Config c;
  c.add_string("galaxy", "sersic", "galaxy kind: gaussian, exponential, sersic, moffat, delta, parametric, real, twin");
  c.add_double("flux", 1.0, "galaxy flux (analytic kinds; parametric/real keep their own unless set in JSON)");
  c.add_double("sigma", 0, "gaussian sigma [arcsec] (0: use hlr)");
  c.add_double("hlr", 0.3, "half-light radius [arcsec]");
  c.add_double("n", 4.0, "Sersic index");
  c.add_double("trunc", 0, "Sersic truncation radius [arcsec] (0: none)");
  c.add_double("beta", 3.5, "Moffat beta (galaxy kind moffat)");
  c.add_double("g1", 0, "intrinsic shear g1 of the galaxy");
  c.add_double("g2", 0, "intrinsic shear g2 of the galaxy");
  c.add_string("catalog", "", "RealGalaxyCatalog FITS file (kinds real, twin)");
  c.add_int("index", 0, "catalogue row or population item");
  c.add_int("seed", 1, "population seed (kind parametric) and noise seed");
  c.add_bool("treatment", false, "real galaxies: apply the method's size/flux rescale, cut-off and flux factor");
  c.add_double("dilate", 1, "transform: flux-preserving dilation");
  c.add_double("rotate", 0, "transform: rotation [degrees, anticlockwise]");
  c.add_bool("mirror", false, "transform: mirror x -> -x");
  c.add_double("lens_g1", 0, "transform: lensing reduced shear g1");
  c.add_double("lens_g2", 0, "transform: lensing reduced shear g2");
  c.add_double("mu", 1, "transform: magnification");
  c.add_double("shift_x", 0, "transform: shift [arcsec]");
  c.add_double("shift_y", 0, "transform: shift [arcsec]");
  c.add_string("psf", "gaussian", "target PSF: gaussian, moffat or none");
  c.add_double("psf_fwhm", 0.12, "target PSF FWHM [arcsec]");
  c.add_double("psf_beta", 3.5, "Moffat PSF beta");
  c.add_double("psf_g1", 0, "PSF shear g1");
  c.add_double("psf_g2", 0, "PSF shear g2");
  c.add_double("pixel_scale", 0.065, "arcsec per pixel");
  c.add_int("nx", 32, "stamp width");
  c.add_int("ny", 32, "stamp height");
  c.add_double("offset_x", 0, "sub-pixel offset of the profile origin from the stamp centre [px]");
  c.add_double("offset_y", 0, "sub-pixel offset [px]");
  c.add_bool("pixel", true, "convolve with the pixel (false: GalSim's no_pixel)");
  c.add_string("noise", "none", "noise kernel: none, default, or a kernel file (FITS or text)");
  c.add_double("noise_scale", 1, "noise kernel scale factor");
  return c;
}

struct Spec {
  ds::Config cfg = make_config();
  Json json;  // Null when flags only
};

double jget(const Json& o, const std::string& k, double def) { return o.has(k) ? num(o.at(k), k) : def; }

ProfilePtr build_galaxy(const ds::Config& c, const Json& gj, bool& is_real, std::string& note) {
  std::string kind = gj.has("kind") ? str(gj.at("kind"), "galaxy.kind") : c.get_string("galaxy");
  double flux = jget(gj, "flux", c.get_double("flux"));
  double hlr = jget(gj, "hlr", c.get_double("hlr"));
  double g1 = jget(gj, "g1", c.get_double("g1")), g2 = jget(gj, "g2", c.get_double("g2"));
  long index = long(jget(gj, "index", double(c.get_int("index"))));
  std::string catalog = gj.has("catalog") ? str(gj.at("catalog"), "galaxy.catalog") : c.get_string("catalog");
  ProfilePtr p;
  is_real = false;
  if (kind == "gaussian") {
    double sigma = jget(gj, "sigma", c.get_double("sigma"));
    if (gj.has("fwhm")) sigma = num(gj.at("fwhm"), "fwhm") / 2.3548200450309493;
    if (sigma <= 0) sigma = hlr / 1.1774100225154747;
    p = gaussian(sigma, flux);
  } else if (kind == "exponential") {
    p = exponential_hlr(hlr, flux);
  } else if (kind == "sersic") {
    p = sersic(jget(gj, "n", c.get_double("n")), hlr, flux, jget(gj, "trunc", c.get_double("trunc")));
  } else if (kind == "moffat") {
    p = moffat(jget(gj, "beta", c.get_double("beta")), jget(gj, "fwhm", 2 * hlr), flux);
  } else if (kind == "delta") {
    p = delta(flux);
  } else if (kind == "parametric") {
    ParametricPopulation pop;
    double mag = 0, rh = 0;
    auto g = pop.draw(std::uint64_t(jget(gj, "seed", double(c.get_int("seed")))), std::uint64_t(index), &mag, &rh);
    p = g.profile();
    note = "parametric item " + std::to_string(index) + ": magnitude " + std::to_string(mag) + ", r_half " +
           std::to_string(rh) + "\"";
  } else if (kind == "real" || kind == "twin") {
    if (catalog.empty()) throw ds::Error::usage("render: galaxy kind '" + kind + "' needs --catalog");
    auto cat = RealGalaxyCatalog::load(catalog);
    if (index < 0 || std::size_t(index) >= cat.size())
      throw ds::Error("render: index " + std::to_string(index) + " outside " + catalog + " (" +
                      std::to_string(cat.size()) + " rows)");
    if (kind == "real") {
      const auto& row = cat.row(std::size_t(index));
      const ds::ImageD& gi = cat.galaxy_image(std::size_t(index));
      const ds::ImageD& pi = cat.psf_image(std::size_t(index));
      p = real_galaxy(gi.view(), pi.view(), row.pixel_scale);
      is_real = true;
      note = "real galaxy IDENT " + std::to_string(row.ident) + ", MAG " + std::to_string(row.mag);
    } else {
      p = parametric_from_fits(cat.row(std::size_t(index))).profile();
    }
    if (gj.has("flux")) p = with_flux(p, flux);
  } else {
    throw ds::Error::usage("render: unknown galaxy kind '" + kind + "'");
  }
  if (g1 != 0 || g2 != 0) p = sheared(p, g1, g2);
  return p;
}

ProfilePtr apply_transforms(ProfilePtr p, const ds::Config& c, const Json& root) {
  if (root.has("transforms")) {
    const Json& list = root.at("transforms");
    if (list.t != Json::T::Arr) throw ds::Error("render JSON: transforms must be a list");
    for (const Json& t : list.arr) {
      if (t.t != Json::T::Obj || t.obj.size() != 1)
        throw ds::Error("render JSON: each transform is an object with one key, e.g. {\"rotate\": 30}");
      const auto& [k, v] = *t.obj.begin();
      auto vec = [&](std::size_t n) {
        if (v.t != Json::T::Arr || v.arr.size() != n)
          throw ds::Error("render JSON: transform " + k + " needs a list of " + std::to_string(n) + " numbers");
        std::vector<double> out;
        for (auto& e : v.arr) out.push_back(num(e, k));
        return out;
      };
      if (k == "dilate") p = dilated(p, num(v, k));
      else if (k == "rotate") p = rotated(p, num(v, k) * kPi / 180);
      else if (k == "mirror") { if (num(v, k) != 0) p = transformed(p, Jacobian::mirror_x()); }
      else if (k == "shear") { auto g = vec(2); p = sheared(p, g[0], g[1]); }
      else if (k == "lens") { auto g = vec(3); p = lensed(p, g[0], g[1], g[2]); }
      else if (k == "shift") { auto s = vec(2); p = shifted(p, s[0], s[1]); }
      else if (k == "flux_scale") p = flux_scaled(p, num(v, k));
      else throw ds::Error("render JSON: unknown transform '" + k + "'");
    }
    return p;
  }
  TransformChain t;
  t.dilation = c.get_double("dilate");
  t.rotation = c.get_double("rotate") * kPi / 180;
  t.mirror = c.get_bool("mirror");
  t.g1 = c.get_double("lens_g1");
  t.g2 = c.get_double("lens_g2");
  t.mu = c.get_double("mu");
  t.shift_x = c.get_double("shift_x");
  t.shift_y = c.get_double("shift_y");
  return apply_chain(p, t);
}

int run(int argc, char** argv) {
  Spec spec;
  ds::app::Args args("deepshear render [--json FILE] [--KEY=VALUE ...] --out OUT.fits",
                     "Renders one stamp (float32 FITS). The galaxy, its transforms (dilate -> rotate -> mirror ->\n"
                     "lens -> shift, or any ordered list in JSON), the target PSF and the pixel grid come from\n"
                     "flags or from a JSON description (see the comment at the top of apps/imaging_render.cpp).\n"
                     "Pixel (x, y) is centred at ((x - (nx-1)/2 - offset_x) * scale, ...) from the profile origin.");
  args.option("--json", "FILE", "JSON description of the stamp (overrides flags it sets)");
  args.option("--out", "OUT", "output FITS file");
  args.config(spec.cfg);
  args.alias("-o", "--out");
  if (!args.parse(argc, argv)) return 0;
  std::string out = args.get("--out");
  if (out.empty()) throw ds::Error::usage("render: no output file (--out OUT.fits)");
  const ds::Config& c = spec.cfg;
  Json root;
  if (args.has("--json")) root = JsonParser(ds::read_text_file(args.get("--json")), args.get("--json")).parse();
  Json none;
  const Json& gj = root.has("galaxy") ? root.at("galaxy") : none;
  const Json& pj = root.has("psf") ? root.at("psf") : none;
  const Json& nj = root.has("noise") ? root.at("noise") : none;

  bool is_real = false;
  std::string note;
  ProfilePtr gal = build_galaxy(c, gj, is_real, note);
  bool treatment = gj.has("treatment") ? num(gj.at("treatment"), "treatment") != 0 : c.get_bool("treatment");
  RealGalaxyTreatment rt;
  if (is_real && treatment) gal = flux_scaled(dilated(gal, rt.size_rescale), rt.flux_rescale);
  gal = apply_transforms(gal, c, root);

  std::string psf_kind = pj.has("kind") ? str(pj.at("kind"), "psf.kind") : c.get_string("psf");
  double fwhm = jget(pj, "fwhm", c.get_double("psf_fwhm")), beta = jget(pj, "beta", c.get_double("psf_beta"));
  double pg1 = jget(pj, "g1", c.get_double("psf_g1")), pg2 = jget(pj, "g2", c.get_double("psf_g2"));
  ProfilePtr final_p = gal;
  if (psf_kind != "none") {
    ProfilePtr psf;
    if (psf_kind == "gaussian") psf = gaussian_fwhm(fwhm);
    else if (psf_kind == "moffat") psf = moffat(beta, fwhm);
    else throw ds::Error::usage("render: unknown psf kind '" + psf_kind + "' (gaussian, moffat, none)");
    if (pg1 != 0 || pg2 != 0) psf = sheared(psf, pg1, pg2);
    final_p = convolve({gal, psf});
  }
  DrawOptions o;
  o.scale = jget(root, "pixel_scale", c.get_double("pixel_scale"));
  long nx = long(jget(root, "nx", double(c.get_int("nx")))), ny = long(jget(root, "ny", double(c.get_int("ny"))));
  o.offset_x = c.get_double("offset_x");
  o.offset_y = c.get_double("offset_y");
  if (root.has("offset")) {
    const Json& off = root.at("offset");
    if (off.t != Json::T::Arr || off.arr.size() != 2) throw ds::Error("render JSON: offset must be [x, y]");
    o.offset_x = num(off.arr[0], "offset");
    o.offset_y = num(off.arr[1], "offset");
  }
  o.add_pixel = root.has("pixel") ? num(root.at("pixel"), "pixel") != 0 : c.get_bool("pixel");
  if (nx <= 0 || ny <= 0) throw ds::Error::usage("render: nx and ny must be > 0");
  ds::ImageF stamp(ny, nx);
  draw(*final_p, stamp.view(), o);
  if (is_real && treatment)
    for (float& v : stamp) v = v < rt.cutoff ? 0.0f : float(v * rt.flux_factor);

  std::string noise = nj.has("kernel") ? str(nj.at("kernel"), "noise.kernel") : c.get_string("noise");
  double noise_scale = jget(nj, "scale", c.get_double("noise_scale"));
  long noise_seed = long(jget(nj, "seed", double(c.get_int("seed"))));
  long noise_index = long(jget(nj, "index", 0));
  if (noise != "none") {
    NoiseKernel k = noise == "default" ? NoiseKernel::load_default(DEEPSHEAR_DATA_DIR) : NoiseKernel::load(noise);
    k = k.scaled(noise_scale);
    ds::RandomStream r(std::uint64_t(noise_seed), "noise", std::uint64_t(noise_index));
    add_correlated_noise(stamp.view(), k, r);
  }

  ds::fits::FitsWriter w(out);
  w.write_image(stamp, ds::fits::PixelType::Float32);
  w.write_key("PIXSCALE", o.scale, "arcsec per pixel");
  w.write_key("OFFSETX", o.offset_x, "profile origin - stamp centre [px]");
  w.write_key("OFFSETY", o.offset_y, "profile origin - stamp centre [px]");
  w.write_key("FLUX", final_p->flux(), "total flux of the rendered profile");
  w.write_key("NOISE", noise, "noise kernel");
  std::string d = final_p->describe();
  for (std::size_t i = 0; i < d.size(); i += 60) w.write_history(d.substr(i, 60));
  w.commit();
  ds::info("render: " + std::to_string(ny) + "x" + std::to_string(nx) + " stamp, flux in stamp " +
           std::to_string(stamp.sum()) + " -> " + out + (note.empty() ? "" : " (" + note + ")"));
  return 0;
}

ds::app::Register reg("render", "render one stamp (analytic, parametric or real galaxy) to a FITS file", run);

}  // namespace
