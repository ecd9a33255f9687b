// The stamp description: its key table, flags and JSON in, the stamp out (see
// stamp_description.hpp).
#include "deepshear/imaging/stamp_description.hpp"

#include <cmath>
#include <memory>

#include <nlohmann/json.hpp>

#include "deepshear/engine/constants.hpp"
#include "deepshear/engine/error.hpp"
#include "deepshear/engine/random.hpp"
#include "deepshear/imaging/draw.hpp"
#include "deepshear/imaging/galaxy.hpp"
#include "deepshear/imaging/noise.hpp"
#include "deepshear/imaging/real_galaxy_catalog.hpp"

namespace ds::img {

using D = StampDescription;
using nlohmann::json;

const std::vector<StampDescriptionKey>& stamp_description_keys() {
  static const std::vector<StampDescriptionKey> keys = {
      {"galaxy", "galaxy.kind", &D::kind,
       "galaxy kind: gaussian, exponential, sersic, moffat, delta, parametric, real, twin"},
      {"flux", "galaxy.flux", &D::flux, "galaxy flux (parametric, real, twin keep their own unless flux is given)"},
      {"sigma", "galaxy.sigma", &D::sigma, "gaussian sigma [arcsec] (0: use fwhm or hlr)"},
      {"fwhm", "galaxy.fwhm", &D::fwhm, "gaussian or moffat galaxy FWHM [arcsec] (0: gaussian sigma/hlr, moffat 2 hlr)"},
      {"hlr", "galaxy.hlr", &D::hlr, "half-light radius [arcsec]"},
      {"n", "galaxy.n", &D::n, "Sersic index"},
      {"trunc", "galaxy.trunc", &D::trunc, "Sersic truncation radius [arcsec] (0: none)"},
      {"beta", "galaxy.beta", &D::beta, "Moffat beta (galaxy kind moffat)"},
      {"g1", "galaxy.g1", &D::g1, "intrinsic shear g1 of the galaxy"},
      {"g2", "galaxy.g2", &D::g2, "intrinsic shear g2 of the galaxy"},
      {"catalog", "galaxy.catalog", &D::catalog, "RealGalaxyCatalog FITS file (kinds real, twin)"},
      {"index", "galaxy.index", &D::index, "catalogue row or population item"},
      {"seed", "galaxy.seed", &D::seed, "population seed (kind parametric); the noise seed unless noise_seed is set"},
      {"treatment", "galaxy.treatment", &D::treatment,
       "real galaxies: apply the method's size/flux rescale, cut-off and flux factor"},
      {"dilate", "", &D::dilate, "transform: flux-preserving dilation"},
      {"rotate", "", &D::rotate, "transform: rotation [degrees, anticlockwise]"},
      {"mirror", "", &D::mirror, "transform: mirror x -> -x"},
      {"lens_g1", "", &D::lens_g1, "transform: lensing reduced shear g1"},
      {"lens_g2", "", &D::lens_g2, "transform: lensing reduced shear g2"},
      {"mu", "", &D::mu, "transform: magnification"},
      {"shift_x", "", &D::shift_x, "transform: shift [arcsec]"},
      {"shift_y", "", &D::shift_y, "transform: shift [arcsec]"},
      {"psf", "psf.kind", &D::psf, "target PSF: gaussian, moffat or none"},
      {"psf_fwhm", "psf.fwhm", &D::psf_fwhm, "target PSF FWHM [arcsec]"},
      {"psf_beta", "psf.beta", &D::psf_beta, "Moffat PSF beta"},
      {"psf_g1", "psf.g1", &D::psf_g1, "PSF shear g1"},
      {"psf_g2", "psf.g2", &D::psf_g2, "PSF shear g2"},
      {"pixel_scale", "pixel_scale", &D::pixel_scale, "arcsec per pixel"},
      {"nx", "nx", &D::nx, "stamp width"},
      {"ny", "ny", &D::ny, "stamp height"},
      {"offset_x", "offset[0]", &D::offset_x, "sub-pixel offset of the profile origin from the stamp centre [px]"},
      {"offset_y", "offset[1]", &D::offset_y, "sub-pixel offset [px]"},
      {"pixel", "pixel", &D::pixel, "convolve with the pixel (false: GalSim's no_pixel)"},
      {"noise", "noise.kernel", &D::noise, "noise kernel: none, default, or a kernel file (FITS or text)"},
      {"noise_scale", "noise.scale", &D::noise_scale, "noise kernel scale factor"},
      {"noise_seed", "noise.seed", &D::noise_seed, "noise seed (-1: the seed flag)"},
      {"noise_index", "noise.index", &D::noise_index, "noise stream index"},
  };
  return keys;
}

namespace {

template <class... F>
struct Overload : F... {
  using F::operator()...;
};
template <class... F>
Overload(F...) -> Overload<F...>;

// The JSON path of a key in messages: "FILE: key 'galaxy.hlr'".
std::string where(const std::string& file, const std::string& path) { return file + ": key '" + path + "'"; }

// The transform kinds of a JSON list and how many numbers each takes.
int transform_arity(const std::string& kind) {
  if (kind == "dilate" || kind == "rotate" || kind == "mirror" || kind == "flux_scale") return 1;
  if (kind == "shear" || kind == "shift") return 2;
  if (kind == "lens") return 3;
  return 0;
}

// A JSON number (booleans too when as_bool: true = 1), else an error naming the key.
double number(const json& v, const std::string& at, bool as_bool = false) {
  if (v.is_boolean() && as_bool) return v.get<bool>() ? 1 : 0;
  if (!v.is_number()) throw Error(at + " must be a number, not " + v.dump());
  return v.get<double>();
}

// Sets the member of key k in d from the JSON value v.
void set_field(D& d, const StampDescriptionKey& k, const json& v, const std::string& at) {
  std::visit(Overload{[&](double D::*p) { d.*p = number(v, at); },
                      [&](long D::*p) {
                        double x = number(v, at);
                        if (x != std::floor(x) || std::abs(x) > 9e15) throw Error(at + " must be an integer, not " + v.dump());
                        d.*p = long(x);
                      },
                      [&](bool D::*p) {
                        if (!v.is_boolean() && !v.is_number()) throw Error(at + " must be true or false, not " + v.dump());
                        d.*p = number(v, at, true) != 0;
                      },
                      [&](std::string D::*p) {
                        if (!v.is_string()) throw Error(at + " must be a string, not " + v.dump());
                        d.*p = v.get<std::string>();
                      }},
             k.field);
  d.given.insert(k.flag);
}

// The list "transforms": [{"rotate": 30}, {"shear": [0.05, 0]}, ...].
void read_transforms(D& d, const json& list, const std::string& file) {
  if (!list.is_array()) throw Error(where(file, "transforms") + " must be a list of one-key objects");
  d.has_transform_list = true;
  d.transforms.clear();
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string path = "transforms[" + std::to_string(i) + "]", at = where(file, path);
    const json& t = list[i];
    if (!t.is_object() || t.size() != 1) throw Error(at + " must be an object with one key, e.g. {\"rotate\": 30}");
    const std::string kind = t.begin().key();
    const json& v = t.begin().value();
    const int n = transform_arity(kind);
    const std::string at_kind = where(file, path + "." + kind);
    if (n == 0)
      throw Error(at + ": unknown transform '" + kind + "' (dilate, rotate, mirror, shear, lens, shift, flux_scale)");
    DescribedTransform out{kind, {}};
    if (n == 1) out.values.push_back(number(v, at_kind, kind == "mirror"));
    if (n > 1 && (!v.is_array() || v.size() != std::size_t(n)))
      throw Error(at_kind + " needs a list of " + std::to_string(n) + " numbers");
    for (int j = 0; n > 1 && j < n; ++j) out.values.push_back(number(v[std::size_t(j)], at_kind));
    d.transforms.push_back(out);
  }
}

// The key of JSON path `path`, or an error naming it and the keys known beside it.
const StampDescriptionKey& key_at(const std::string& path, const std::string& file) {
  const std::size_t dot = path.find('.');
  const std::string section = dot == std::string::npos ? "" : path.substr(0, dot + 1);
  std::string known = section.empty() ? "galaxy.*, psf.*, noise.*, transforms" : "";
  for (const auto& k : stamp_description_keys()) {
    const std::string j = k.json;
    if (j == path) return k;
    const bool beside = section.empty() ? j.find('.') == std::string::npos : j.compare(0, dot + 1, section) == 0;
    if (!j.empty() && beside) known += (known.empty() ? "" : ", ") + j;
  }
  throw Error(where(file, path) + " is not a known key (known: " + known + ")");
}

// Applies the object `o` at `prefix` ("" or "galaxy.") to d, key by key.
void read_object(D& d, const json& o, const std::string& prefix, const std::string& file) {
  for (auto it = o.begin(); it != o.end(); ++it) {
    const std::string path = prefix + it.key();
    const json& v = it.value();
    if (path == "transforms") {
      read_transforms(d, v, file);
    } else if (v.is_object() && prefix.empty()) {
      read_object(d, v, path + ".", file);
    } else if (path == "offset") {
      if (!v.is_array() || v.size() != 2) throw Error(where(file, path) + " must be [x, y], not " + v.dump());
      for (std::size_t i = 0; i < 2; ++i) {
        const std::string p = path + "[" + std::to_string(i) + "]";
        set_field(d, key_at(p, file), v[i], where(file, p));
      }
    } else {
      set_field(d, key_at(path, file), v, where(file, path));
    }
  }
}

// Parses `text` strictly: duplicate keys and nesting beyond kMaxDepth are
// errors, and every error names the file and the last key read before it.
json parse_strict(const std::string& text, const std::string& file) {
  std::vector<std::string> path;   // the key at each depth ("" in a list)
  std::vector<std::vector<std::string>> seen;
  std::string last;
  auto dotted = [&] {
    std::string s;
    for (const std::string& k : path) s += (s.empty() || k.empty() ? "" : ".") + k;
    return s;
  };
  constexpr int kMaxDepth = 32;  // a description nests 3 deep; bounded so no input can exhaust the stack
  auto cb = [&](int depth, json::parse_event_t e, json& v) {
    if ((e == json::parse_event_t::object_start || e == json::parse_event_t::array_start) && depth >= kMaxDepth)
      throw Error(file + ": JSON nested deeper than " + std::to_string(kMaxDepth) + " levels" +
                  (last.empty() ? "" : " after key '" + last + "'"));
    if (e == json::parse_event_t::object_start) seen.emplace_back();
    if (e == json::parse_event_t::object_end && !seen.empty()) seen.pop_back();
    if (e == json::parse_event_t::key) {
      path.resize(std::size_t(depth));
      path[std::size_t(depth) - 1] = v.get<std::string>();
      last = dotted();
      for (const std::string& k : seen.back())
        if (k == path.back()) throw Error(where(file, last) + " appears twice");
      seen.back().push_back(path.back());
    }
    return true;
  };
  try {
    return json::parse(text, cb);
  } catch (const json::exception& e) {
    throw Error(file + ": JSON error" + (last.empty() ? "" : " after key '" + last + "'") + ": " + e.what());
  }
}

}  // namespace

