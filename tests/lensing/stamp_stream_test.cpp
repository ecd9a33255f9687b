// The background stamp stream: the stamps it hands out are the set's stamps in
// order, across chunk boundaries, with at most `capacity` chunks rendered ahead.
// (Training from the stream is tested in train_test.cpp.)
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <thread>
#include <vector>

#include "deepshear/lensing/training/stamp_stream.hpp"
#include "deepshear/nn/inference.hpp"
#include "test_support.hpp"

using namespace ds::lens;

TEST_CASE("a stamp stream hands out the set's stamps in order, rendering a bounded queue ahead") {
  StampSetConfig c;
  c.seed = 4;
  c.shift_range = 3.5;
  StampStream stream(c, 100, 16, 3);
  std::vector<float> x(40 * 1024), y(40 * 2);
  stream.next(25, x.data(), y.data());
  stream.next(15, x.data() + 25 * 1024, y.data() + 50);
  CHECK(stream.position() == 140);
  c.first = 100;
  c.n = 40;
  StampSet ref = make_stamp_set(c);
  std::vector<float> norm(1024);
  bool same = true;
  for (long i = 0; i < 40; ++i) {
    ds::nn::normalise_stamp(ref.stamps.data() + i * 1024, 1024, norm.data());
    for (long k = 0; k < 1024; ++k) same = same && norm[std::size_t(k)] == x[std::size_t(i * 1024 + k)];
    same = same && y[std::size_t(2 * i)] == float(ref.truth[std::size_t(i)].g1);
  }
  CHECK(same);
  // The producer stops at the capacity.
  for (int wait = 0; wait < 200 && stream.chunks_ahead() < 3; ++wait)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(stream.chunks_ahead() == 3);
}
