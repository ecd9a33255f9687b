// Counter-based random streams (Philox4x32-10, Salmon et al. 2011). Every draw
// is a pure function of (seed, purpose, item, draw number): the stream for item
// i gives the same numbers whichever thread runs it and in whatever order, so a
// run is reproducible on 1 thread or N.
//
//   ds::RandomStream r(seed, "noise", stamp_index);
//   double u = r.uniform();   // [0, 1)
//   double z = r.normal();    // N(0, 1)
#pragma once
#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "deepshear/engine/error.hpp"  // draws with bad arguments throw ds::Error

namespace ds {

// The Philox4x32-10 block function: 128-bit counter, 64-bit key -> 128 random bits.
std::array<std::uint32_t, 4> philox4x32(std::array<std::uint32_t, 4> counter, std::array<std::uint32_t, 2> key);

// A stable 64-bit hash of a purpose name (FNV-1a), so purposes can be strings.
std::uint64_t purpose_hash(std::string_view purpose);

class RandomStream {
 public:
  // The stream of draws for one item of one purpose under one seed.
  RandomStream(std::uint64_t seed, std::string_view purpose, std::uint64_t item = 0);
  RandomStream(std::uint64_t seed, std::uint64_t purpose, std::uint64_t item);

  // Raw 32-bit and 64-bit draws.
  std::uint32_t next_u32();
  std::uint64_t next_u64();
  // Uniform in [0, 1) with 53 random bits.
  double uniform();
  // Uniform in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Standard normal (Box-Muller on two uniforms; the spare value is kept).
  double normal();
  double normal(double mean, double sigma) { return mean + sigma * normal(); }
  // An integer uniform in [lo, hi] inclusive, without modulo bias.
  std::int64_t integer(std::int64_t lo, std::int64_t hi);
  // An index drawn with probability weights[i] / sum(weights); weights >= 0.
  std::size_t choice(const std::vector<double>& weights);

  // Position in the stream, for checkpoints: 32-bit words drawn so far (a spare
  // normal held from Box-Muller is not part of it). Restoring it
  // with seek() continues exactly where the stream was.
  std::uint64_t position() const { return block_ == 0 ? 0 : (block_ - 1) * 4 + std::uint64_t(used_); }
  void seek(std::uint64_t position);

 private:
  void refill();
  std::array<std::uint32_t, 2> key_{};
  std::uint64_t item_ = 0;
  std::uint64_t block_ = 0;  // index of the next block to generate
  std::array<std::uint32_t, 4> buf_{};
  int used_ = 4;             // words of buf_ consumed
  bool has_spare_ = false;
  double spare_ = 0;
};

// Draws many indices by weight in O(1) each (Walker's alias method).
class WeightedSampler {
 public:
  explicit WeightedSampler(const std::vector<double>& weights);
  std::size_t operator()(RandomStream& r) const;
  std::size_t size() const { return prob_.size(); }

 private:
  std::vector<double> prob_;
  std::vector<std::size_t> alias_;
};

}  // namespace ds
