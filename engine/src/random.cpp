#include "deepshear/engine/random.hpp"

#include <cmath>
#include <string>

#include "deepshear/engine/constants.hpp"
#include "deepshear/engine/error.hpp"

namespace ds {

std::array<std::uint32_t, 4> philox4x32(std::array<std::uint32_t, 4> c, std::array<std::uint32_t, 2> k) {
  constexpr std::uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u;
  constexpr std::uint32_t W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    std::uint64_t p0 = std::uint64_t(M0) * c[0];
    std::uint64_t p1 = std::uint64_t(M1) * c[2];
    std::uint32_t hi0 = std::uint32_t(p0 >> 32), lo0 = std::uint32_t(p0);
    std::uint32_t hi1 = std::uint32_t(p1 >> 32), lo1 = std::uint32_t(p1);
    c = {hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0};
    k[0] += W0;
    k[1] += W1;
  }
  return c;
}

std::uint64_t purpose_hash(std::string_view purpose) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : purpose) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  return h;
}

// The key mixes seed and purpose through one Philox block so that nearby seeds
// and purposes give unrelated keys.
static std::array<std::uint32_t, 2> make_key(std::uint64_t seed, std::uint64_t purpose) {
  auto r = philox4x32({std::uint32_t(purpose), std::uint32_t(purpose >> 32), 0x5eedu, 0xdee95u},
                      {std::uint32_t(seed), std::uint32_t(seed >> 32)});
  return {r[0] ^ r[2], r[1] ^ r[3]};
}

RandomStream::RandomStream(std::uint64_t seed, std::string_view purpose, std::uint64_t item)
    : RandomStream(seed, purpose_hash(purpose), item) {}

RandomStream::RandomStream(std::uint64_t seed, std::uint64_t purpose, std::uint64_t item)
    : key_(make_key(seed, purpose)), item_(item) {}

void RandomStream::refill() {
  buf_ = philox4x32({std::uint32_t(block_), std::uint32_t(block_ >> 32), std::uint32_t(item_),
                     std::uint32_t(item_ >> 32)},
                    key_);
  ++block_;
  used_ = 0;
}

std::uint32_t RandomStream::next_u32() {
  if (used_ == 4) refill();
  return buf_[std::size_t(used_++)];
}

std::uint64_t RandomStream::next_u64() {
  std::uint64_t hi = next_u32();
  return (hi << 32) | next_u32();
}

double RandomStream::uniform() { return double(next_u64() >> 11) * 0x1.0p-53; }

double RandomStream::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double u1 = 1.0 - uniform();  // (0, 1]
  double u2 = uniform();
  double r = std::sqrt(-2.0 * std::log(u1));
  double t = 2.0 * kPi * u2;
  spare_ = r * std::sin(t);
  has_spare_ = true;
  return r * std::cos(t);
}

std::int64_t RandomStream::integer(std::int64_t lo, std::int64_t hi) {
  require(lo <= hi, "random integer range [" + std::to_string(lo) + ", " + std::to_string(hi) + "] is empty");
  std::uint64_t range = std::uint64_t(hi) - std::uint64_t(lo);
  if (range == ~0ull) return std::int64_t(next_u64());
  std::uint64_t n = range + 1;
  std::uint64_t limit = ~0ull - (~0ull % n);  // reject the biased tail
  std::uint64_t v;
  do v = next_u64();
  while (v >= limit);
  return lo + std::int64_t(v % n);
}

std::size_t RandomStream::choice(const std::vector<double>& w) {
  double total = 0;
  for (double x : w) {
    require(x >= 0 && std::isfinite(x), "random choice: weights must be finite and >= 0");
    total += x;
  }
  require(total > 0, "random choice: all weights are zero");
  double u = uniform() * total, acc = 0;
  for (std::size_t i = 0; i < w.size(); ++i) {
    acc += w[i];
    if (u < acc) return i;
  }
  for (std::size_t i = w.size(); i-- > 0;)
    if (w[i] > 0) return i;
  return 0;
}

void RandomStream::seek(std::uint64_t position) {
  block_ = position / 4;
  used_ = 4;
  has_spare_ = false;
  int within = int(position % 4);
  if (within) {
    refill();
    used_ = within;
  }
}

WeightedSampler::WeightedSampler(const std::vector<double>& w) : prob_(w.size()), alias_(w.size()) {
  const std::size_t n = w.size();
  require(n > 0, "weighted sampler: no weights");
  double total = 0;
  for (double x : w) {
    require(x >= 0 && std::isfinite(x), "weighted sampler: weights must be finite and >= 0");
    total += x;
  }
  require(total > 0, "weighted sampler: all weights are zero");
  std::vector<double> scaled(n);
  std::vector<std::size_t> small, large;
  for (std::size_t i = 0; i < n; ++i) {
    scaled[i] = w[i] * double(n) / total;
    (scaled[i] < 1 ? small : large).push_back(i);
  }
  while (!small.empty() && !large.empty()) {
    std::size_t s = small.back(), l = large.back();
    small.pop_back();
    prob_[s] = scaled[s];
    alias_[s] = l;
    scaled[l] -= 1 - scaled[s];
    if (scaled[l] < 1) {
      large.pop_back();
      small.push_back(l);
    }
  }
  for (std::size_t i : large) prob_[i] = 1, alias_[i] = i;
  for (std::size_t i : small) prob_[i] = 1, alias_[i] = i;
}

std::size_t WeightedSampler::operator()(RandomStream& r) const {
  std::size_t i = std::size_t(r.integer(0, std::int64_t(prob_.size()) - 1));
  return r.uniform() < prob_[i] ? i : alias_[i];
}

}  // namespace ds
