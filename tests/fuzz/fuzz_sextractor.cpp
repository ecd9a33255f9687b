// Fuzz target: SExtractor catalogues in ASCII_HEAD (FITS catalogues go
// through the FITS target's reader).
#include "deepshear/lensing/cluster/sextractor.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = ds::fuzz::as_file(data, size, ".cat");
  return ds::fuzz::refuse_or_read([&] {
    const auto s = ds::lens::SourceList::read(path);
    for (const auto& n : s.names()) s.column(n);
  });
}
