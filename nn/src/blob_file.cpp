// The binary container of model files and checkpoints (see blob_file.hpp).
#include "deepshear/nn/blob_file.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

#include "deepshear/engine/atomic_file.hpp"
#include "deepshear/engine/error.hpp"

namespace ds::nn {

static_assert(sizeof(float) == 4, "float32 expected");
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "deepshear model files are written on little-endian hosts only"
#endif

std::uint64_t fnv1a64(const void* data, std::size_t n, std::uint64_t h) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  return h;
}

std::string exact(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

double parse_double(const std::string& s, const std::string& where) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  require(!s.empty() && end && *end == 0, where + ": '" + s + "' is not a number");
  return v;
}

const std::string& Blob::get(const std::string& key, const std::string& file) const {
  auto it = header.find(key);
  require(it != header.end(), file + ": header has no '" + key + "'");
  return it->second;
}

const std::vector<float>& Blob::array(const std::string& name, const std::string& file) const {
  for (const auto& a : arrays)
    if (a.first == name) return a.second;
  throw Error(file + ": no array '" + name + "'");
}

namespace {

void put_u32(std::string& s, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) s.push_back(char((v >> (8 * i)) & 0xff));
}
void put_u64(std::string& s, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) s.push_back(char((v >> (8 * i)) & 0xff));
}

std::string escape(const std::string& v) {
  std::string o;
  for (char c : v) {
    if (c == '\\') o += "\\\\";
    else if (c == '\n') o += "\\n";
    else o += c;
  }
  return o;
}
std::string unescape(const std::string& v) {
  std::string o;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) {
      ++i;
      o += v[i] == 'n' ? '\n' : v[i];
    } else {
      o += v[i];
    }
  }
  return o;
}

struct Reader {
  const std::string& buf;
  std::size_t pos = 0;
  const std::string& file;
  void need(std::size_t n, const char* what) {
    if (buf.size() - 8 < pos + n || pos + n < pos)
      throw Error(file + ": truncated (ends inside the " + what + ")");
  }
  std::uint32_t u32(const char* what) {
    need(4, what);
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= std::uint32_t(static_cast<unsigned char>(buf[pos + i])) << (8 * i);
    pos += 4;
    return v;
  }
  std::uint64_t u64(const char* what) {
    need(8, what);
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= std::uint64_t(static_cast<unsigned char>(buf[pos + i])) << (8 * i);
    pos += 8;
    return v;
  }
};

}  // namespace

void write_blob(const std::string& path, const Blob& blob) {
  require(blob.magic.size() == 8, "blob magic must be 8 characters");
  std::string s = blob.magic;
  put_u32(s, blob.version);
  std::string text;
  for (const auto& kv : blob.header) {
    require(kv.first.find_first_of("=\n") == std::string::npos, path + ": bad header key '" + kv.first + "'");
    text += kv.first + " = " + escape(kv.second) + "\n";
  }
  put_u64(s, text.size());
  s += text;
  put_u32(s, std::uint32_t(blob.arrays.size()));
  for (const auto& a : blob.arrays) {
    put_u32(s, std::uint32_t(a.first.size()));
    s += a.first;
    put_u64(s, a.second.size());
    s.append(reinterpret_cast<const char*>(a.second.data()), a.second.size() * sizeof(float));
  }
  put_u64(s, fnv1a64(s.data(), s.size()));
  write_file_atomic(path, [&](std::ostream& o) { o.write(s.data(), std::streamsize(s.size())); }, true);
}

Blob read_blob(const std::string& path, const std::string& magic, std::uint32_t max_version, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  require(bool(in), what + " '" + path + "': cannot open");
  std::string buf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string file = what + " '" + path + "'";
  if (buf.size() < 8 || buf.compare(0, 8, magic) != 0)
    throw Error(file + ": not a deepshear " + what + " (expected magic '" + magic + "')");
  require(buf.size() >= 8 + 4 + 8 + 4 + 8, file + ": truncated (" + std::to_string(buf.size()) + " bytes)");
  Blob b;
  b.magic = magic;
  Reader r{buf, 8, file};
  b.version = r.u32("version");
  if (b.version > max_version)
    throw Error(file + ": format version " + std::to_string(b.version) + " is newer than this build reads (" +
                std::to_string(max_version) + "); update deepshear");
  require(b.version >= 1, file + ": bad format version 0");
  // Check the checksum before trusting any length field.
  std::uint64_t stored = 0;
  for (int i = 0; i < 8; ++i)
    stored |= std::uint64_t(static_cast<unsigned char>(buf[buf.size() - 8 + std::size_t(i)])) << (8 * i);
  std::uint64_t header_len = r.u64("header length");
  r.need(header_len, "header");
  std::string text = buf.substr(r.pos, header_len);
  r.pos += header_len;
  std::uint32_t narrays = r.u32("array count");
  for (std::uint32_t k = 0; k < narrays; ++k) {
    std::uint32_t nl = r.u32("array name length");
    r.need(nl, "array name");
    std::string name = buf.substr(r.pos, nl);
    r.pos += nl;
    std::uint64_t count = r.u64("array length");
    if (count > (buf.size() - r.pos) / sizeof(float)) throw Error(file + ": truncated (array '" + name + "')");
    r.need(count * sizeof(float), "array data");
    std::vector<float> v(count);
    if (count) std::memcpy(v.data(), buf.data() + r.pos, count * sizeof(float));  // an empty array has no data()
    r.pos += count * sizeof(float);
    b.arrays.emplace_back(std::move(name), std::move(v));
  }
  if (r.pos + 8 != buf.size())
    throw Error(file + ": " + std::to_string(buf.size() - r.pos - 8) + " unexpected bytes before the checksum");
  if (fnv1a64(buf.data(), buf.size() - 8) != stored) throw Error(file + ": checksum mismatch (the file is corrupted)");
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    std::size_t eq = line.find(" = ");
    require(eq != std::string::npos, file + ": malformed header line '" + line + "'");
    b.header[line.substr(0, eq)] = unescape(line.substr(eq + 3));
  }
  return b;
}

}  // namespace ds::nn
