// Kaiser-Squires inversion on FFTs (see kaiser_squires.hpp).
#include "deepshear/lensing/cluster/kaiser_squires.hpp"

#include <cmath>
#include <complex>

#include "deepshear/engine/aligned.hpp"
#include "deepshear/engine/error.hpp"
#include "deepshear/engine/fft.hpp"

namespace ds::lens {

ConvergenceMap kaiser_squires(ImageView<const double> g1, ImageView<const double> g2, double pad) {
  require(g1.ny() == g2.ny() && g1.nx() == g2.nx(),
          "Kaiser-Squires: g1 is " + std::to_string(g1.ny()) + "x" + std::to_string(g1.nx()) + " but g2 is " +
              std::to_string(g2.ny()) + "x" + std::to_string(g2.nx()));
  require(g1.ny() > 0 && g1.nx() > 0, "Kaiser-Squires: empty shear grid");
  require(pad >= 1 && std::isfinite(pad), "Kaiser-Squires: padding factor " + std::to_string(pad) + " must be >= 1");
  const long ny = g1.ny(), nx = g1.nx();
  const long NY = long(std::ceil(pad * double(ny))), NX = long(std::ceil(pad * double(nx)));
  Image<double> a(NY, NX), b(NY, NX);
  for (long y = 0; y < ny; ++y)
    for (long x = 0; x < nx; ++x) {
      require(std::isfinite(g1(y, x)) && std::isfinite(g2(y, x)),
              "Kaiser-Squires: shear at grid cell (x " + std::to_string(x) + ", y " + std::to_string(y) +
                  ") is not finite");
      a(y, x) = g1(y, x);
      b(y, x) = g2(y, x);
    }
  const auto& fft = Fft2dD::get(NY, NX);
  const long nxc = fft.nxc();
  AlignedBuffer<std::complex<double>> ha(std::size_t(NY * nxc)), hb(std::size_t(NY * nxc)),
      ke(std::size_t(NY * nxc)), kb(std::size_t(NY * nxc));
  fft.forward(a.data(), ha.data());
  fft.forward(b.data(), hb.data());
  for (long v = 0; v < NY; ++v) {
    const double k2 = double(v <= NY / 2 ? v : v - NY) / double(NY);
    for (long u = 0; u < nxc; ++u) {
      const double k1 = double(u) / double(NX), kk = k1 * k1 + k2 * k2;
      const std::size_t i = std::size_t(v * nxc + u);
      if (kk == 0) {
        ke[i] = kb[i] = 0;
        continue;
      }
      const double c = (k1 * k1 - k2 * k2) / kk, s = 2 * k1 * k2 / kk;
      ke[i] = c * ha[i] + s * hb[i];
      kb[i] = c * hb[i] - s * ha[i];
    }
  }
  fft.inverse(ke.data(), a.data());
  fft.inverse(kb.data(), b.data());
  ConvergenceMap out{Image<double>(ny, nx), Image<double>(ny, nx)};
  const double norm = 1.0 / (double(NY) * double(NX));
  for (long y = 0; y < ny; ++y)
    for (long x = 0; x < nx; ++x) {
      out.kappa_e(y, x) = a(y, x) * norm;
      out.kappa_b(y, x) = b(y, x) * norm;
    }
  return out;
}

ConvergenceMap convergence_map(const ShearMaps& maps, int e, double pad) {
  require(e >= 0 && e < int(maps.names.size()), "convergence map: estimator index " + std::to_string(e) +
                                                     " outside the " + std::to_string(maps.names.size()) + " maps");
  Image<double> a = maps.g1[std::size_t(e)], b = maps.g2[std::size_t(e)];
  for (long i = 0; i < a.size(); ++i) {
    if (!std::isfinite(a.data()[i])) a.data()[i] = 0;
    if (!std::isfinite(b.data()[i])) b.data()[i] = 0;
  }
  return kaiser_squires(a.view(), b.view(), pad);
}

}  // namespace ds::lens
