#include "deepshear/lensing/cluster/field_inputs.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "deepshear/engine/config.hpp"
#include "deepshear/engine/error.hpp"
#include "deepshear/engine/fits.hpp"

namespace ds::lens {

namespace {

std::string size_text(long ny, long nx) { return std::to_string(nx) + "x" + std::to_string(ny); }

}  // namespace

std::string FieldInputs::display_name() const {
  if (!name.empty()) return name;
  if (images.empty()) return "field";
  std::string s = std::filesystem::path(images[0]).filename().string();
  for (const char* ext : {".gz", ".fits", ".fit"})
    if (s.size() > std::string(ext).size() && s.compare(s.size() - std::string(ext).size(), std::string::npos, ext) == 0)
      s.erase(s.size() - std::string(ext).size());
  for (const char* tag : {"_drz", "_sci"})
    if (s.size() > 4 && s.compare(s.size() - 4, 4, tag) == 0) s.erase(s.size() - 4);
  return s;
}

std::vector<FieldInputs> read_field_list(const std::string& path) {
  std::ifstream in(path);
  require(bool(in), path + ": cannot read the field list");
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  auto resolve = [&](const std::string& p) {
    std::filesystem::path q(p);
    return q.is_absolute() || dir.empty() ? p : (dir / q).string();
  };
  std::vector<FieldInputs> fields;
  std::string line;
  for (int lineno = 1; std::getline(in, line); ++lineno) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    std::stringstream ss(line);
    std::string token;
    FieldInputs f;
    bool any = false;
    const std::string where = path + ":" + std::to_string(lineno);
    while (ss >> token) {
      any = true;
      auto eq = token.find('=');
      require(eq != std::string::npos && eq > 0, where + ": '" + token + "' is not key=value");
      const std::string key = token.substr(0, eq), value = token.substr(eq + 1);
      std::vector<std::string> paths;
      for (const auto& p : split_list(value)) paths.push_back(resolve(p));
      if (key == "name") f.name = value;
      else if (key == "image" || key == "images") f.images = paths;
      else if (key == "weight" || key == "weights") f.weights = paths;
      else if (key == "mask" || key == "masks") f.masks = paths;
      else if (key == "catalog" || key == "catalogue") f.catalogue = paths.empty() ? "" : paths[0];
      else if (key == "truth") f.truth = paths.empty() ? "" : paths[0];
      else throw Error(where + ": unknown key '" + key + "' (known: name, image, weight, mask, catalog, truth)");
    }
    if (!any) continue;
    require(!f.images.empty(), where + ": no image= given");
    complete_weight_maps(f, "weight= given", where);
    fields.push_back(f);
  }
  require(!fields.empty(), path + ": no fields listed");
  return fields;
}

std::string conventional_weight_map(const std::string& image) {
  for (const char* tag : {"_drz", "_sci"})
    for (const char* ext : {".fits", ".fits.gz", ".fit"}) {
      const std::string suffix = std::string(tag) + ext;
      if (image.size() > suffix.size() && image.compare(image.size() - suffix.size(), suffix.size(), suffix) == 0) {
        const std::string w = image.substr(0, image.size() - suffix.size()) + "_wht" + ext;
        if (std::filesystem::exists(w)) return w;
      }
    }
  return "";
}

void complete_weight_maps(FieldInputs& in, const std::string& what, const std::string& where) {
  if (!in.weights.empty()) return;
  for (const auto& im : in.images) {
    const std::string w = conventional_weight_map(im);
    require(!w.empty(), (where.empty() ? im : where) + ": no " + what + " and no weight map beside " +
                            std::filesystem::path(im).filename().string() +
                            " by the _drz/_wht naming (one inverse-variance map per image)");
    in.weights.push_back(w);
  }
}

ImageF read_first_image(const std::string& path, int* hdu) {
  fits::FitsFile f(path);
  for (int h = 0; h < f.num_hdus(); ++h) {
    auto info = f.hdu(h).info();
    const bool image2d = info.kind == fits::HduKind::Image &&
                         (info.shape.size() == 2 || (info.shape.size() == 3 && info.shape[0] == 1));
    if (image2d) {
      if (hdu) *hdu = h;
      return f.read_image<float>();
    }
  }
  throw Error(path + ": no 2-D image in any HDU");
}

LoadedField load_field(const FieldInputs& in) {
  require(!in.images.empty(), "cluster: no science image given");
  if (in.weights.size() != in.images.size())
    throw Error(in.images[0] + ": " + std::to_string(in.images.size()) + " science image(s) but " +
                std::to_string(in.weights.size()) + " weight map(s); give one inverse-variance map (*_wht.fits) per image");
  std::vector<ImageF> images, weights;
  LoadedField out;
  for (std::size_t i = 0; i < in.images.size(); ++i) {
    int hdu = 0;
    images.push_back(read_first_image(in.images[i], &hdu));
    if (i == 0) {
      fits::FitsFile f(in.images[0]);
      f.hdu(hdu);
      out.wcs = img::TanWcs::from_header(f);
      out.pixel_scale = out.wcs.pixel_scale();
    }
    weights.push_back(read_first_image(in.weights[i]));
    const long ny = images[0].ny(), nx = images[0].nx();
    if (images[i].ny() != ny || images[i].nx() != nx)
      throw Error(in.images[i] + ": image is " + size_text(images[i].ny(), images[i].nx()) + " but " + in.images[0] +
                  " is " + size_text(ny, nx));
    if (weights[i].ny() != ny || weights[i].nx() != nx)
      throw Error(in.weights[i] + ": weight map is " + size_text(weights[i].ny(), weights[i].nx()) + " but its image " +
                  in.images[i] + " is " + size_text(ny, nx));
  }
  out.total = total_image(images, weights);
  images.clear(), weights.clear();
  const long ny = out.total.image.ny(), nx = out.total.image.nx();
  out.bad = Image<unsigned char>(ny, nx, 0);
  for (long k = 0; k < ny * nx; ++k) out.bad.data()[k] = out.total.weight.data()[k] > 0 ? 0 : 1;
  for (const auto& m : in.masks) {
    ImageF mask = read_first_image(m);
    if (mask.ny() != ny || mask.nx() != nx)
      throw Error(m + ": mask is " + size_text(mask.ny(), mask.nx()) + " but the images are " + size_text(ny, nx));
    for (long k = 0; k < ny * nx; ++k)
      if (mask.data()[k] != 0) out.bad.data()[k] = 1;
  }
  return out;
}

}  // namespace ds::lens
