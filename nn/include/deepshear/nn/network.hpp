// A network = an architecture + one flat float32 parameter vector (per layer:
// weights [k][k][c][o] or [i][o], then bias [o]; offsets from
// Architecture::plan()) + a gradient vector of the same layout.
#pragma once
#include <cstdint>

#include "deepshear/engine/aligned.hpp"
#include "deepshear/nn/architecture.hpp"
#include "deepshear/nn/tape.hpp"

namespace ds::nn {

class Network {
 public:
  Network() = default;
  explicit Network(Architecture arch);

  const Architecture& arch() const { return arch_; }
  const std::vector<LayerPlan>& plans() const { return plans_; }
  long num_params() const { return long(params_.size()); }
  float* params() { return params_.data(); }
  const float* params() const { return params_.data(); }
  float* grads() { return grads_.data(); }
  const float* grads() const { return grads_.data(); }
  void zero_grads();
  float* weights(int layer) { return params_.data() + plans_.at(std::size_t(layer)).w_offset; }
  float* bias(int layer) { return params_.data() + plans_.at(std::size_t(layer)).b_offset; }
  const float* weights(int layer) const { return params_.data() + plans_.at(std::size_t(layer)).w_offset; }
  const float* bias(int layer) const { return params_.data() + plans_.at(std::size_t(layer)).b_offset; }

  // Glorot-normal weights (Keras 2: normal truncated at 2 sigma, sigma =
  // sqrt(2 / (fan_in + fan_out)), fan = k*k*channels for convolutions), zero
  // biases; draws from RandomStream(seed, "nn.init", layer).
  void init_glorot(std::uint64_t seed);

  // How a forward pass runs. Dropout (training only) draws the mask of sample
  // r of the batch from RandomStream(seed, purpose_hash("nn.dropout") + layer,
  // (step << 24) + first_item + r), so a batch split into shards gives the
  // same masks as the whole batch, on any number of threads.
  struct Pass {
    bool training = false;
    std::uint64_t seed = 0, step = 0;
    long first_item = 0;
    float* grads = nullptr;  // gradient buffer (same layout as params); null: grads()
    // The dropout masks of a layer come from the streams (seed, dropout_purpose(layer),
    // dropout_first_item() + sample): new masks each step, the same on any thread count.
    std::uint64_t dropout_first_item() const { return (step << 24) + std::uint64_t(first_item); }
  };
  static std::uint64_t dropout_purpose(std::size_t layer);

  // Records the forward pass on a tape. x[n][H][W][C] holds already
  // normalised inputs (must outlive the tape). Returns the output node
  // [n][outputs]; *features (if given) receives the input node of the last
  // layer ([n][features]).
  Tape::Id forward(Tape& tape, const float* x, long n, const Pass& pass, Tape::Id* features = nullptr);
  Tape::Id forward(Tape& tape, const float* x, long n) { return forward(tape, x, n, Pass{}); }

 private:
  Architecture arch_;
  std::vector<LayerPlan> plans_;
  AlignedBuffer<float> params_, grads_;
};

}  // namespace ds::nn
