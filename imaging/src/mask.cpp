#include "deepshear/imaging/mask.hpp"

#include <cmath>
#include <vector>

#include "deepshear/engine/error.hpp"
#include "deepshear/engine/stats.hpp"

namespace ds::img {

namespace {

// One separable pass of grow_mask along lines of length `len` (count lines):
// at(line, i) reads the input, set(line, i) marks the output. A running
// "last masked index" makes it O(len) per line whatever grow is.
template <class At, class Set>
void dilate_lines(long lines, long len, long grow, At at, Set set) {
  for (long l = 0; l < lines; ++l) {
    long last = -1000000 - 2 * grow;
    for (long i = 0; i < len + grow; ++i) {
      if (i < len && at(l, i)) last = i;
      const long t = i - grow;
      if (t >= 0 && t < len && i - last <= 2 * grow) set(l, t);
    }
  }
}

}  // namespace

Mask grow_mask(const Mask& m, long grow) {
  require(grow >= 0 && grow <= (1L << 30), "grow_mask: grow must be in [0, 2^30], got " + std::to_string(grow));
  const long ny = m.ny(), nx = m.nx();
  Mask rows(ny, nx, 0), out(ny, nx, 0);
  dilate_lines(ny, nx, grow, [&](long y, long x) { return m(y, x) != 0; }, [&](long y, long x) { rows(y, x) = 1; });
  dilate_lines(nx, ny, grow, [&](long x, long y) { return rows(y, x) != 0; }, [&](long x, long y) { out(y, x) = 1; });
  return out;
}

Mask threshold_mask(const ImageF& image, double k, long grow) {
  std::vector<float> v;
  v.reserve(std::size_t(image.size()));
  for (float p : image)
    if (std::isfinite(p)) v.push_back(p);
  require(v.size() > 49, "threshold mask: the image has fewer than 50 finite pixels");
  const double med = upper_middle(v);
  for (float& p : v) p = float(std::abs(p - med));
  const double cut = med + k * 1.4826 * upper_middle(v);
  Mask hot(image.ny(), image.nx(), 0);
  for (long i = 0; i < image.size(); ++i)
    hot.data()[i] = std::isfinite(image.data()[i]) && image.data()[i] > cut;
  return grow_mask(hot, grow);
}

}  // namespace ds::img
