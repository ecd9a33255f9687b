#include "fits_header_check.hpp"

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <vector>

#include "deepshear/engine/error.hpp"

namespace ds::fits::detail {

namespace {

constexpr std::int64_t kBlock = 2880, kCard = 80;
constexpr std::int64_t kMaxHeaderBlocks = 100000;  // 288 MB of header: surely not a real one

struct Header {
  std::map<std::string, std::string> values;  // key -> the value field (columns 11-80), trimmed
  std::map<std::string, int> count;           // key -> how many cards give it a value
  std::int64_t end = 0;                       // byte offset just past the header's last block
};

std::string trimmed(const std::string& s) {
  const auto a = s.find_first_not_of(' '), b = s.find_last_not_of(' ');
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

// Where the quoted string that opens the value field ('...', with '' for a
// quote) closes, or npos when the field holds no quoted string.
std::size_t closing_quote(const std::string& v) {
  if (v.empty() || v[0] != '\'') return std::string::npos;
  for (std::size_t i = 1; i < v.size(); ++i)
    if (v[i] == '\'') {
      if (i + 1 < v.size() && v[i + 1] == '\'') ++i;
      else return i;
    }
  return std::string::npos;
}

bool quoted(const std::string& v) { return closing_quote(v) != std::string::npos; }

// The string of a quoted value field, without its quotes and trailing blanks
// ('' stays doubled: only column formats and XTENSION are read here).
std::string unquoted(const std::string& v) {
  const std::size_t end = closing_quote(v);
  return end == std::string::npos ? "" : trimmed(v.substr(1, end - 1));
}

// Is `key` `prefix` followed by one or more digits (TFORM12 for "TFORM")?
bool numbered(const std::string& key, const std::string& prefix) {
  return key.size() > prefix.size() && key.compare(0, prefix.size(), prefix) == 0 &&
         key.find_first_not_of("0123456789", prefix.size()) == std::string::npos;
}

bool is_string_key(const std::string& k) {
  if (k == "XTENSION" || k == "EXTNAME") return true;
  for (const char* p : {"TTYPE", "TFORM", "TUNIT", "TDIM", "TDISP", "CTYPE", "CUNIT"})
    if (numbered(k, p)) return true;
  return false;
}

// Reads the header starting at `pos`: cards up to END.
Header read_header(std::ifstream& in, std::int64_t pos, std::int64_t size, const std::string& where) {
  Header h;
  std::string block(std::size_t(kBlock), ' ');
  for (std::int64_t b = 0;; ++b) {
    if (b >= kMaxHeaderBlocks) throw Error(where + ": header without END in " + std::to_string(b) + " blocks");
    const std::int64_t at = pos + b * kBlock;
    if (at + kBlock > size) throw Error(where + ": the header has no END card before the end of the file");
    in.seekg(at);
    in.read(block.data(), kBlock);
    if (!in) throw Error(where + ": cannot read the header");
    for (std::int64_t c = 0; c < kBlock / kCard; ++c) {
      const std::string card = block.substr(std::size_t(c * kCard), std::size_t(kCard));
      const std::string key = trimmed(card.substr(0, 8));
      if (!key.empty() && card[0] == ' ')  // CFITSIO and this check would read the header differently
        throw Error(where + ": card " + std::to_string(b * (kBlock / kCard) + c + 1) + " ('" + trimmed(card).substr(0, 20) +
                    "...') has its keyword in the wrong columns: a FITS keyword starts in column 1");
      if (key == "END") {
        h.end = at + kBlock;
        return h;
      }
      if (card.compare(8, 2, "= ") != 0) continue;
      if (!h.count[key]++) h.values[key] = trimmed(card.substr(10));
    }
  }
}

// An integer key: absent gives `def`; present must be an integer in [lo, hi].
std::int64_t int_key(const Header& h, const std::string& key, std::int64_t def, std::int64_t lo, std::int64_t hi,
                     const std::string& where) {
  auto it = h.values.find(key);
  if (it == h.values.end()) return def;
  std::string v = it->second.substr(0, it->second.find('/'));
  v = trimmed(v);
  char* end = nullptr;
  errno = 0;
  const long long x = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end || errno)
    throw Error(where + ": key " + key + " = '" + v + "' is not an integer");
  if (x < lo || x > hi)
    throw Error(where + ": key " + key + " = " + v + " is out of range [" + std::to_string(lo) + ", " +
                std::to_string(hi) + "]");
  return x;
}

// The mandatory keys of an HDU (FITS 4.0 sec. 4.4.1): SIMPLE or XTENSION,
// BITPIX, NAXIS, NAXISn; PCOUNT and GCOUNT in an extension; TFIELDS in a table.
void check_mandatory_keys(const Header& h, bool extension, bool table, const std::string& where) {
  std::vector<std::string> keys = {extension ? "XTENSION" : "SIMPLE", "BITPIX", "NAXIS"};
  if (extension) keys.insert(keys.end(), {"PCOUNT", "GCOUNT"});
  if (table) keys.push_back("TFIELDS");
  for (const auto& k : keys)
    if (!h.values.count(k)) throw Error(where + ": the mandatory key " + k + " is missing");
}

// The bytes of data the header claims, without overflow.
std::int64_t data_bytes(const Header& h, const std::string& where) {
  const std::int64_t bitpix = int_key(h, "BITPIX", 8, -64, 64, where);
  if (bitpix != 8 && bitpix != 16 && bitpix != 32 && bitpix != 64 && bitpix != -32 && bitpix != -64)
    throw Error(where + ": key BITPIX = " + std::to_string(bitpix) + " is not 8, 16, 32, 64, -32 or -64");
  const std::int64_t naxis = int_key(h, "NAXIS", 0, 0, 999, where);
  const std::int64_t limit = std::int64_t(1) << 50;  // a petabyte: far beyond any file
  std::int64_t n = naxis > 0 ? 1 : 0;
  for (std::int64_t k = 1; k <= naxis; ++k) {
    const std::int64_t len = int_key(h, "NAXIS" + std::to_string(k), -1, 0, limit, where);
    if (len < 0) throw Error(where + ": key NAXIS" + std::to_string(k) + " is missing");
    if (len != 0 && n > limit / len) throw Error(where + ": the NAXISn product overflows (a corrupt header)");
    n *= len;
  }
  int_key(h, "TFIELDS", 0, 0, 999, where);
  const std::int64_t pcount = int_key(h, "PCOUNT", 0, 0, limit, where);
  const std::int64_t gcount = int_key(h, "GCOUNT", 1, 0, limit, where);
  const std::int64_t per_group = n + pcount;
  if (per_group > limit || (gcount && per_group > limit / gcount))
    throw Error(where + ": the data size overflows (a corrupt header)");
  return std::abs(bitpix) / 8 * gcount * per_group;
}

// Is `key` a column key of `prefix` (TFORM12 for "TFORM")? A column number
// with a leading zero is refused: CFITSIO reads TFORM09 as column 9's, which
// leaves column 10 undefined.
bool is_column_key(const std::string& key, const std::string& prefix, const std::string& where) {
  if (!numbered(key, prefix)) return false;
  if (key[prefix.size()] == '0') throw Error(where + ": key " + key + " has a column number with a leading zero");
  return true;
}

// Bytes per row of one binary-table column from its TFORM ('rT...'), or -1 if
// the form is not one; `limit` bounds the repeat count.
std::int64_t binary_column_bytes(const std::string& form, std::int64_t limit) {
  std::size_t i = 0;
  std::int64_t repeat = 0;
  for (; i < form.size() && std::isdigit(static_cast<unsigned char>(form[i])); ++i) {
    repeat = repeat * 10 + (form[i] - '0');
    if (repeat > limit * 8 + 7) return -1;  // more bits than the row could hold
  }
  if (i == 0) repeat = 1;
  if (i >= form.size()) return -1;
  const std::string types = "LXBIJKAEDCMPQ";
  const std::int64_t width[] = {1, 0, 1, 2, 4, 8, 1, 4, 8, 8, 16, 8, 16};
  const char type = char(std::toupper(static_cast<unsigned char>(form[i])));
  const auto t = types.find(type);
  if (t == std::string::npos) return -1;
  return type == 'X' ? (repeat + 7) / 8 : repeat * width[t];
}

// A table's column cards: TFORMn once for each n in 1..TFIELDS (and TBCOLn in
// an ASCII table), no column key twice, and the columns fit in NAXIS1 bytes.
void check_columns(const Header& h, bool binary, const std::string& where) {
  const std::int64_t tfields = int_key(h, "TFIELDS", 0, 0, 999, where);
  const std::int64_t naxis1 = int_key(h, "NAXIS1", 0, 0, std::int64_t(1) << 50, where);
  for (const auto& [key, n] : h.count)
    for (const char* p : {"TTYPE", "TFORM", "TBCOL", "TUNIT", "TDIM", "TDISP", "TSCAL", "TZERO", "TNULL"})
      if (is_column_key(key, p, where) && n > 1)
        throw Error(where + ": key " + key + " appears " + std::to_string(n) + " times");
  std::int64_t row_bytes = 0;
  const std::string missing = " is missing (TFIELDS = " + std::to_string(tfields) + ")";
  for (std::int64_t c = 1; c <= tfields; ++c) {
    const std::string tform = "TFORM" + std::to_string(c), tbcol = "TBCOL" + std::to_string(c);
    if (!h.values.count(tform)) throw Error(where + ": key " + tform + missing);
    const std::string form = unquoted(h.values.at(tform));
    if (binary) {
      const std::int64_t bytes = binary_column_bytes(form, naxis1);
      if (bytes < 0) throw Error(where + ": key " + tform + " = '" + form + "' is not a binary-table column format");
      row_bytes += bytes;
      if (row_bytes > naxis1)
        throw Error(where + ": the columns need " + std::to_string(row_bytes) + " bytes per row (to " + tform +
                    ") but NAXIS1 = " + std::to_string(naxis1));
    } else {
      const std::int64_t at = int_key(h, tbcol, -1, 1, naxis1, where);
      if (at < 0) throw Error(where + ": key " + tbcol + missing);
    }
  }
}

// A gzip file's trailer (ISIZE: the uncompressed size mod 2^32, little-endian)
// sizes CFITSIO's buffer, plus 2^32 when ISIZE is below the compressed size
// (CFITSIO takes it for a wrapped size over 4 GB). That size must be one
// deflate can give from this many bytes (at most 1032 : 1), not a corrupt
// trailer's 4 GB.
void check_gzip_size(std::ifstream& in, std::int64_t size, const std::string& path) {
  unsigned char t[4] = {0, 0, 0, 0};
  if (size < 18) throw Error(path + ": a gzip file of " + std::to_string(size) + " bytes is truncated");
  in.seekg(size - 4);
  in.read(reinterpret_cast<char*>(t), 4);
  std::int64_t isize = t[0] | (t[1] << 8) | (t[2] << 16) | (std::int64_t(t[3]) << 24);
  if (isize < size) isize += std::int64_t(1) << 32;
  if (isize > 1032 * size + 1024)
    throw Error(path + ": the gzip trailer claims " + std::to_string(isize) + " bytes uncompressed from " +
                std::to_string(size) + " (more than deflate can give): a corrupt or truncated file");
}

}  // namespace

void check_raw_headers(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open");
  in.seekg(0, std::ios::end);
  const std::int64_t size = std::int64_t(in.tellg());
  char magic[2] = {0, 0};
  in.seekg(0);
  in.read(magic, 2);
  if (size >= 2 && static_cast<unsigned char>(magic[0]) == 0x1f && static_cast<unsigned char>(magic[1]) == 0x8b)
    return check_gzip_size(in, size, path);  // CFITSIO decompresses it
  in.clear();
  std::int64_t pos = 0;
  for (int hdu = 0; pos + kBlock <= size; ++hdu) {
    const std::string where = path + "[HDU " + std::to_string(hdu) + "]";
    in.seekg(pos);
    char first[9] = {0};
    in.read(first, 8);
    const std::string key = trimmed(first);
    if (hdu > 0 && key != "XTENSION") return;  // trailing bytes after the last HDU: CFITSIO ignores them
    if (hdu == 0 && key != "SIMPLE") return;    // not FITS: CFITSIO says so
    const Header h = read_header(in, pos, size, where);
    for (const auto& [k, v] : h.values)
      if (is_string_key(k) && !quoted(v))
        throw Error(where + ": key " + k + " holds an unquoted value; FITS string values are quoted ('...')");
    const auto xt = h.values.find("XTENSION");
    const std::string xtension = xt == h.values.end() ? "" : unquoted(xt->second);
    const bool table = xtension == "BINTABLE" || xtension == "TABLE";
    check_mandatory_keys(h, hdu > 0, table, where);
    const std::int64_t bytes = data_bytes(h, where);
    if (table) check_columns(h, xtension == "BINTABLE", where);
    if (bytes > size - h.end)
      throw Error(where + ": the header claims " + std::to_string(bytes) + " bytes of data but the file holds " +
                  std::to_string(size - h.end) + " after it (truncated or corrupt)");
    pos = h.end + (bytes + kBlock - 1) / kBlock * kBlock;
  }
}

}  // namespace ds::fits::detail
