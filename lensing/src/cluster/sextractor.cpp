#include "deepshear/lensing/cluster/sextractor.hpp"

#include <cctype>
#include <fstream>
#include <sstream>

#include "deepshear/engine/error.hpp"
#include "deepshear/engine/fits.hpp"

namespace ds::lens {

static std::string upper(std::string s) {
  for (auto& c : s) c = char(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

static bool is_fits(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char head[9] = {0};
  in.read(head, 9);
  if (in.gcount() == 9 && std::string(head, 9) == "SIMPLE  =") return true;
  return path.size() > 3 && path.substr(path.size() - 3) == ".gz";  // gzip: let CFITSIO decide
}

// A FITS_1.0 or FITS_LDAC catalogue: the object table's numeric columns,
// vector columns split into NAME, NAME_2, ...
void SourceList::read_fits(const std::string& path, SourceList& s) {
  fits::FitsFile f(path);
  int table = -1;
  for (int h = 1; h < f.num_hdus() && table < 0; ++h) {
    f.hdu(h);
    auto info = f.info();
    if (upper(info.extname) == "LDAC_OBJECTS" || (info.kind != fits::HduKind::Image && upper(info.extname) != "LDAC_IMHEAD"))
      table = h;
  }
  if (table < 0) throw Error(path + ": no source table (LDAC_OBJECTS or a binary table)");
  f.hdu(table);
  s.rows_ = f.num_rows();
  for (const auto& c : f.columns()) {
    if (c.is_string()) continue;
    if (c.repeat == 1) {
      s.cols_[upper(c.name)] = f.read_column(c.name);
    } else {
      auto m = f.read_vector_column(c.name);
      for (long k = 0; k < m.cols(); ++k) {
        std::vector<double> v(static_cast<std::size_t>(m.rows()));
        for (long r = 0; r < m.rows(); ++r) v[std::size_t(r)] = m(r, k);
        s.cols_[upper(c.name) + (k ? "_" + std::to_string(k + 1) : "")] = std::move(v);
      }
    }
  }
}

// An ASCII_HEAD catalogue: '#   k NAME' lines, then rows of numbers.
void SourceList::read_ascii_head(const std::string& path, SourceList& s) {
  constexpr int kMaxColumns = 100000;  // SExtractor writes tens; a larger number is a corrupt header
  std::ifstream in(path);
  std::string line;
  std::vector<std::pair<int, std::string>> header;  // (1-based column, name)
  std::vector<std::vector<double>> data;
  int lineno = 0, ncol = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::istringstream ss(line.substr(1));
      int k;
      std::string name;
      if (!(ss >> k >> name)) continue;
      if (k < 1 || k > kMaxColumns || (!header.empty() && k <= header.back().first))
        throw Error(path + ":" + std::to_string(lineno) + ": column number " + std::to_string(k) + " of " + name +
                    " must follow the previous one and be at most " + std::to_string(kMaxColumns));
      header.emplace_back(k, upper(name));
      continue;
    }
    std::istringstream ss(line);
    std::vector<double> row;
    double v;
    while (ss >> v) row.push_back(v);
    if (!ss.eof()) throw Error(path + ":" + std::to_string(lineno) + ": not a number in a data row");
    if (row.empty()) continue;  // a line of blanks: no row (it once made a row of no columns)
    if (ncol == 0) ncol = int(row.size());
    if (int(row.size()) != ncol)
      throw Error(path + ":" + std::to_string(lineno) + ": " + std::to_string(row.size()) + " values, expected " +
                  std::to_string(ncol));
    data.push_back(std::move(row));
  }
  if (header.empty()) throw Error(path + ": no '#   k NAME' header: not an ASCII_HEAD SExtractor catalogue");
  s.rows_ = long(data.size());
  for (std::size_t h = 0; h < header.size(); ++h) {
    // A vector column spans up to the next header column; without data rows, one column each.
    int first = header[h].first, last = h + 1 < header.size() ? header[h + 1].first - 1 : std::max(ncol, first);
    if (ncol == 0) last = first;
    if (first < 1 || (ncol && last > ncol))
      throw Error(path + ": header column " + std::to_string(first) + " (" + header[h].second + ") is beyond the " +
                  std::to_string(ncol) + " data columns");
    for (int c = first; c <= last; ++c) {
      std::vector<double> v;
      for (const auto& row : data) v.push_back(row[std::size_t(c - 1)]);
      s.cols_[header[h].second + (c > first ? "_" + std::to_string(c - first + 1) : "")] = std::move(v);
    }
  }
}

SourceList SourceList::read(const std::string& path) {
  SourceList s;
  s.path_ = path;
  std::ifstream probe(path);
  if (!probe) throw Error(path + ": cannot open the source catalogue");
  if (is_fits(path)) read_fits(path, s);
  else read_ascii_head(path, s);
  return s;
}

bool SourceList::has(const std::string& column) const { return cols_.count(upper(column)) != 0; }

const std::vector<double>& SourceList::column(const std::string& name) const {
  auto it = cols_.find(upper(name));
  if (it == cols_.end()) throw Error(path_ + ": source catalogue has no column '" + name + "'");
  return it->second;
}

std::vector<std::string> SourceList::names() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : cols_) out.push_back(k);
  return out;
}

}  // namespace ds::lens