void declare_stamp_description(Config& c) {
  const D d;
  for (const auto& k : stamp_description_keys())
    std::visit(Overload{[&](double D::*p) { c.add_double(k.flag, d.*p, k.help); },
                        [&](long D::*p) { c.add_int(k.flag, d.*p, k.help); },
                        [&](bool D::*p) { c.add_bool(k.flag, d.*p, k.help); },
                        [&](std::string D::*p) { c.add_string(k.flag, d.*p, k.help); }},
               k.field);
  // What a value may be, checked when it is set (a usage error naming the flag).
  c.range("flux", -1e30, 1e30).range("sigma", 0, 1e4).range("fwhm", 0, 1e4).range("hlr", 0, 1e4);
  c.range("n", 0.3, 6.2).range("trunc", 0, 1e4).range("beta", 1.1, 1e3).range("dilate", 1e-3, 1e3);
  c.range("mu", 1e-3, 1e3).range("psf_fwhm", 0, 1e3).range("psf_beta", 1.1, 1e3).range("pixel_scale", 1e-6, 1e3);
  c.range("nx", 1, 16384).range("ny", 1, 16384).range("noise_scale", 0, 1e6).range("index", 0, 9.2e18);
}

StampDescription stamp_description_from_config(const Config& c) {
  D d;
  for (const auto& k : stamp_description_keys()) {
    std::visit(Overload{[&](double D::*p) { d.*p = c.get_double(k.flag); },
                        [&](long D::*p) { d.*p = c.get_int(k.flag); },
                        [&](bool D::*p) { d.*p = c.get_bool(k.flag); },
                        [&](std::string D::*p) { d.*p = c.get_string(k.flag); }},
               k.field);
    if (c.source(k.flag) != "default") d.given.insert(k.flag);
  }
  if (d.noise_seed < 0) d.noise_seed = d.seed;  // before JSON: its galaxy.seed is the population's only
  if (d.psf != "none" && !(d.psf_fwhm > 0))
    throw Error::usage("--psf-fwhm " + c.text("psf_fwhm") + " must be > 0 for a " + d.psf + " PSF (or --psf none)");
  return d;
}

