// FITS files through CFITSIO with RAII handles.
//
// Reading (FitsFile): images of any BITPIX (8/16/32/64-bit integers, float,
// double) with BSCALE/BZERO applied, image cubes, binary and ASCII tables
// (columns by case-insensitive name: numeric scalars, fixed-length vectors
// such as 8D/16D, strings with trailing blanks stripped), header keywords,
// HDUs by 0-based index (0 = primary) or EXTNAME. Gzip-compressed files
// (.fits.gz) read transparently.
// Writing (FitsWriter): images, cubes, binary tables and keywords, atomically
// (temporary file + rename on commit()).
// Every error names the file, the HDU and the column or key at fault.
//
// Shapes follow the array convention: an image is (ny, nx) = (NAXIS2, NAXIS1);
// a cube is (nz, ny, nx).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "deepshear/engine/atomic_file.hpp"
#include "deepshear/engine/image.hpp"
#include "deepshear/engine/tensor.hpp"

namespace ds::fits {

enum class HduKind { Image, BinaryTable, AsciiTable };

struct ColumnInfo {
  std::string name;
  std::string tform;   // e.g. "1D", "8D", "20A", "1J"
  int typecode = 0;    // CFITSIO type code (TDOUBLE, TSTRING, ...)
  long repeat = 1;     // elements per row (characters for strings)
  std::string unit;
  bool is_string() const;
};

struct HduInfo {
  int index = 0;                // 0-based; 0 is the primary HDU
  HduKind kind = HduKind::Image;
  std::string extname;          // "" when absent
  int bitpix = 0;               // images: 8, 16, 32, 64, -32, -64 (after BZERO: see equiv_bitpix)
  int equiv_bitpix = 0;         // the type the scaled values need (e.g. 20 = unsigned 16-bit)
  std::vector<long> shape;      // images: (..., NAXIS2, NAXIS1)
  long nrows = 0;               // tables
  std::vector<ColumnInfo> columns;
  std::string kind_name() const;  // "IMAGE", "BINTABLE", "TABLE"
};

struct Card {
  std::string key, value, comment;
};

// A FITS file opened for reading. Move-only; closes on destruction.
class FitsFile {
 public:
  explicit FitsFile(const std::string& path);
  ~FitsFile();
  FitsFile(FitsFile&&) noexcept;
  FitsFile& operator=(FitsFile&&) noexcept;
  FitsFile(const FitsFile&) = delete;
  FitsFile& operator=(const FitsFile&) = delete;

  const std::string& path() const { return path_; }
  int num_hdus() const;
  // Moves to an HDU by 0-based index or by EXTNAME (case-insensitive).
  FitsFile& hdu(int index);
  FitsFile& hdu(const std::string& extname);
  int current_hdu() const;
  HduInfo info() const;
  std::vector<HduInfo> all_hdus();

  // Header of the current HDU.
  bool has_key(const std::string& key) const;
  std::string key_string(const std::string& key) const;
  double key_double(const std::string& key) const;
  long long key_long(const std::string& key) const;
  bool key_bool(const std::string& key) const;
  std::optional<double> key_double_opt(const std::string& key) const;
  std::optional<std::string> key_string_opt(const std::string& key) const;
  std::vector<Card> cards() const;

  // The current HDU as a 2-D image (BSCALE/BZERO applied). A 3-D HDU whose
  // NAXIS3 is 1 also reads as an image.
  template <class T>
  Image<T> read_image() const;
  // The current HDU as a cube (nz, ny, nx) of float.
  Tensor read_cube() const;
  // Planes [first, first + count) of the current cube as (count, ny, nx),
  // without reading the rest (for streaming large stacks of stamps).
  Tensor read_cube_planes(long first, long count) const;

  // Tables (current HDU). Column names match case-insensitively.
  long num_rows() const;
  std::vector<ColumnInfo> columns() const;
  bool has_column(const std::string& name) const;
  // A numeric scalar column (repeat 1) as double.
  std::vector<double> read_column(const std::string& name) const;
  // A numeric scalar column as 64-bit integers (non-integer types are an error).
  std::vector<long long> read_int_column(const std::string& name) const;
  // A numeric column of fixed repeat r as a (nrows x r) row-major matrix.
  RowMatrix<double> read_vector_column(const std::string& name) const;
  // A string column, trailing blanks stripped.
  std::vector<std::string> read_string_column(const std::string& name) const;

