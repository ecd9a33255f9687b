#include "deepshear/lensing/shear.hpp"

#include <Eigen/Dense>
#include <cmath>

#include "deepshear/engine/error.hpp"

namespace ds::lens {

Complex distortion_from_shear(Complex g) {
  double g2 = std::norm(g);
  require(g2 < 1.0, "shear |g| must be below 1");
  return 2.0 * g / (1.0 + g2);
}

Complex shear_from_distortion(Complex e) {
  double e2 = std::norm(e);
  require(e2 < 1.0, "distortion |e| must be below 1");
  return e / (1.0 + std::sqrt(1.0 - e2));
}

Eigen::Matrix2d lensing_jacobian(Complex g, double mu) {
  double g2 = std::norm(g);
  require(g2 < 1.0, "shear |g| must be below 1");
  require(mu > 0, "magnification must be positive");
  Eigen::Matrix2d a;
  a << 1 + g.real(), g.imag(), g.imag(), 1 - g.real();
  return a * std::sqrt(mu / (1.0 - g2));
}

// Polar decomposition of M = R(theta) S with S symmetric positive definite and
// det S = 1 (a pure shear): S = sqrt(M^T M) / sqrt(det M).
Complex compose_shears(Complex g_a, Complex g_b, double* rotation) {
  Eigen::Matrix2d m = lensing_jacobian(g_b) * lensing_jacobian(g_a);
  Eigen::Matrix2d mtm = m.transpose() * m;
  // sqrt of a 2x2 SPD matrix P: (P + sqrt(det P) I) / sqrt(trace P + 2 sqrt(det P)).
  double s = std::sqrt(mtm.determinant());
  Eigen::Matrix2d root = (mtm + s * Eigen::Matrix2d::Identity()) / std::sqrt(mtm.trace() + 2 * s);
  Eigen::Matrix2d shear = root / std::sqrt(root.determinant());
  // shear = (1 / sqrt(1 - |g|^2)) [[1 + g1, g2], [g2, 1 - g1]]: read g back.
  double norm = shear.trace() / 2.0;  // = 1 / sqrt(1 - |g|^2)
  Complex g((shear(0, 0) - shear(1, 1)) / (2 * norm), shear(0, 1) / norm);
  if (rotation) {
    Eigen::Matrix2d r = m * shear.inverse() / std::sqrt(m.determinant());
    *rotation = std::atan2(r(1, 0), r(0, 0));
  }
  return g;
}

Complex apply_dihedral(Complex g, Dihedral d) {
  Complex out = d.flip ? std::conj(g) : g;
  return (d.quarter_turns % 2) ? -out : out;
}

Complex undo_dihedral(Complex g, Dihedral d) {
  // Each generator is an involution on g and they commute on shears.
  return apply_dihedral(g, d);
}

}  // namespace ds::lens
