#include "deepshear/lensing/estimators/across_ranks.hpp"

#include <algorithm>
#include <cstring>

#include "deepshear/engine/error.hpp"
#include "deepshear/engine/progress.hpp"
#include "deepshear/engine/ranks.hpp"

namespace ds::lens {

namespace {

// Appends a trivially copyable value or an array of them to a byte buffer.
template <class T>
void put(std::vector<char>& buf, const T* p, std::size_t count) {
  const char* b = reinterpret_cast<const char*>(p);
  buf.insert(buf.end(), b, b + count * sizeof(T));
}

// Reads what put wrote, advancing `at`.
template <class T>
void take(const std::vector<char>& buf, std::size_t& at, T* p, std::size_t count) {
  require(at + count * sizeof(T) <= buf.size(), "gather_results: truncated message");
  std::memcpy(p, buf.data() + at, count * sizeof(T));
  at += count * sizeof(T);
}

void put_string(std::vector<char>& buf, const std::string& s) {
  const std::uint64_t n = s.size();
  put(buf, &n, 1);
  put(buf, s.data(), s.size());
}

std::string take_string(const std::vector<char>& buf, std::size_t& at) {
  std::uint64_t n = 0;
  take(buf, at, &n, 1);
  std::string s(n, '\0');
  take(buf, at, s.data(), n);
  return s;
}

// One rank's results as bytes: count of batches, then per batch its name,
// estimates and extra columns (name, values).
std::vector<char> pack(const std::map<std::string, EstimateBatch>& results) {
  std::vector<char> buf;
  const std::uint64_t batches = results.size();
  put(buf, &batches, 1);
  for (const auto& [name, b] : results) {
    put_string(buf, name);
    const std::uint64_t n = b.estimates.size(), extras = b.extra.size();
    put(buf, &n, 1);
    put(buf, b.estimates.data(), n);
    put(buf, &extras, 1);
    for (const auto& [column, values] : b.extra) {
      put_string(buf, column);
      put(buf, values.data(), n);
    }
  }
  return buf;
}

// Unpacks one rank's results at `at` and appends them to `out`.
void unpack_into(const std::vector<char>& buf, std::size_t& at, std::map<std::string, EstimateBatch>& out) {
  std::uint64_t batches = 0;
  take(buf, at, &batches, 1);
  for (std::uint64_t k = 0; k < batches; ++k) {
    const std::string name = take_string(buf, at);
    std::uint64_t n = 0, extras = 0;
    EstimateBatch b;
    take(buf, at, &n, 1);
    b.estimates.resize(n);
    take(buf, at, b.estimates.data(), n);
    take(buf, at, &extras, 1);
    for (std::uint64_t e = 0; e < extras; ++e) {
      std::string column = take_string(buf, at);
      std::vector<double> values(n);
      take(buf, at, values.data(), n);
      b.extra.emplace_back(std::move(column), std::move(values));
    }
    append_batch(out[name], b);
  }
}

// The first k items of a batch (estimates and extra columns).
EstimateBatch first_items(const EstimateBatch& b, long k) {
  EstimateBatch out;
  const auto n = std::size_t(std::min<long>(k, long(b.estimates.size())));
  out.estimates.assign(b.estimates.begin(), b.estimates.begin() + long(n));
  for (const auto& [name, values] : b.extra)
    out.extra.emplace_back(name, std::vector<double>(values.begin(), values.begin() + long(n)));
  return out;
}

}  // namespace

void share_settled_parameters(EstimatorSet& set, int from) {
  for (const auto& name : set.names()) {
    std::vector<std::pair<std::string, double>> values = set[name].parameters();
    std::vector<double> numbers;
    std::string keys;
    for (const auto& [key, value] : values) keys += key + "\n", numbers.push_back(value);
    keys = broadcast_string(keys, from);
    numbers.resize(std::size_t(std::count(keys.begin(), keys.end(), '\n')));  // one per key
    broadcast(numbers.data(), numbers.size() * sizeof(double), from);
    values.clear();
    std::size_t at = 0;
    for (double v : numbers) {
      const std::size_t end = keys.find('\n', at);
      values.emplace_back(keys.substr(at, end - at), v);
      at = end + 1;
    }
    if (ranks().rank != from) set[name].fix_parameters(values);
  }
}

std::map<std::string, EstimateBatch> gather_results(const std::map<std::string, EstimateBatch>& mine, bool to_all) {
  if (ranks().size == 1) return mine;
  const std::vector<char> mine_bytes = pack(mine);
  const std::vector<char> all = to_all ? gather_to_all(mine_bytes.data(), mine_bytes.size())
                                       : gather_to_root(mine_bytes.data(), mine_bytes.size());
  std::map<std::string, EstimateBatch> out;
  if (all.empty()) return out;
  std::size_t at = 0;
  for (int k = 0; k < ranks().size; ++k) unpack_into(all, at, out);
  return out;
}

long share_fetched(long n, long chunk) {
  const auto [a, b] = rank_range(n);
  return std::max(b, ranks().root() ? std::min(chunk, n) : 0L) - a;
}

std::map<std::string, EstimateBatch> estimate_share(EstimatorSet& set, long n, long chunk, const ChunkSource& fetch,
                                                    const std::map<std::string, Calibration>& calibrations,
                                                    Progress* progress) {
  const auto [a, b] = rank_range(n);
  std::map<std::string, EstimateBatch> results;
  for (const auto& name : set.names()) results[name];
  long at = a;
  if (ranks().size > 1 && !set.settled()) {
    const long m = ranks().root() ? std::min(chunk, n) : std::min(chunk, b - a);
    const Tensor stamps = m > 0 ? fetch(a, m) : Tensor();
    if (!ranks().root()) share_settled_parameters(set);
    std::map<std::string, EstimateBatch> first;
    if (m > 0) estimate_chunk_into(set, stamps, calibrations, first);
    if (ranks().root()) share_settled_parameters(set);
    for (auto& [name, batch] : first) append_batch(results[name], first_items(batch, b - a));
    at = a + std::min(m, b - a);
    if (progress) progress->tick(m);
  }
  for (; at < b; at += chunk) {
    const long m = std::min(chunk, b - at);
    estimate_chunk_into(set, fetch(at, m), calibrations, results);
    if (progress) progress->tick(m);
  }
  return results;
}

}  // namespace ds::lens
