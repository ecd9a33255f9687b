// The binary container behind model files and training checkpoints.
//
// Layout (all integers little-endian, floats IEEE-754 float32 little-endian):
//   magic      8 bytes   e.g. "DSNNMODL" (model) or "DSNNCKPT" (checkpoint)
//   version    u32       format version of that kind
//   header     u64 length + UTF-8 text: "key = value" lines (values on one
//              line; newlines and backslashes escaped as \n and \\)
//   arrays     u32 count, then per array: u32 name length, name,
//              u64 element count, float32 data
//   checksum   u64 FNV-1a 64 of every byte before it
// Reading refuses, with a message naming the file: a foreign file (wrong
// magic), a newer version than this build reads, a truncated file, trailing
// bytes, and a checksum mismatch (corruption). Writing is atomic.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ds::nn {

struct Blob {
  std::string magic;  // exactly 8 characters
  std::uint32_t version = 1;
  std::map<std::string, std::string> header;
  std::vector<std::pair<std::string, std::vector<float>>> arrays;

  const std::string& get(const std::string& key, const std::string& file) const;  // throws if absent
  const std::vector<float>& array(const std::string& name, const std::string& file) const;
};

// `what` names the kind of file in messages ("model file", "checkpoint").
void write_blob(const std::string& path, const Blob& blob);
Blob read_blob(const std::string& path, const std::string& magic, std::uint32_t max_version, const std::string& what);

std::uint64_t fnv1a64(const void* data, std::size_t n, std::uint64_t h = 1469598103934665603ull);
// Exact text for doubles (%.17g) and back.
std::string exact(double v);
double parse_double(const std::string& s, const std::string& where);

}  // namespace ds::nn
