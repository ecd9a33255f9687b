#include "fits_header_check.hpp"

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>

#include "deepshear/engine/error.hpp"

namespace ds::fits::detail {

namespace {

constexpr std::int64_t kBlock = 2880, kCard = 80;
constexpr std::int64_t kMaxHeaderBlocks = 100000;  // 288 MB of header: surely not a real one

struct Header {
  std::map<std::string, std::string> values;  // key -> the value field (columns 11-80), trimmed
  std::int64_t end = 0;                       // byte offset just past the header's last block
};

std::string trimmed(const std::string& s) {
  const auto a = s.find_first_not_of(' '), b = s.find_last_not_of(' ');
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

// Does the value field hold a quoted string ('...', with '' for a quote)?
bool quoted(const std::string& v) {
  if (v.empty() || v[0] != '\'') return false;
  for (std::size_t i = 1; i < v.size(); ++i)
    if (v[i] == '\'') {
      if (i + 1 < v.size() && v[i + 1] == '\'') ++i;
      else return true;
    }
  return false;
}

bool is_string_key(const std::string& k) {
  if (k == "XTENSION" || k == "EXTNAME") return true;
  for (const char* p : {"TTYPE", "TFORM", "TUNIT", "TDIM", "TDISP", "CTYPE", "CUNIT"}) {
    const std::string prefix(p);
    if (k.size() > prefix.size() && k.compare(0, prefix.size(), prefix) == 0 &&
        k.find_first_not_of("0123456789", prefix.size()) == std::string::npos)
      return true;
  }
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
      if (key == "END") {
        h.end = at + kBlock;
        return h;
      }
      if (card.compare(8, 2, "= ") == 0 && !h.values.count(key)) h.values[key] = trimmed(card.substr(10));
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
    return;  // gzip: CFITSIO decompresses it
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
    const std::int64_t bytes = data_bytes(h, where);
    if (bytes > size - h.end)
      throw Error(where + ": the header claims " + std::to_string(bytes) + " bytes of data but the file holds " +
                  std::to_string(size - h.end) + " after it (truncated or corrupt)");
    pos = h.end + (bytes + kBlock - 1) / kBlock * kBlock;
  }
}

}  // namespace ds::fits::detail
