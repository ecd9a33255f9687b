// Source masks of an image: growing a mask, and masking pixels above a robust
// threshold. Masks are ny x nx, 1 = masked.
#pragma once
#include "deepshear/engine/image.hpp"

namespace ds::img {

using Mask = Image<unsigned char>;

// The mask grown by `grow` px in every direction (a square, so each pixel
// within Chebyshev distance grow of a masked one is masked); grow >= 0.
Mask grow_mask(const Mask& m, long grow);

// Pixels above median + k x 1.4826 MAD of the finite pixels, grown by `grow`
// px. Errors when the image has fewer than 50 finite pixels.
Mask threshold_mask(const ImageF& image, double k, long grow);

}  // namespace ds::img
