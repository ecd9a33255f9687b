// The total image of a field from n filter images (paper eqs. 2-3): the mean
// I = (1/n) sum_i I_i, with inverse variance W = n^2 / sum_i V_i where
// V_i = 1 / w_i from each filter's inverse-variance (weight) map. A pixel with
// zero (or non-finite) weight in any filter is masked: W = 0.
#pragma once
#include <vector>

#include "deepshear/engine/image.hpp"

namespace ds::lens {

struct TotalImage {
  ImageF image;     // ny x nx, image units
  ImageF weight;    // ny x nx, inverse variance (0 = masked)
  long masked = 0;  // pixels with W = 0
};

// images[i] and weights[i] all ny x nx (errors name the index at fault).
TotalImage total_image(const std::vector<ImageF>& images, const std::vector<ImageF>& weights);

}  // namespace ds::lens