  // "file.fits[HDU 2 'SCI']": how errors name where they happened.
  std::string where() const;

 private:
  int column_number(const std::string& name, ColumnInfo* info = nullptr) const;
  void check(int status, const std::string& what) const;
  std::string path_;
  void* fptr_ = nullptr;  // fitsfile*
};

// A column of a binary table to write. Data are laid out row-major: row i's
// `repeat` elements start at i * repeat.
struct TableColumn {
  enum class Kind { Double, Float, Int32, Int64, String };
  std::string name;
  Kind kind = Kind::Double;
  long repeat = 1;  // vector length; for strings, the maximum length (0: from the data)
  std::string unit;
  std::vector<double> f64;
  std::vector<float> f32;
  std::vector<std::int32_t> i32;
  std::vector<std::int64_t> i64;
  std::vector<std::string> str;
  std::string comment;  // the TTYPEn card's comment: what the column holds
  long rows() const;
  // Sets the comment (chainable): TableColumn::doubles("X", x).described("...").
  TableColumn& described(std::string text) {
    comment = std::move(text);
    return *this;
  }

  static TableColumn doubles(std::string name, std::vector<double> v, long repeat = 1, std::string unit = "");
  static TableColumn floats(std::string name, std::vector<float> v, long repeat = 1, std::string unit = "");
  static TableColumn int32s(std::string name, std::vector<std::int32_t> v, long repeat = 1, std::string unit = "");
  static TableColumn int64s(std::string name, std::vector<std::int64_t> v, long repeat = 1, std::string unit = "");
  static TableColumn strings(std::string name, std::vector<std::string> v);
};

// BITPIX to write an image with.
enum class PixelType { UInt8 = 8, Int16 = 16, Int32 = 32, Int64 = 64, Float32 = -32, Float64 = -64 };

// Writes a new FITS file atomically. The first image written becomes the
// primary HDU; writing a table first makes an empty primary HDU. Keys go to the
// HDU written last. Nothing appears at `path` until commit().
class FitsWriter {
 public:
  explicit FitsWriter(const std::string& path);
  ~FitsWriter();
  FitsWriter(const FitsWriter&) = delete;
  FitsWriter& operator=(const FitsWriter&) = delete;

  template <class T>
  void write_image(ImageView<const T> image, PixelType type, const std::string& extname = "");
  template <class T>
  void write_image(const Image<T>& image, PixelType type, const std::string& extname = "") {
    write_image<T>(image.view(), type, extname);
  }
  // A (nz, ny, nx) tensor as a 3-D image HDU.
  void write_cube(const Tensor& cube, PixelType type, const std::string& extname = "");
  // A binary table; all columns must have the same number of rows.
  void write_table(const std::vector<TableColumn>& columns, const std::string& extname = "");

  void write_key(const std::string& key, const std::string& value, const std::string& comment = "");
  void write_key(const std::string& key, const char* value, const std::string& comment = "") {
    write_key(key, std::string(value), comment);
  }
  void write_key(const std::string& key, double value, const std::string& comment = "");
  void write_key(const std::string& key, long long value, const std::string& comment = "");
  void write_key(const std::string& key, int value, const std::string& comment = "") {
    write_key(key, (long long)value, comment);
  }
  void write_key(const std::string& key, bool value, const std::string& comment = "");
  void write_history(const std::string& text);
  void write_comment(const std::string& text);

  // Writes the run's provenance cards (provenance.hpp) on the primary HDU,
  // closes the file and renames it into place.
  void commit();

 private:
  void begin_hdu();
  void write_provenance();
  void check(int status, const std::string& what) const;
  std::string path_;
  AtomicFile file_;
  void* fptr_ = nullptr;
  int hdus_ = 0;
};

// CFITSIO's version, e.g. "4.2".
std::string cfitsio_version();

}  // namespace ds::fits
