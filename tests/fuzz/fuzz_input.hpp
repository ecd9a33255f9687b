// Shared by the fuzz targets: the input as a file (the readers under test open
// paths), and the rule that a reader may refuse an input with ds::Error but
// must never crash, hang or corrupt memory.
#pragma once
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>

#include "deepshear/engine/error.hpp"

namespace ds::fuzz {

// Writes the bytes to a per-process scratch file (suffix chosen by the
// reader's format detection) and returns its path.
inline std::string as_file(const std::uint8_t* data, std::size_t size, const std::string& suffix) {
  const std::string path = "/tmp/deepshear-fuzz-" + std::to_string(::getpid()) + suffix;
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(data), std::streamsize(size));
  return path;
}

// Runs f; a ds::Error is a clean refusal (the reader's contract), anything else propagates.
template <class F>
int refuse_or_read(F&& f) {
  try {
    f();
  } catch (const ds::Error&) {
  }
  return 0;
}

}  // namespace ds::fuzz
