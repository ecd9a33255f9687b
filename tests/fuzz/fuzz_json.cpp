// Fuzz target: the render JSON description (stamp_description.hpp), parsed
// and applied, without rendering.
#include <string>

#include "deepshear/engine/config.hpp"
#include "deepshear/imaging/stamp_description.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  return ds::fuzz::refuse_or_read([&] {
    ds::Config c;
    ds::img::declare_stamp_description(c);
    ds::img::StampDescription d = ds::img::stamp_description_from_config(c);
    ds::img::apply_stamp_json(d, text, "fuzz.json");
  });
}
