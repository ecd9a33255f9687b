// Kaiser & Squires (1993) convergence from a gridded shear field. With k1 along x and
// k2 along y, gamma_hat = D(k) kappa_hat with D = (k1 + i k2)^2 / k^2, so
//   kappa_E_hat = [(k1^2 - k2^2) g1_hat + 2 k1 k2 g2_hat] / k^2,
//   kappa_B_hat = [(k1^2 - k2^2) g2_hat - 2 k1 k2 g1_hat] / k^2,
// with the k = 0 mode (the mass sheet) set to 0. The reduced shear is used for gamma
// (the weak-lensing limit). The grid is embedded in a zero array `pad` times larger per
// axis to weaken the periodic wrap-around of the FFT.
#pragma once
#include "deepshear/engine/image.hpp"
#include "deepshear/lensing/cluster/maps.hpp"

namespace ds::lens {

struct ConvergenceMap {
  Image<double> kappa_e;  // ny x nx, the convergence (E mode)
  Image<double> kappa_b;  // ny x nx, the B mode (zero for a lensing field)
};

// g1, g2: ny x nx gridded shear (finite values; NaN cells should be set to 0 first);
// pad >= 1. Output on the same grid.
ConvergenceMap kaiser_squires(ImageView<const double> g1, ImageView<const double> g2, double pad = 2.0);

// The convergence of estimator e's smoothed shear map, masked (NaN) cells set to 0 first.
ConvergenceMap convergence_map(const ShearMaps& maps, int e, double pad = 2.0);

}  // namespace ds::lens
