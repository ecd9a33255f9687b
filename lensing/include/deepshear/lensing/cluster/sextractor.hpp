// Source catalogues as SExtractor writes them: FITS_LDAC (the LDAC_OBJECTS
// table), a plain FITS binary table (FITS_1.0), or ASCII_HEAD (a header of
// "#   k NAME  description [unit]" lines, then one row per source; a vector
// parameter spans several columns, named NAME, NAME_2, ...). Numeric columns
// only; names match case-insensitively.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace ds::lens {

class SourceList {
 public:
  // Reads a catalogue, detecting the format; errors name the file, the line
  // or the column at fault.
  static SourceList read(const std::string& path);

  long size() const { return rows_; }
  bool has(const std::string& column) const;
  // A column by name (X_IMAGE, MAG_AUTO, FLUX_RADIUS, ...); an absent one is
  // an error naming the file and the column.
  const std::vector<double>& column(const std::string& name) const;
  std::vector<std::string> names() const;
  const std::string& path() const { return path_; }

 private:
  static void read_fits(const std::string& path, SourceList& s);
  static void read_ascii_head(const std::string& path, SourceList& s);
  std::string path_;
  long rows_ = 0;
  std::map<std::string, std::vector<double>> cols_;  // upper-case names
};

}  // namespace ds::lens
