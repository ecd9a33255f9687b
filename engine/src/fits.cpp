#include "deepshear/engine/fits.hpp"

#include <fitsio.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "deepshear/engine/error.hpp"
#include "deepshear/engine/provenance.hpp"

#include "fits_header_check.hpp"

namespace ds::fits {

namespace {

fitsfile* F(void* p) { return static_cast<fitsfile*>(p); }

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string rstrip(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

// CFITSIO's message for a status code plus the first message on its stack.
std::string status_text(int status) {
  char text[FLEN_STATUS] = {0};
  fits_get_errstatus(status, text);
  std::string out = text;
  char msg[FLEN_ERRMSG] = {0};
  std::string detail;
  while (fits_read_errmsg(msg)) {
    if (detail.empty()) detail = rstrip(msg);
  }
  if (!detail.empty() && lower(detail) != lower(out)) out += " (" + detail + ")";
  return out;
}

template <class T>
struct FitsType;
template <>
struct FitsType<float> {
  static constexpr int code = TFLOAT;
};
template <>
struct FitsType<double> {
  static constexpr int code = TDOUBLE;
};
template <>
struct FitsType<std::int32_t> {
  static constexpr int code = TINT;
};
template <>
struct FitsType<std::int16_t> {
  static constexpr int code = TSHORT;
};
template <>
struct FitsType<std::uint16_t> {
  static constexpr int code = TUSHORT;
};
template <>
struct FitsType<std::uint8_t> {
  static constexpr int code = TBYTE;
};
template <>
struct FitsType<std::int64_t> {
  static constexpr int code = TLONGLONG;
};

}  // namespace

bool ColumnInfo::is_string() const { return std::abs(typecode) == TSTRING; }

std::string HduInfo::kind_name() const {
  switch (kind) {
    case HduKind::Image: return "IMAGE";
    case HduKind::BinaryTable: return "BINTABLE";
    case HduKind::AsciiTable: return "TABLE";
  }
  return "?";
}

std::string cfitsio_version() {
  return std::to_string(CFITSIO_MAJOR) + "." + std::to_string(CFITSIO_MINOR)
#ifdef CFITSIO_MICRO
         + "." + std::to_string(CFITSIO_MICRO)
#endif
      ;
}

// ------------------------------------------------------------------ reading

FitsFile::FitsFile(const std::string& path) : path_(path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error(path + ": no such file");
  if (fs::is_directory(path, ec)) throw Error(path + ": is a folder, not a FITS file");
  if (fs::file_size(path, ec) == 0) throw Error(path + ": empty file, not FITS");
  detail::check_raw_headers(path);  // before CFITSIO parses anything (fits_header_check.hpp)
  fitsfile* f = nullptr;
  int status = 0;
  // Open exactly this file: no CFITSIO extended-filename syntax ([1], +2, ...).
  fits_open_diskfile(&f, path.c_str(), READONLY, &status);
  if (status) {
    if (f) {
      int s2 = 0;
      fits_close_file(f, &s2);
    }
    throw Error(path + ": not a readable FITS file: " + status_text(status));
  }
  fptr_ = f;
}

FitsFile::~FitsFile() {
  if (fptr_) {
    int status = 0;
    fits_close_file(F(fptr_), &status);
  }
}

FitsFile::FitsFile(FitsFile&& o) noexcept : path_(std::move(o.path_)), fptr_(std::exchange(o.fptr_, nullptr)) {}
FitsFile& FitsFile::operator=(FitsFile&& o) noexcept {
  if (this != &o) {
    if (fptr_) {
      int status = 0;
      fits_close_file(F(fptr_), &status);
    }
    path_ = std::move(o.path_);
    fptr_ = std::exchange(o.fptr_, nullptr);
  }
  return *this;
}

std::string FitsFile::where() const {
  int n = current_hdu();
  std::string out = path_ + "[HDU " + std::to_string(n);
  char name[FLEN_VALUE] = {0};
  int status = 0;
  if (fits_read_key(F(fptr_), TSTRING, "EXTNAME", name, nullptr, &status) == 0) out += " '" + rstrip(name) + "'";
  return out + "]";
}

void FitsFile::check(int status, const std::string& what) const {
  if (status) throw Error(where() + ": " + what + ": " + status_text(status));
}

int FitsFile::num_hdus() const {
  int n = 0, status = 0;
  fits_get_num_hdus(F(fptr_), &n, &status);
  if (status) throw Error(path_ + ": cannot count HDUs: " + status_text(status));
  return n;
}

int FitsFile::current_hdu() const {
  int n = 0;
  fits_get_hdu_num(F(fptr_), &n);
  return n - 1;
}

FitsFile& FitsFile::hdu(int index) {
  int status = 0, type = 0;
  // Move first and count only on failure: counting walks the whole file, which
  // would make reading stamp after stamp from a many-HDU file quadratic.
  if (index >= 0) fits_movabs_hdu(F(fptr_), index + 1, &type, &status);
  if (index < 0 || status == END_OF_FILE || status == BAD_HDU_NUM) {
    fits_clear_errmsg();
    int n = num_hdus();
    throw Error(path_ + ": HDU " + std::to_string(index) + " does not exist (the file has " + std::to_string(n) +
                " HDU" + (n == 1 ? "" : "s") + ", 0.." + std::to_string(n - 1) + ")");
  }
  if (status) throw Error(path_ + ": cannot move to HDU " + std::to_string(index) + ": " + status_text(status));
  return *this;
}

FitsFile& FitsFile::hdu(const std::string& extname) {
  int n = num_hdus();
  for (int i = 0; i < n; ++i) {
    hdu(i);
    auto name = key_string_opt("EXTNAME");
    if (name && lower(*name) == lower(extname)) return *this;
  }
  throw Error(path_ + ": no HDU with EXTNAME '" + extname + "'");
}

HduInfo FitsFile::info() const {
  HduInfo h;
  h.index = current_hdu();
  int status = 0, type = 0;
  fits_get_hdu_type(F(fptr_), &type, &status);
  check(status, "cannot read the HDU type");
  h.kind = type == IMAGE_HDU ? HduKind::Image : type == BINARY_TBL ? HduKind::BinaryTable : HduKind::AsciiTable;
  h.extname = key_string_opt("EXTNAME").value_or("");
  if (h.kind == HduKind::Image) {
    int naxis = 0;
    long naxes[9] = {0};
    fits_get_img_param(F(fptr_), 9, &h.bitpix, &naxis, naxes, &status);
    fits_get_img_equivtype(F(fptr_), &h.equiv_bitpix, &status);
    check(status, "cannot read the image size");
    for (int i = naxis - 1; i >= 0; --i) h.shape.push_back(naxes[i]);
  } else {
    h.nrows = num_rows();
    h.columns = columns();
  }
  return h;
}

std::vector<HduInfo> FitsFile::all_hdus() {
  std::vector<HduInfo> out;
  int n = num_hdus();
  for (int i = 0; i < n; ++i) out.push_back(hdu(i).info());
  return out;
}

// ------------------------------------------------------------------ keys

bool FitsFile::has_key(const std::string& key) const {
  char card[FLEN_CARD];
  int status = 0;
  fits_read_card(F(fptr_), key.c_str(), card, &status);
  return status == 0;
}

std::optional<std::string> FitsFile::key_string_opt(const std::string& key) const {
  char value[FLEN_VALUE] = {0};
  int status = 0;
  fits_read_key(F(fptr_), TSTRING, key.c_str(), value, nullptr, &status);
  if (status == KEY_NO_EXIST) {
    fits_clear_errmsg();
    return std::nullopt;
  }
  check(status, "key '" + key + "' is not readable as text");
  std::string v = rstrip(value);
  if (!v.empty() && v.back() == '&') {  // the long-string convention: the value goes on in CONTINUE cards
    char* whole = nullptr;
    fits_read_key_longstr(F(fptr_), key.c_str(), &whole, nullptr, &status);
    if (whole) v = rstrip(whole), fits_free_memory(whole, &status);
    check(status, "key '" + key + "' is not readable as a long string");
  }
  return v;
}

std::string FitsFile::key_string(const std::string& key) const {
  auto v = key_string_opt(key);
  if (!v) throw Error(where() + ": key '" + key + "' is missing");
  return *v;
}

std::optional<double> FitsFile::key_double_opt(const std::string& key) const {
  double v = 0;
  int status = 0;
  fits_read_key(F(fptr_), TDOUBLE, key.c_str(), &v, nullptr, &status);
  if (status == KEY_NO_EXIST) {
    fits_clear_errmsg();
    return std::nullopt;
  }
  check(status, "key '" + key + "' is not a number");
  return v;
}

double FitsFile::key_double(const std::string& key) const {
  auto v = key_double_opt(key);
  if (!v) throw Error(where() + ": key '" + key + "' is missing");
  return *v;
}

long long FitsFile::key_long(const std::string& key) const {
  LONGLONG v = 0;
  int status = 0;
  fits_read_key(F(fptr_), TLONGLONG, key.c_str(), &v, nullptr, &status);
  if (status == KEY_NO_EXIST) throw Error(where() + ": key '" + key + "' is missing");
  check(status, "key '" + key + "' is not an integer");
  return v;
}

bool FitsFile::key_bool(const std::string& key) const {
  int v = 0, status = 0;
  fits_read_key(F(fptr_), TLOGICAL, key.c_str(), &v, nullptr, &status);
  if (status == KEY_NO_EXIST) throw Error(where() + ": key '" + key + "' is missing");
  check(status, "key '" + key + "' is not a logical (T/F)");
  return v != 0;
}

std::vector<Card> FitsFile::cards() const {
  int nkeys = 0, status = 0;
  fits_get_hdrspace(F(fptr_), &nkeys, nullptr, &status);
  check(status, "cannot read the header");
  std::vector<Card> out;
  for (int i = 1; i <= nkeys; ++i) {
    char key[FLEN_KEYWORD] = {0}, value[FLEN_VALUE] = {0}, comment[FLEN_COMMENT] = {0};
    fits_read_keyn(F(fptr_), i, key, value, comment, &status);
    check(status, "cannot read header card " + std::to_string(i));
    out.push_back({key, rstrip(value), rstrip(comment)});
  }
  return out;
}

// ------------------------------------------------------------------ images

template <class T>
Image<T> FitsFile::read_image() const {
  HduInfo h = info();
  if (h.kind != HduKind::Image) throw Error(where() + ": is a " + h.kind_name() + ", not an image");
  std::vector<long> s = h.shape;
  while (s.size() > 2 && s.front() == 1) s.erase(s.begin());
  if (s.size() != 2) {
    std::string shape = Tensor::shape_string(std::vector<long>(h.shape.begin(), h.shape.end()));
    throw Error(where() + ": image has shape " + shape + ", expected 2 axes");
  }
  Image<T> img(s[0], s[1]);
  if (img.size() == 0) return img;
  int status = 0, anynul = 0;
  long first[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  fits_read_pix(F(fptr_), FitsType<T>::code, first, img.size(), nullptr, img.data(), &anynul, &status);
  check(status, "cannot read the image pixels");
  return img;
}

template Image<float> FitsFile::read_image<float>() const;
template Image<double> FitsFile::read_image<double>() const;
template Image<std::int32_t> FitsFile::read_image<std::int32_t>() const;

Tensor FitsFile::read_cube() const {
  HduInfo h = info();
  if (h.kind != HduKind::Image) throw Error(where() + ": is a " + h.kind_name() + ", not an image cube");
  std::vector<long> s = h.shape;
  if (s.size() == 2) s.insert(s.begin(), 1);
  if (s.size() != 3) throw Error(where() + ": image has " + std::to_string(s.size()) + " axes, expected a 3-D cube");
  Tensor t({s[0], s[1], s[2]});
  if (t.size() == 0) return t;
  int status = 0, anynul = 0;
  long first[3] = {1, 1, 1};
  fits_read_pix(F(fptr_), TFLOAT, first, t.size(), nullptr, t.data(), &anynul, &status);
  check(status, "cannot read the cube pixels");
  return t;
}

Tensor FitsFile::read_cube_planes(long first, long count) const {
  HduInfo h = info();
  if (h.kind != HduKind::Image) throw Error(where() + ": is a " + h.kind_name() + ", not an image cube");
  std::vector<long> s = h.shape;
  if (s.size() == 2) s.insert(s.begin(), 1);
  if (s.size() != 3) throw Error(where() + ": image has " + std::to_string(s.size()) + " axes, expected a 3-D cube");
  if (first < 0 || count < 0 || first + count > s[0])
    throw Error(where() + ": planes [" + std::to_string(first) + ", " + std::to_string(first + count) +
                ") outside a cube of " + std::to_string(s[0]));
  Tensor t({count, s[1], s[2]});
  if (t.size() == 0) return t;
  int status = 0, anynul = 0;
  long fpix[3] = {1, 1, first + 1};
  fits_read_pix(F(fptr_), TFLOAT, fpix, t.size(), nullptr, t.data(), &anynul, &status);
  check(status, "cannot read cube planes");
  return t;
}

// ------------------------------------------------------------------ tables

long FitsFile::num_rows() const {
  int status = 0, type = 0;
  fits_get_hdu_type(F(fptr_), &type, &status);
  if (type == IMAGE_HDU) throw Error(where() + ": is an image, not a table");
  long n = 0;
  fits_get_num_rows(F(fptr_), &n, &status);
  check(status, "cannot count table rows");
  return n;
}

std::vector<ColumnInfo> FitsFile::columns() const {
  int status = 0, ncols = 0;
  fits_get_num_cols(F(fptr_), &ncols, &status);
  check(status, "cannot count table columns");
  std::vector<ColumnInfo> out;
  for (int c = 1; c <= ncols; ++c) {
    ColumnInfo ci;
    char name[FLEN_VALUE] = {0}, unit[FLEN_VALUE] = {0}, tform[FLEN_VALUE] = {0};
    char key[FLEN_KEYWORD];
    fits_make_keyn("TTYPE", c, key, &status);
    int s2 = 0;
    fits_read_key(F(fptr_), TSTRING, key, name, nullptr, &s2);
    fits_make_keyn("TFORM", c, key, &status);
    fits_read_key(F(fptr_), TSTRING, key, tform, nullptr, &status);
    fits_make_keyn("TUNIT", c, key, &status);
    s2 = 0;
    fits_read_key(F(fptr_), TSTRING, key, unit, nullptr, &s2);
    long width = 0;
    fits_get_eqcoltype(F(fptr_), c, &ci.typecode, &ci.repeat, &width, &status);
    check(status, "cannot read the type of column " + std::to_string(c));
    fits_clear_errmsg();
    ci.name = rstrip(name);
    ci.tform = rstrip(tform);
    ci.unit = rstrip(unit);
    out.push_back(ci);
  }
  return out;
}

bool FitsFile::has_column(const std::string& name) const {
  for (const auto& c : columns())
    if (lower(c.name) == lower(name)) return true;
  return false;
}

int FitsFile::column_number(const std::string& name, ColumnInfo* info) const {
  auto cols = columns();
  for (std::size_t i = 0; i < cols.size(); ++i) {
    if (lower(cols[i].name) == lower(name)) {
      if (info) *info = cols[i];
      return int(i) + 1;
    }
  }
  std::string have;
  for (const auto& c : cols) have += (have.empty() ? "" : ", ") + c.name;
  throw Error(where() + ": column '" + name + "' not found (columns: " + have + ")");
}

static bool is_numeric(int typecode) {
  int t = std::abs(typecode);
  return t != TSTRING && t != TLOGICAL && t != TBIT && t != TCOMPLEX && t != TDBLCOMPLEX;
}

static bool is_integer(int typecode) {
  int t = std::abs(typecode);
  return t == TBYTE || t == TSBYTE || t == TSHORT || t == TUSHORT || t == TINT || t == TUINT || t == TLONG ||
         t == TULONG || t == TLONGLONG || t == TULONGLONG || t == TINT32BIT;
}

std::vector<double> FitsFile::read_column(const std::string& name) const {
  ColumnInfo ci;
  int c = column_number(name, &ci);
  if (!is_numeric(ci.typecode))
    throw Error(where() + ": column '" + ci.name + "' has type " + ci.tform + ", not a number");
  if (ci.repeat != 1)
    throw Error(where() + ": column '" + ci.name + "' holds " + std::to_string(ci.repeat) +
                " values per row (" + ci.tform + "), not one");
  long n = num_rows();
  std::vector<double> v(static_cast<std::size_t>(n));
  int status = 0, anynul = 0;
  if (n) fits_read_col(F(fptr_), TDOUBLE, c, 1, 1, n, nullptr, v.data(), &anynul, &status);
  check(status, "cannot read column '" + ci.name + "'");
  return v;
}

std::vector<long long> FitsFile::read_int_column(const std::string& name) const {
  ColumnInfo ci;
  int c = column_number(name, &ci);
  if (!is_integer(ci.typecode))
    throw Error(where() + ": column '" + ci.name + "' has type " + ci.tform + ", not an integer");
  if (ci.repeat != 1)
    throw Error(where() + ": column '" + ci.name + "' holds " + std::to_string(ci.repeat) + " values per row, not one");
  long n = num_rows();
  std::vector<long long> v(static_cast<std::size_t>(n));
  int status = 0, anynul = 0;
  if (n) fits_read_col(F(fptr_), TLONGLONG, c, 1, 1, n, nullptr, v.data(), &anynul, &status);
  check(status, "cannot read column '" + ci.name + "'");
  return v;
}

RowMatrix<double> FitsFile::read_vector_column(const std::string& name) const {
  ColumnInfo ci;
  int c = column_number(name, &ci);
  if (!is_numeric(ci.typecode))
    throw Error(where() + ": column '" + ci.name + "' has type " + ci.tform + ", not numbers");
  long n = num_rows();
  RowMatrix<double> m(n, ci.repeat);
  int status = 0, anynul = 0;
  if (n && ci.repeat)
    fits_read_col(F(fptr_), TDOUBLE, c, 1, 1, n * ci.repeat, nullptr, m.data(), &anynul, &status);
  check(status, "cannot read column '" + ci.name + "'");
  return m;
}

std::vector<std::string> FitsFile::read_string_column(const std::string& name) const {
  ColumnInfo ci;
  int c = column_number(name, &ci);
  if (!ci.is_string()) throw Error(where() + ": column '" + ci.name + "' has type " + ci.tform + ", not text");
  long n = num_rows();
  int status = 0, anynul = 0, width = 0;
  fits_get_col_display_width(F(fptr_), c, &width, &status);
  width = std::max<int>(width, int(ci.repeat)) + 1;
  std::vector<std::string> out;
  std::vector<char> buf(std::size_t(width) + 1);
  for (long r = 1; r <= n; ++r) {
    char* p = buf.data();
    std::fill(buf.begin(), buf.end(), '\0');
    fits_read_col(F(fptr_), TSTRING, c, r, 1, 1, nullptr, &p, &anynul, &status);
    check(status, "cannot read column '" + ci.name + "' row " + std::to_string(r - 1));
    out.push_back(rstrip(buf.data()));
  }
  return out;
}

// ------------------------------------------------------------------ writing

long TableColumn::rows() const {
  long r = std::max<long>(repeat, 1);
  switch (kind) {
    case Kind::Double: return long(f64.size()) / r;
    case Kind::Float: return long(f32.size()) / r;
    case Kind::Int32: return long(i32.size()) / r;
    case Kind::Int64: return long(i64.size()) / r;
    case Kind::String: return long(str.size());
  }
  return 0;
}

TableColumn TableColumn::doubles(std::string name, std::vector<double> v, long repeat, std::string unit) {
  TableColumn c;
  c.name = std::move(name), c.kind = Kind::Double, c.repeat = repeat, c.unit = std::move(unit), c.f64 = std::move(v);
  return c;
}
TableColumn TableColumn::floats(std::string name, std::vector<float> v, long repeat, std::string unit) {
  TableColumn c;
  c.name = std::move(name), c.kind = Kind::Float, c.repeat = repeat, c.unit = std::move(unit), c.f32 = std::move(v);
  return c;
}
TableColumn TableColumn::int32s(std::string name, std::vector<std::int32_t> v, long repeat, std::string unit) {
  TableColumn c;
  c.name = std::move(name), c.kind = Kind::Int32, c.repeat = repeat, c.unit = std::move(unit), c.i32 = std::move(v);
  return c;
}
TableColumn TableColumn::int64s(std::string name, std::vector<std::int64_t> v, long repeat, std::string unit) {
  TableColumn c;
  c.name = std::move(name), c.kind = Kind::Int64, c.repeat = repeat, c.unit = std::move(unit), c.i64 = std::move(v);
  return c;
}
TableColumn TableColumn::strings(std::string name, std::vector<std::string> v) {
  TableColumn c;
  c.name = std::move(name), c.kind = Kind::String, c.repeat = 0, c.str = std::move(v);
  return c;
}

FitsWriter::FitsWriter(const std::string& path) : path_(path), file_(path) {
  fitsfile* f = nullptr;
  int status = 0;
  // AtomicFile has removed any stale temporary of this name.
  fits_create_diskfile(&f, file_.temp_path().c_str(), &status);
  if (status) throw Error(path + ": cannot create FITS file: " + status_text(status));
  fptr_ = f;
}

FitsWriter::~FitsWriter() {
  if (fptr_) {
    int status = 0;
    fits_close_file(F(fptr_), &status);
  }
}

void FitsWriter::check(int status, const std::string& what) const {
  if (status) throw Error(path_ + "[HDU " + std::to_string(hdus_ - 1) + "]: " + what + ": " + status_text(status));
}

template <class T>
void FitsWriter::write_image(ImageView<const T> image, PixelType type, const std::string& extname) {
  int status = 0;
  long naxes[2] = {image.nx(), image.ny()};
  fits_create_img(F(fptr_), int(type), 2, naxes, &status);
  ++hdus_;
  check(status, "cannot create image HDU");
  if (!extname.empty()) write_key("EXTNAME", extname);
  if (type == PixelType::UInt8 || type == PixelType::Int16 || type == PixelType::Int32 || type == PixelType::Int64) {
    // Integer images: round, and clip to the type's range rather than wrap.
    double lo = type == PixelType::UInt8 ? 0 : type == PixelType::Int16 ? -32768 : type == PixelType::Int32 ? -2147483648.0 : -9.2e18;
    double hi = type == PixelType::UInt8 ? 255 : type == PixelType::Int16 ? 32767 : type == PixelType::Int32 ? 2147483647.0 : 9.2e18;
    std::vector<double> row(std::size_t(image.nx()));
    for (long y = 0; y < image.ny(); ++y) {
      for (long x = 0; x < image.nx(); ++x) row[std::size_t(x)] = std::clamp(std::round(double(image(y, x))), lo, hi);
      if (image.nx()) fits_write_img(F(fptr_), TDOUBLE, y * image.nx() + 1, image.nx(), row.data(), &status);
    }
  } else {
    for (long y = 0; y < image.ny(); ++y)
      if (image.nx())
        fits_write_img(F(fptr_), FitsType<T>::code, y * image.nx() + 1, image.nx(), const_cast<T*>(image.row(y)),
                       &status);
  }
  check(status, "cannot write image pixels");
}

template void FitsWriter::write_image<float>(ImageView<const float>, PixelType, const std::string&);
template void FitsWriter::write_image<double>(ImageView<const double>, PixelType, const std::string&);
template void FitsWriter::write_image<std::int32_t>(ImageView<const std::int32_t>, PixelType, const std::string&);

void FitsWriter::write_cube(const Tensor& cube, PixelType type, const std::string& extname) {
  require(cube.rank() == 3, path_ + ": a cube must be (nz, ny, nx), got " + Tensor::shape_string(cube.shape()));
  int status = 0;
  long naxes[3] = {cube.dim(2), cube.dim(1), cube.dim(0)};
  fits_create_img(F(fptr_), int(type), 3, naxes, &status);
  ++hdus_;
  check(status, "cannot create cube HDU");
  if (!extname.empty()) write_key("EXTNAME", extname);
  if (cube.size()) fits_write_img(F(fptr_), TFLOAT, 1, cube.size(), const_cast<float*>(cube.data()), &status);
  check(status, "cannot write cube pixels");
}

void FitsWriter::write_table(const std::vector<TableColumn>& cols, const std::string& extname) {
  int status = 0;
  if (hdus_ == 0) {  // a table cannot be the primary HDU
    fits_create_img(F(fptr_), 8, 0, nullptr, &status);
    ++hdus_;
    check(status, "cannot create the primary HDU");
  }
  long nrows = cols.empty() ? 0 : cols[0].rows();
  std::vector<std::string> names, forms, units;
  for (const auto& c : cols) {
    if (c.rows() != nrows)
      throw Error(path_ + ": table column '" + c.name + "' has " + std::to_string(c.rows()) + " rows, expected " +
                  std::to_string(nrows));
    std::string r = std::to_string(std::max<long>(c.repeat, 1));
    switch (c.kind) {
      case TableColumn::Kind::Double: forms.push_back(r + "D"); break;
      case TableColumn::Kind::Float: forms.push_back(r + "E"); break;
      case TableColumn::Kind::Int32: forms.push_back(r + "J"); break;
      case TableColumn::Kind::Int64: forms.push_back(r + "K"); break;
      case TableColumn::Kind::String: {
        std::size_t w = std::size_t(std::max<long>(c.repeat, 1));
        for (const auto& s : c.str) w = std::max(w, s.size());
        forms.push_back(std::to_string(w) + "A");
      }
    }
    names.push_back(c.name);
    units.push_back(c.unit);
  }
  std::vector<char*> n, f, u;
  for (std::size_t i = 0; i < cols.size(); ++i) {
    n.push_back(names[i].data());
    f.push_back(forms[i].data());
    u.push_back(units[i].data());
  }
  std::string ext = extname;
  fits_create_tbl(F(fptr_), BINARY_TBL, nrows, int(cols.size()), n.data(), f.data(), u.data(),
                  ext.empty() ? nullptr : ext.data(), &status);
  ++hdus_;
  check(status, "cannot create table");
  for (std::size_t i = 0; i < cols.size(); ++i)
    if (!cols[i].comment.empty()) {
      const std::string key = "TTYPE" + std::to_string(i + 1);
      fits_modify_comment(F(fptr_), key.c_str(), cols[i].comment.c_str(), &status);
      check(status, "cannot write the comment of column '" + cols[i].name + "'");
    }
  for (std::size_t i = 0; i < cols.size(); ++i) {
    const auto& c = cols[i];
    int cn = int(i) + 1;
    long r = std::max<long>(c.repeat, 1), ne = nrows * r;
    if (nrows == 0) continue;
    switch (c.kind) {
      case TableColumn::Kind::Double:
        fits_write_col(F(fptr_), TDOUBLE, cn, 1, 1, ne, const_cast<double*>(c.f64.data()), &status);
        break;
      case TableColumn::Kind::Float:
        fits_write_col(F(fptr_), TFLOAT, cn, 1, 1, ne, const_cast<float*>(c.f32.data()), &status);
        break;
      case TableColumn::Kind::Int32:
        fits_write_col(F(fptr_), TINT, cn, 1, 1, ne, const_cast<std::int32_t*>(c.i32.data()), &status);
        break;
      case TableColumn::Kind::Int64:
        fits_write_col(F(fptr_), TLONGLONG, cn, 1, 1, ne, const_cast<std::int64_t*>(c.i64.data()), &status);
        break;
      case TableColumn::Kind::String: {
        std::vector<char*> ptrs;
        std::vector<std::string> copies(c.str);
        for (auto& s : copies) ptrs.push_back(s.data());
        fits_write_col(F(fptr_), TSTRING, cn, 1, 1, nrows, ptrs.data(), &status);
      }
    }
    check(status, "cannot write column '" + c.name + "'");
  }
}

void FitsWriter::begin_hdu() {
  if (hdus_ == 0) {
    int status = 0;
    fits_create_img(F(fptr_), 8, 0, nullptr, &status);
    ++hdus_;
    check(status, "cannot create the primary HDU");
  }
}

void FitsWriter::write_key(const std::string& key, const std::string& value, const std::string& comment) {
  begin_hdu();
  int status = 0;
  fits_update_key(F(fptr_), TSTRING, key.c_str(), const_cast<char*>(value.c_str()), comment.c_str(), &status);
  check(status, "cannot write key '" + key + "'");
}
void FitsWriter::write_key(const std::string& key, double value, const std::string& comment) {
  begin_hdu();
  int status = 0;
  fits_update_key(F(fptr_), TDOUBLE, key.c_str(), &value, comment.c_str(), &status);
  check(status, "cannot write key '" + key + "'");
}
void FitsWriter::write_key(const std::string& key, long long value, const std::string& comment) {
  begin_hdu();
  int status = 0;
  LONGLONG v = value;
  fits_update_key(F(fptr_), TLONGLONG, key.c_str(), &v, comment.c_str(), &status);
  check(status, "cannot write key '" + key + "'");
}
void FitsWriter::write_key(const std::string& key, bool value, const std::string& comment) {
  begin_hdu();
  int status = 0, v = value ? 1 : 0;
  fits_update_key(F(fptr_), TLOGICAL, key.c_str(), &v, comment.c_str(), &status);
  check(status, "cannot write key '" + key + "'");
}
void FitsWriter::write_history(const std::string& text) {
  begin_hdu();
  int status = 0;
  fits_write_history(F(fptr_), text.c_str(), &status);
  check(status, "cannot write HISTORY");
}
void FitsWriter::write_comment(const std::string& text) {
  begin_hdu();
  int status = 0;
  fits_write_comment(F(fptr_), text.c_str(), &status);
  check(status, "cannot write COMMENT");
}

// The run's provenance cards (provenance.hpp) on the primary HDU, written
// last so that every file carries them whatever its writer did.
void FitsWriter::write_provenance() {
  const Provenance p = provenance();
  int status = 0, hdu_type = 0;
  fits_movabs_hdu(F(fptr_), 1, &hdu_type, &status);
  check(status, "cannot move to the primary HDU");
  write_key("DATE", p.date, "UTC date and time the file was written");
  write_key("CREATOR", "deepshear " + p.version, "software that wrote this file");
  write_key("DSVERS", p.version, "deepshear version");
  write_key("DSBUILD", p.build, "deepshear build type and commit");
  fits_write_key_longwarn(F(fptr_), &status);  // LONGSTRN: DSCMD may continue over CONTINUE cards
  if (!p.command_line.empty()) {
    fits_update_key_longstr(F(fptr_), "DSCMD", p.command_line.c_str(), "command line of the run", &status);
    check(status, "cannot write key 'DSCMD'");
  }
  if (!p.settings_hash.empty()) write_key("DSCFGH", p.settings_hash, "FNV-1a 64 hash of the effective settings");
  std::string models;
  for (const auto& m : p.models) models += (models.empty() ? "" : ",") + m;
  if (!models.empty()) {
    fits_update_key_longstr(F(fptr_), "DSMODEL", models.c_str(), "model file:FNV-1a 64 checksum", &status);
    check(status, "cannot write key 'DSMODEL'");
  }
}

void FitsWriter::commit() {
  begin_hdu();
  write_provenance();
  int status = 0;
  fits_close_file(F(fptr_), &status);
  fptr_ = nullptr;
  if (status) throw Error(path_ + ": cannot finish writing: " + status_text(status));
  file_.commit();
}

}  // namespace ds::fits
