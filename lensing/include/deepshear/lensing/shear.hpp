// Shear algebra. Reduced shear g = g1 + i g2 (positive g1 stretches along x,
// positive g2 along x = y); distortion (ellipticity) e = 2g / (1 + |g|^2); the
// lensing Jacobian A = sqrt(mu) / sqrt(1 - |g|^2) [[1 + g1, g2], [g2, 1 - g1]]
// maps source-plane positions to the image (area-preserving shear, then
// magnification mu). Angles in radians, positive = anticlockwise.
#pragma once
#include <Eigen/Core>
#include <complex>

namespace ds::lens {

using Complex = std::complex<double>;

// Distortion e = 2g / (1 + |g|^2); |g| < 1.
Complex distortion_from_shear(Complex g);
// Reduced shear g = e / (1 + sqrt(1 - |e|^2)); |e| < 1.
Complex shear_from_distortion(Complex e);

// The 2x2 lensing Jacobian for reduced shear g and magnification mu.
Eigen::Matrix2d lensing_jacobian(Complex g, double mu = 1.0);

// The shear of applying g_a first, then g_b: A(g_b) A(g_a) = R(theta) A(g_c)
// with a rotation R(theta); returns g_c and, if asked, theta (radians).
Complex compose_shears(Complex g_a, Complex g_b, double* rotation = nullptr);

// A shear seen after rotating the image by angle theta (anticlockwise):
// g -> g exp(2 i theta).
inline Complex rotate_shear(Complex g, double theta) { return g * std::polar(1.0, 2.0 * theta); }

// The 8 symmetries of a square stamp: an optional flip of the x axis
// (x -> -x), then a rotation by k * 90 degrees anticlockwise. Transposing
// (x <-> y) is flip + 90 degrees.
struct Dihedral {
  bool flip = false;
  int quarter_turns = 0;  // 0..3
  static Dihedral from_index(int i) { return Dihedral{i >= 4, i % 4}; }
  int index() const { return (flip ? 4 : 0) + quarter_turns; }
};

// The shear of a stamp after the symmetry d: a flip conjugates g (g1, -g2), a
// quarter turn negates it (-g1, -g2); transpose gives (-g1, g2).
Complex apply_dihedral(Complex g, Dihedral d);
// The inverse map: the shear of the original stamp given that of the
// transformed one.
Complex undo_dihedral(Complex g_transformed, Dihedral d);

}  // namespace ds::lens
