#include "deepshear/lensing/cluster/total_image.hpp"

#include <cmath>
#include <string>

#include "deepshear/engine/error.hpp"

namespace ds::lens {

TotalImage total_image(const std::vector<ImageF>& images, const std::vector<ImageF>& weights) {
  require(!images.empty(), "total image: no filter images");
  require(images.size() == weights.size(), "total image: " + std::to_string(images.size()) + " images but " +
                                               std::to_string(weights.size()) + " weight maps");
  const long ny = images[0].ny(), nx = images[0].nx();
  for (std::size_t i = 0; i < images.size(); ++i)
    require(images[i].ny() == ny && images[i].nx() == nx && weights[i].ny() == ny && weights[i].nx() == nx,
            "total image: filter " + std::to_string(i) + " is not " + std::to_string(ny) + "x" + std::to_string(nx));
  const double n = double(images.size());
  TotalImage t{ImageF(ny, nx), ImageF(ny, nx), 0};
  for (long k = 0; k < ny * nx; ++k) {
    double sum = 0, var = 0;
    bool ok = true;
    for (std::size_t i = 0; i < images.size(); ++i) {
      const double w = weights[i].data()[k], v = images[i].data()[k];
      ok = ok && w > 0 && std::isfinite(w) && std::isfinite(v);
      sum += v;
      var += 1 / w;
    }
    if (!ok) {
      ++t.masked;
      continue;  // image and weight stay 0
    }
    t.image.data()[k] = float(sum / n);
    t.weight.data()[k] = float(n * n / var);
  }
  return t;
}

}  // namespace ds::lens
