// Images, views, tensors and their Eigen maps share memory and keep their
// alignment and layout promises.
#include <doctest/doctest.h>

#include <cstdint>

#include "deepshear/engine/image.hpp"
#include "deepshear/engine/tensor.hpp"
#include "test_support.hpp"

TEST_CASE("an image is row-major [y][x] and its Eigen map shares its pixels") {
  ds::ImageF img(3, 4);
  for (long y = 0; y < 3; ++y)
    for (long x = 0; x < 4; ++x) img(y, x) = float(10 * y + x);
  CHECK(img.data()[1 * 4 + 2] == 12.0f);  // row 1, column 2
  auto m = img.matrix();
  CHECK(m.rows() == 3);
  CHECK(m.cols() == 4);
  CHECK(m(2, 3) == 23.0f);
  m(0, 1) = -1.0f;  // writes through to the image
  CHECK(img(0, 1) == -1.0f);
  CHECK(reinterpret_cast<std::uintptr_t>(img.data()) % 64 == 0);
}

TEST_CASE("a sub-view keeps the parent's stride; out-of-range sub-views are refused") {
  ds::ImageD img(5, 6);
  for (long i = 0; i < img.size(); ++i) img.data()[i] = double(i);
  auto v = img.view().sub(1, 2, 3, 2);
  CHECK(v.ny() == 3);
  CHECK(v.nx() == 2);
  CHECK(v.stride() == 6);
  CHECK(v(0, 0) == 8.0);  // (y=1, x=2)
  CHECK(v(2, 1) == 21.0);
  CHECK(v.matrix()(2, 1) == 21.0);
  CHECK(v.sum() == doctest::Approx(8 + 9 + 14 + 15 + 20 + 21));
  CHECK_THROWS_AS(img.view().sub(4, 0, 2, 1), ds::Error);
  auto copy = ds::ImageF::copy_of(v);
  CHECK(copy.nx() == 2);
  CHECK(copy(1, 1) == 15.0f);
}

TEST_CASE("a tensor is packed, last index fastest, 64-byte aligned, and reshapes without copying") {
  ds::Tensor t({2, 3, 4});
  CHECK(t.size() == 24);
  CHECK(reinterpret_cast<std::uintptr_t>(t.data()) % 64 == 0);
  for (long i = 0; i < t.size(); ++i) t[i] = float(i);
  auto im = t.image(1);
  CHECK(im(2, 3) == float(1 * 12 + 2 * 4 + 3));
  const float* before = t.data();
  t.reshape({6, 4});
  CHECK(t.data() == before);
  CHECK(t.matrix()(5, 3) == 23.0f);
  CHECK_THROWS_AS(t.reshape({5, 5}), ds::Error);
}

TEST_CASE("a borrowed tensor reads the caller's memory in place and never writes or frees it") {
  std::vector<float> mine(2 * 3 * 4 + 1);
  for (std::size_t i = 0; i < mine.size(); ++i) mine[i] = float(i);
  // Unaligned on purpose: one float past the vector's start.
  const ds::Tensor t = ds::Tensor::borrow(mine.data() + 1, {2, 3, 4});
  CHECK(t.data() == mine.data() + 1);
  CHECK(t[5] == 6.0f);
  CHECK(t.dim(1) == 3);
  ds::Tensor copy = t;  // a copy owns its memory
  CHECK(copy.data() != t.data());
  CHECK(copy[5] == 6.0f);
  ds::Tensor resized = ds::Tensor::borrow(mine.data(), {24});
  resized.resize({24});  // same count: new zeroed memory of its own, the caller's values kept
  CHECK(resized.data() != mine.data());
  CHECK(resized[3] == 0.0f);
  CHECK(mine[3] == 3.0f);
}

TEST_CASE("an image whose pixel count would wrap is refused, not allocated as 0 pixels") {
  const long big = 1L << 32;
  CHECK(ds::test::error_of([&] { ds::ImageF im(big, big); }).find("too large") != std::string::npos);
  CHECK(ds::test::error_of([&] { ds::ImageF im(-1, 3); }).find("negative") != std::string::npos);
}
