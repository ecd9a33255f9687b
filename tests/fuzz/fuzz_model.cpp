// Fuzz target: model files (nn::load_model) and training checkpoints.
#include "deepshear/nn/model_file.hpp"
#include "deepshear/nn/network.hpp"
#include "deepshear/nn/train.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = ds::fuzz::as_file(data, size, ".dsm");
  ds::fuzz::refuse_or_read([&] { ds::nn::load_model(path); });
  return ds::fuzz::refuse_or_read([&] {
    ds::nn::Network net(ds::nn::Architecture::parse("input 32 32 1; conv 2 5 3 relu; affine 2 none 0"));
    ds::nn::Trainer t(net, ds::nn::TrainOptions{});
    t.load_checkpoint(path);
  });
}