void apply_stamp_json(StampDescription& d, const std::string& text, const std::string& file) {
  const json root = parse_strict(text, file);
  if (!root.is_object()) throw Error(file + ": the stamp description must be a JSON object");
  read_object(d, root, "", file);
}

// ---------------------------------------------------------------- rendering
namespace {

// The catalogue row d.index of d.catalog, checked.
std::shared_ptr<const RealGalaxyCatalog> load_catalog(const D& d) {
  if (d.catalog.empty()) throw Error::usage("render: galaxy kind '" + d.kind + "' needs --catalog");
  auto cat = std::make_shared<const RealGalaxyCatalog>(RealGalaxyCatalog::load(d.catalog));
  if (d.index < 0 || std::size_t(d.index) >= cat->size())
    throw Error("render: index " + std::to_string(d.index) + " outside " + d.catalog + " (" +
                std::to_string(cat->size()) + " rows)");
  return cat;
}

// The catalogue kinds: reconvolution of row d.index (real) or its parametric twin.
ProfilePtr catalogue_galaxy(const D& d, std::string& note) {
  auto cat = load_catalog(d);
  const RealGalaxyRow& row = cat->row(std::size_t(d.index));
  ProfilePtr p;
  if (d.kind == "real") {
    p = RealGalaxySource(cat).profile(std::size_t(d.index));
    note = "real galaxy IDENT " + std::to_string(row.ident) + ", MAG " + std::to_string(row.mag);
  } else {
    p = parametric_from_fits(row).profile();
  }
  return p;
}

// The galaxy of d before its transforms, with its intrinsic shear (real
// galaxies with the treatment: then rescaled).
ProfilePtr described_galaxy(const D& d, std::string& note) {
  ProfilePtr p;
  if (d.kind == "gaussian") {
    double sigma = d.fwhm > 0 ? d.fwhm / 2.3548200450309493 : d.sigma;
    p = gaussian(sigma > 0 ? sigma : d.hlr / 1.1774100225154747, d.flux);
  } else if (d.kind == "exponential") {
    p = exponential_hlr(d.hlr, d.flux);
  } else if (d.kind == "sersic") {
    p = sersic(d.n, d.hlr, d.flux, d.trunc);
  } else if (d.kind == "moffat") {
    p = moffat(d.beta, d.fwhm > 0 ? d.fwhm : 2 * d.hlr, d.flux);
  } else if (d.kind == "delta") {
    p = delta(d.flux);
  } else if (d.kind == "parametric") {
    double mag = 0, rh = 0;
    p = ParametricPopulation{}.draw(std::uint64_t(d.seed), std::uint64_t(d.index), &mag, &rh).profile();
    note = "parametric item " + std::to_string(d.index) + ": magnitude " + std::to_string(mag) + ", r_half " +
           std::to_string(rh) + "\"";
  } else if (d.kind == "real" || d.kind == "twin") {
    p = catalogue_galaxy(d, note);
  } else {
    throw Error::usage("render: unknown galaxy kind '" + d.kind + "'");
  }
  if (d.kind == "parametric" || d.kind == "real" || d.kind == "twin")
    if (d.given.count("flux")) p = with_flux(p, d.flux);
  if (d.g1 != 0 || d.g2 != 0) p = sheared(p, d.g1, d.g2);
  if (d.kind == "real" && d.treatment) p = RealGalaxyTreatment{}.rescaled(p);
  return p;
}

// p after d's transforms: the JSON list in order, else the flags' chain.
ProfilePtr described_transforms(ProfilePtr p, const D& d) {
  if (!d.has_transform_list) {
    TransformChain t;
    t.dilation = d.dilate;
    t.rotation = d.rotate * kPi / 180;
    t.mirror = d.mirror;
    t.g1 = d.lens_g1;
    t.g2 = d.lens_g2;
    t.mu = d.mu;
    t.shift_x = d.shift_x;
    t.shift_y = d.shift_y;
    return apply_chain(p, t);
  }
  for (const DescribedTransform& t : d.transforms) {
    const std::vector<double>& v = t.values;
    if (t.kind == "dilate") p = dilated(p, v[0]);
    else if (t.kind == "rotate") p = rotated(p, v[0] * kPi / 180);
    else if (t.kind == "mirror") { if (v[0] != 0) p = transformed(p, Jacobian::mirror_x()); }
    else if (t.kind == "shear") p = sheared(p, v[0], v[1]);
    else if (t.kind == "lens") p = lensed(p, v[0], v[1], v[2]);
    else if (t.kind == "shift") p = shifted(p, v[0], v[1]);
    else if (t.kind == "flux_scale") p = flux_scaled(p, v[0]);
  }
  return p;
}

// The target PSF of d (null for psf none), built as the stamp pipeline builds it.
ProfilePtr described_psf(const D& d) {
  if (d.psf == "none") return nullptr;
  if (d.psf != "gaussian" && d.psf != "moffat")
    throw Error::usage("render: unknown psf kind '" + d.psf + "' (gaussian, moffat, none)");
  StampSetup s;
  s.psf_fwhm = d.psf_fwhm;
  s.psf_beta = d.psf == "moffat" ? d.psf_beta : 0;
  s.psf_g1 = d.psf_g1;
  s.psf_g2 = d.psf_g2;
  if (d.psf == "moffat") require(d.psf_beta > 0, "render: psf_beta must be > 0 for a Moffat PSF");
  return s.psf();
}

}  // namespace

RenderedStamp render_described_stamp(const StampDescription& d) {
  if (d.nx <= 0 || d.ny <= 0) throw Error::usage("render: nx and ny must be > 0");
  RenderedStamp out;
  ProfilePtr gal = described_transforms(described_galaxy(d, out.note), d);
  ProfilePtr psf = described_psf(d);
  out.profile = psf ? convolve({gal, psf}) : gal;
  DrawOptions o;
  o.scale = d.pixel_scale;
  o.offset_x = d.offset_x;
  o.offset_y = d.offset_y;
  o.add_pixel = d.pixel;
  out.image = ImageF(d.ny, d.nx);
  draw(*out.profile, out.image.view(), o);
  if (d.kind == "real" && d.treatment)
    for (float& v : out.image) v = RealGalaxyTreatment{}.cut(v);
  if (d.noise != "none") {
    NoiseKernel k = d.noise == "default" ? NoiseKernel::load_default() : NoiseKernel::load(d.noise);
    k = k.scaled(d.noise_scale);
    RandomStream r(std::uint64_t(d.noise_seed), "noise", std::uint64_t(d.noise_index));
    add_correlated_noise(out.image.view(), k, r);
  }
  return out;
}

}  // namespace ds::img
