// RealGalaxyCatalog: the table, the `_fits` companion, and every stamp read
// once. Stamps are read with CFITSIO directly, moving forward through each file
// HDU by HDU (FitsFile::hdu(i) counts all HDUs on every move, which is
// quadratic in a file of thousands of stamps).
#include "deepshear/imaging/real_galaxy_catalog.hpp"

#include <fitsio.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <unordered_map>

#include "deepshear/engine/error.hpp"
#include "deepshear/engine/fits.hpp"

namespace ds::img {
namespace fs = std::filesystem;

namespace {

std::string cfitsio_text(int status) {
  char buf[FLEN_STATUS] = {0};
  fits_get_errstatus(status, buf);
  return buf;
}

// The companion `<stem>_fits.fits` of a catalogue path ("" if none exists).
std::string companion_path(const std::string& catalog_path) {
  std::string p = catalog_path;
  for (const char* ext : {".fits.gz", ".fits", ".fit"}) {
    std::size_t n = std::strlen(ext);
    if (p.size() > n && p.compare(p.size() - n, n, ext) == 0) {
      std::string stem = p.substr(0, p.size() - n);
      for (const char* cext : {"_fits.fits", "_fits.fits.gz"}) {
        std::string c = stem + cext;
        std::error_code ec;
        if (fs::is_regular_file(c, ec)) return c;
      }
      return "";
    }
  }
  return "";
}

// A 64-bit hash of the shape and pixels, 8 bytes at a time (multiply-xorshift).
std::uint64_t pixel_hash(const float* d, long ny, long nx) {
  auto mix = [](std::uint64_t h, std::uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdull;
    return h ^ (h >> 33);
  };
  std::uint64_t h = mix(mix(0x243f6a8885a308d3ull, std::uint64_t(ny)), std::uint64_t(nx));
  const std::size_t n = std::size_t(ny) * std::size_t(nx);
  std::size_t i = 0;
  for (; i + 2 <= n; i += 2) {
    std::uint64_t v;
    std::memcpy(&v, d + i, 8);
    h = mix(h, v);
  }
  if (i < n) {
    std::uint32_t v;
    std::memcpy(&v, d + i, 4);
    h = mix(h, v);
  }
  return h;
}

// An open FITS file moved forward HDU by HDU.
struct Reader {
  fitsfile* f = nullptr;
  std::string path;
  int current = 0;  // 0-based HDU we are at
  explicit Reader(const std::string& p, const std::string& who) : path(p) {
    int status = 0;
    // Plain files open without CFITSIO's extended-name parsing ('[' in names);
    // gzip-compressed ones need the full opener.
    const bool gz = path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
    if (gz ? fits_open_file(&f, path.c_str(), READONLY, &status)
           : fits_open_diskfile(&f, path.c_str(), READONLY, &status))
      throw Error(path + ": cannot open FITS file (" + who + "): " + cfitsio_text(status));
  }
  ~Reader() {
    int s = 0;
    if (f) fits_close_file(f, &s);
  }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;
  // Moves to 2-D image HDU h and returns its (ny, nx).
  std::pair<long, long> image_shape(int h, const std::string& who) {
    int status = 0, type = 0;
    if (h != current) {
      if (fits_movabs_hdu(f, h + 1, &type, &status)) {
        if (status == END_OF_FILE) throw Error(path + ": HDU " + std::to_string(h) + " does not exist (" + who + ")");
        throw Error(path + ": cannot move to HDU " + std::to_string(h) + " (" + who + "): " + cfitsio_text(status));
      }
      current = h;
    }
    fits_get_hdu_type(f, &type, &status);
    if (type != IMAGE_HDU)
      throw Error(path + ": HDU " + std::to_string(h) + " is a table, not an image (" + who + ")");
    int naxis = 0;
    long naxes[9] = {0};
    fits_get_img_dim(f, &naxis, &status);
    if (!status && naxis <= 9) fits_get_img_size(f, naxis, naxes, &status);
    if (status) throw Error(path + ": HDU " + std::to_string(h) + ": cannot read the image shape: " + cfitsio_text(status));
    long nx = naxis >= 1 ? naxes[0] : 0, ny = naxis >= 2 ? naxes[1] : 0;
    bool flat = naxis >= 2;  // extra axes of length 1 (e.g. NAXIS3 = 1) are fine
    for (int a = 2; a < naxis; ++a) flat = flat && naxes[a] == 1;
    if (!flat || nx <= 0 || ny <= 0)
      throw Error(path + ": HDU " + std::to_string(h) + " is not a non-empty 2-D image (" + who + ")");
    return {ny, nx};
  }
  // Reads the current HDU's pixels (BSCALE/BZERO applied) as float.
  void read(float* dst, long n) {
    int status = 0, anynul = 0;
    long first[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    fits_read_pix(f, TFLOAT, first, n, nullptr, dst, &anynul, &status);
    if (status) throw Error(path + ": HDU " + std::to_string(current) + ": cannot read the pixels: " + cfitsio_text(status));
  }
};

template <std::size_t N, class T>
void copy_row(const RowMatrix<double>& m, long i, std::array<T, N>& dst, const std::string& where,
              const std::string& col) {
  if (m.cols() < long(N))
    throw Error(where + ": column '" + col + "' has " + std::to_string(m.cols()) + " elements per row, expected " +
                std::to_string(N));
  for (std::size_t j = 0; j < N; ++j) dst[j] = static_cast<T>(m(i, long(j)));
}

}  // namespace

const RealGalaxyRow& RealGalaxyCatalog::row(std::size_t i) const {
  require(i < rows_.size(), path_ + ": row " + std::to_string(i) + " out of range (catalogue has " +
                                std::to_string(rows_.size()) + " rows)");
  return rows_[i];
}

ImageView<const float> RealGalaxyCatalog::galaxy_view(std::size_t i) const {
  require(i < rows_.size(), path_ + ": galaxy " + std::to_string(i) + " out of range (catalogue has " +
                                std::to_string(rows_.size()) + " rows)");
  const Stamp& s = stamps_[gal_index_[i]];
  return ImageView<const float>(s.data, s.ny, s.nx);
}

ImageView<const float> RealGalaxyCatalog::psf_view(std::size_t i) const {
  require(i < rows_.size(), path_ + ": PSF " + std::to_string(i) + " out of range (catalogue has " +
                                std::to_string(rows_.size()) + " rows)");
  const Stamp& s = stamps_[psf_index_[i]];
  return ImageView<const float>(s.data, s.ny, s.nx);
}

ImageD RealGalaxyCatalog::galaxy_image(std::size_t i) const { return ImageD::copy_of(galaxy_view(i)); }
ImageD RealGalaxyCatalog::psf_image(std::size_t i) const { return ImageD::copy_of(psf_view(i)); }

std::size_t RealGalaxyCatalog::image_bytes() const {
  std::size_t b = 0;
  for (const auto& s : stamps_) b += sizeof(float) * std::size_t(s.ny * s.nx);
  return b;
}

std::size_t RealGalaxyCatalog::allocated_bytes() const {
  std::size_t b = 0;
  for (std::size_t n : block_size_) b += sizeof(float) * n;
  return b;
}

float* RealGalaxyCatalog::allocate(std::size_t n) {
  constexpr std::size_t kBlock = std::size_t(16) << 20;  // floats: 64 MiB
  if (blocks_.empty() || block_used_ + n > block_size_.back()) {
    std::size_t size = std::max(kBlock, n);
    blocks_.emplace_back(new float[size]);
    block_size_.push_back(size);
    block_used_ = 0;
  }
  float* p = blocks_.back().get() + block_used_;
  block_used_ += n;
  return p;
}

RealGalaxyCatalog RealGalaxyCatalog::load(const std::string& catalog_path) {
  RealGalaxyCatalog cat;
  cat.path_ = catalog_path;
  const double nan = std::numeric_limits<double>::quiet_NaN();

  // ---- the table
  {
    fits::FitsFile f(catalog_path);
    require(f.num_hdus() >= 2, catalog_path + ": no table HDU 1 (a RealGalaxyCatalog has its table in HDU 1)");
    f.hdu(1);
    const std::string where = f.where();
    const long n = f.num_rows();
    auto ints = [&](const char* c) { return f.read_int_column(c); };
    auto strs = [&](const char* c) { return f.read_string_column(c); };
    auto dbls = [&](const char* c) { return f.read_column(c); };
    // Required columns (read_* names the column when it is missing).
    std::vector<long long> ident = ints("IDENT");
    std::vector<std::string> gal_file = strs("GAL_FILENAME"), psf_file = strs("PSF_FILENAME");
    std::vector<long long> gal_hdu = ints("GAL_HDU"), psf_hdu = ints("PSF_HDU");
    std::vector<double> pixel_scale = dbls("PIXEL_SCALE"), noise_var = dbls("NOISE_VARIANCE");
    std::vector<double> mag = dbls("MAG"), weight = dbls("WEIGHT");
    // Optional columns.
    std::vector<double> noise_mean = f.has_column("NOISE_MEAN") ? dbls("NOISE_MEAN") : std::vector<double>(n, 0.0);
    std::vector<std::string> band = f.has_column("BAND") ? strs("BAND") : std::vector<std::string>(n);
    std::vector<std::string> noise_file =
        f.has_column("NOISE_FILENAME") ? strs("NOISE_FILENAME") : std::vector<std::string>(n);
    bool has_sf = f.has_column("STAMP_FLUX");
    std::vector<double> stamp_flux = has_sf ? dbls("STAMP_FLUX") : std::vector<double>(n, nan);

    cat.rows_.resize(std::size_t(n));
    for (long i = 0; i < n; ++i) {
      RealGalaxyRow& r = cat.rows_[std::size_t(i)];
      r.ident = ident[i];
      r.mag = mag[i];
      r.weight = weight[i];
      r.pixel_scale = pixel_scale[i];
      r.noise_variance = noise_var[i];
      r.noise_mean = noise_mean[i];
      r.band = band[i];
      r.gal_file = gal_file[i];
      r.gal_hdu = int(gal_hdu[i]);
      r.psf_file = psf_file[i];
      r.psf_hdu = int(psf_hdu[i]);
      r.noise_file = noise_file[i];
      r.has_stamp_flux = has_sf;
      r.stamp_flux = stamp_flux[i];
      r.mag_auto = r.flux_radius = r.zphot = nan;
      if (!(r.pixel_scale > 0))
        throw Error(where + ": row " + std::to_string(i) + ": PIXEL_SCALE " + std::to_string(r.pixel_scale) +
                    " is not positive");
      if (gal_hdu[i] < 0 || psf_hdu[i] < 0)
        throw Error(where + ": row " + std::to_string(i) + ": negative GAL_HDU or PSF_HDU");
      if (r.gal_file.empty() || r.psf_file.empty())
        throw Error(where + ": row " + std::to_string(i) + ": empty GAL_FILENAME or PSF_FILENAME");
    }
  }

  // ---- the `_fits` companion
  cat.fits_path_ = companion_path(catalog_path);
  if (!cat.fits_path_.empty()) {
    fits::FitsFile f(cat.fits_path_);
    require(f.num_hdus() >= 2, cat.fits_path_ + ": no table HDU 1");
    f.hdu(1);
    const std::string where = f.where();
    const long n = f.num_rows();
    if (std::size_t(n) != cat.rows_.size())
      throw Error(where + ": has " + std::to_string(n) + " rows but the catalogue " + catalog_path + " has " +
                  std::to_string(cat.rows_.size()));
    std::vector<long long> ident = f.read_int_column("IDENT");
    for (long i = 0; i < n; ++i)
      if (ident[i] != cat.rows_[std::size_t(i)].ident)
        throw Error(where + ": row " + std::to_string(i) + ": IDENT " + std::to_string(ident[i]) +
                    " differs from the catalogue's " + std::to_string(cat.rows_[std::size_t(i)].ident));
    auto opt = [&](const char* c, double RealGalaxyRow::*field) {
      if (!f.has_column(c)) return;
      std::vector<double> v = f.read_column(c);
      for (long i = 0; i < n; ++i) cat.rows_[std::size_t(i)].*field = v[i];
    };
    opt("MAG_AUTO", &RealGalaxyRow::mag_auto);
    opt("FLUX_RADIUS", &RealGalaxyRow::flux_radius);
    opt("ZPHOT", &RealGalaxyRow::zphot);
    static const char* parametric[] = {"SERSICFIT", "BULGEFIT", "FIT_STATUS", "USE_BULGEFIT",
                                       "VIABLE_SERSIC", "HLR", "FLUX"};
    int present = 0;
    for (const char* c : parametric) present += f.has_column(c) ? 1 : 0;
    if (present > 0) {
      // Some parametric columns but not all: name the missing one.
      for (const char* c : parametric)
        if (!f.has_column(c)) throw Error(where + ": parametric-fit column '" + c + "' is missing");
      RowMatrix<double> sersic = f.read_vector_column("SERSICFIT"), bulge = f.read_vector_column("BULGEFIT"),
                        status = f.read_vector_column("FIT_STATUS"), hlr = f.read_vector_column("HLR"),
                        flux = f.read_vector_column("FLUX");
      std::vector<long long> use_bulge = f.read_int_column("USE_BULGEFIT"),
                             viable = f.read_int_column("VIABLE_SERSIC");
      for (long i = 0; i < n; ++i) {
        RealGalaxyRow& r = cat.rows_[std::size_t(i)];
        r.has_fits = true;
        copy_row(sersic, i, r.sersicfit, where, "SERSICFIT");
        copy_row(bulge, i, r.bulgefit, where, "BULGEFIT");
        copy_row(status, i, r.fit_status, where, "FIT_STATUS");
        copy_row(hlr, i, r.hlr, where, "HLR");
        copy_row(flux, i, r.flux, where, "FLUX");
        r.use_bulgefit = use_bulge[i] != 0;
        r.viable_sersic = viable[i] != 0;
      }
    }
  }

  // ---- the stamps: every (file, HDU) once, files in order of first use
  const fs::path dir = fs::path(catalog_path).parent_path();
  struct Need {
    std::vector<int> hdus;
    std::vector<std::string> who;
  };
  std::vector<std::string> file_order;
  std::map<std::string, Need> need;  // resolved path -> HDUs wanted
  auto resolve = [&](const std::string& name, std::size_t i, const char* what) {
    fs::path p = fs::path(name).is_absolute() ? fs::path(name) : dir / name;
    std::string s = p.string();
    if (!need.count(s)) {
      std::error_code ec;
      if (!fs::is_regular_file(p, ec))
        throw Error("real-galaxy catalogue " + catalog_path + " row " + std::to_string(i) + ": " + what +
                    " image file " + s + " does not exist");
      file_order.push_back(s);
      need[s];
    }
    return s;
  };
  const std::size_t n = cat.rows_.size();
  std::vector<std::string> gal_path(n), psf_path(n);
  std::map<std::pair<std::string, int>, std::string> first_use;  // (path, HDU) -> "row i (galaxy)"
  for (std::size_t i = 0; i < n; ++i) {
    const RealGalaxyRow& r = cat.rows_[i];
    gal_path[i] = resolve(r.gal_file, i, "galaxy");
    need[gal_path[i]].hdus.push_back(r.gal_hdu);
    first_use.emplace(std::make_pair(gal_path[i], r.gal_hdu), "row " + std::to_string(i) + " galaxy");
    psf_path[i] = resolve(r.psf_file, i, "PSF");
    need[psf_path[i]].hdus.push_back(r.psf_hdu);
    first_use.emplace(std::make_pair(psf_path[i], r.psf_hdu), "row " + std::to_string(i) + " PSF");
  }
  // (path, hdu) -> index into stamps_, deduplicating bit-identical stamps.
  std::map<std::pair<std::string, int>, std::uint32_t> slot;
  std::unordered_multimap<std::uint64_t, std::uint32_t> by_hash;
  const std::string who = "catalogue " + catalog_path;
  for (const std::string& p : file_order) {
    Need& nd = need[p];
    std::sort(nd.hdus.begin(), nd.hdus.end());
    nd.hdus.erase(std::unique(nd.hdus.begin(), nd.hdus.end()), nd.hdus.end());
    Reader rd(p, who);
    for (int h : nd.hdus) {
      auto [ny, nx] = rd.image_shape(h, who + " " + first_use.at({p, h}));
      const std::size_t npix = std::size_t(ny) * std::size_t(nx);
      float* dst = cat.allocate(npix);
      rd.read(dst, long(npix));
      const std::uint64_t hv = pixel_hash(dst, ny, nx);
      std::uint32_t idx = std::uint32_t(-1);
      auto range = by_hash.equal_range(hv);
      for (auto it = range.first; it != range.second && idx == std::uint32_t(-1); ++it) {
        const Stamp& o = cat.stamps_[it->second];
        if (o.ny == ny && o.nx == nx && std::memcmp(o.data, dst, sizeof(float) * npix) == 0) idx = it->second;
      }
      if (idx == std::uint32_t(-1)) {
        idx = std::uint32_t(cat.stamps_.size());
        cat.stamps_.push_back(Stamp{dst, ny, nx});
        by_hash.emplace(hv, idx);
      } else {
        cat.block_used_ -= npix;  // a duplicate: give back the room (it was the last allocation)
      }
      slot[{p, h}] = idx;
    }
  }
  cat.gal_index_.resize(n);
  cat.psf_index_.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    cat.gal_index_[i] = slot.at({gal_path[i], cat.rows_[i].gal_hdu});
    cat.psf_index_[i] = slot.at({psf_path[i], cat.rows_[i].psf_hdu});
  }
  return cat;
}

}  // namespace ds::img
