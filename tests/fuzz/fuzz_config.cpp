// Fuzz target: key = value configuration text (the training keys, with their
// types and ranges).
#include <string>

#include "deepshear/engine/config.hpp"
#include "deepshear/lensing/training/train_run.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  return ds::fuzz::refuse_or_read([&] {
    ds::Config c;
    ds::lens::add_training_params(c);
    c.load_text(text, "fuzz.cfg");
    c.dump();
  });
}
