// Drawing a profile onto a pixel grid by FFT, GalSim's drawImage(method='auto'
// or 'no_pixel'): convolve with the pixel box, sample the Fourier grid (step
// from stepk, extent from maxk, aliasing folded in), inverse FFT, cut the stamp.
//
// Stamp convention (DESIGN.md): pixel (x, y) of an ny x nx stamp has its centre
// at sky position ((x - (nx-1)/2 - offset_x) * scale, (y - (ny-1)/2 - offset_y) * scale)
// relative to the profile origin; row index y runs along +y. Pixel values are
// flux per pixel (surface brightness integrated over the pixel).
#pragma once
#include "deepshear/engine/image.hpp"
#include "deepshear/imaging/profile.hpp"

namespace ds::img {

struct DrawOptions {
  double scale = 0.065;          // arcsec per pixel
  double offset_x = 0;           // pixels: the profile origin sits at the stamp centre + offset
  double offset_y = 0;
  bool add_pixel = true;         // convolve with the pixel (method 'auto'); false = 'no_pixel'
  long min_fft = 64;             // smallest FFT side (GalSim's minimum_fft_size is 128; see draw.cpp)
  long max_fft = 8192;           // largest k-grid side (GalSim's maximum_fft_size)
  long max_n = 0;                // > 0: cap on the real-space FFT side (light beyond it folds
                                 // periodically; the stamp pipeline uses its 64 px render size)
};

// Sizes of the FFT that draw() will use for this profile and stamp.
struct FftPlanInfo {
  long n = 0;        // real-space FFT side
  long nk = 0;       // k-grid side before folding (== n when no aliasing needs folding)
  double dk = 0;     // rad/arcsec
};
FftPlanInfo fft_plan_for(const Profile& p, long ny, long nx, const DrawOptions& o);

// Draws p onto `out` (ny x nx), overwriting it.
void draw(const Profile& p, ImageView<double> out, const DrawOptions& o = {});
void draw(const Profile& p, ImageView<float> out, const DrawOptions& o = {});
ImageD draw_image(const Profile& p, long ny, long nx, const DrawOptions& o = {});

// The smallest 2^k or 3 * 2^k that is >= n (GalSim's good_fft_size).
long good_fft_size(long n);

// Array operations on stamps (for the symmetry tests and the 8-fold estimator):
// out[y][x] = in[N-1-x][y] (content rotated +90 deg, anticlockwise), in[x][y], in[y][N-1-x].
ImageD rotate90(const ImageD& in);
ImageD transpose(const ImageD& in);
ImageD flip_x(const ImageD& in);

}  // namespace ds::img
