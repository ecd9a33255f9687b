// Metacalibration's image operations as per-PSF matrices (see metacal.hpp).
#include "deepshear/imaging/metacal.hpp"

#include <cmath>
#include <complex>
#include <vector>

#include "deepshear/engine/aligned.hpp"
#include "deepshear/engine/constants.hpp"
#include "deepshear/engine/error.hpp"
#include "deepshear/engine/fft.hpp"
#include "deepshear/engine/random.hpp"
#include "deepshear/imaging/interpolated.hpp"

namespace ds::img {

const char* metacal_image_name(int image) {
  static const char* names[kMetacalImages] = {"noshear", "1p", "1m", "2p", "2m"};
  DS_REQUIRE(image >= 0 && image < kMetacalImages, "metacal: no image " + std::to_string(image));
  return names[image];
}

std::array<double, 2> metacal_shear(int image, double step) {
  switch (image) {
    case k1p: return {step, 0};
    case k1m: return {-step, 0};
    case k2p: return {0, step};
    case k2m: return {0, -step};
    default: return {0, 0};
  }
}

double metacal_gauss_sigma(const Profile& psf, long size, double scale) {
  const double dk = 2 * kPi / (size * scale), flux = psf.flux();
  DS_REQUIRE(flux > 0, "metacal: the PSF's flux must be > 0");
  const long h = size / 2;
  double kmin2 = 2 * (h * dk) * (h * dk);  // the square's corner
  for (long my = -h; my <= h; ++my)
    for (long mx = 0; mx <= h; ++mx) {
      const double k2 = (mx * mx + my * my) * dk * dk;
      if (k2 < kmin2 && psf.kvalue(mx * dk, my * dk).real() < 0.01 * flux) kmin2 = k2;
    }
  return std::sqrt(-2 * std::log(3e-3) / kmin2);
}

MetacalOperator::MetacalOperator(ProfilePtr psf, const MetacalOptions& opt) : opt_(opt) {
  DS_REQUIRE(psf, "metacal: no PSF");
  DS_REQUIRE(opt.size >= 8 && opt.size <= 64, "metacal: stamp size must be in [8, 64], got " + std::to_string(opt.size));
  DS_REQUIRE(opt.scale > 0, "metacal: pixel scale must be > 0");
  DS_REQUIRE(opt.step > 0 && opt.step < 0.1, "metacal: step must be in (0, 0.1)");
  DS_REQUIRE(opt.target_sigma >= 0, "metacal: target_sigma must be >= 0");
  const double base = opt.target_sigma > 0 ? opt.target_sigma : metacal_gauss_sigma(*psf, opt.size, opt.scale);
  sigma_t_ = base * (1 + 2 * opt.step);
  build(*psf);
}

ProfilePtr MetacalOperator::target_psf() const { return convolve({gaussian(sigma_t_), pixel(opt_.scale)}); }

namespace {

// K_s~ on the lattice m = (mx, my) in [-L, L]^2, k = m dk [rad/arcsec]:
// P'~(k) u~(S^T k) / P~(S^T k), row-major ((2L+1) x (2L+1)); u~ is the
// quintic's transform, or with band_limited 1 inside the Nyquist square and 0 outside.
std::vector<std::complex<double>> kernel_transform(const Profile& psf, const Profile& target, const Jacobian& S,
                                                   long L, double dk, double scale, bool band_limited) {
  const Interpolant u(InterpolantKind::Quintic);
  const double floor = std::abs(psf.flux()) * GsParams::kvalue_accuracy, maxk_p = psf.maxk();
  const long W = 2 * L + 1;
  std::vector<std::complex<double>> kt(std::size_t(W * W));
  for (long my = -L; my <= L; ++my)
    for (long mx = -L; mx <= L; ++mx) {
      const double kx = mx * dk, ky = my * dk;
      const double qx = S.a * kx + S.c * ky, qy = S.b * kx + S.d * ky;  // S^T k
      std::complex<double> v = 0;
      const double ux = qx * scale / (2 * kPi), uy = qy * scale / (2 * kPi);
      if (qx * qx + qy * qy <= maxk_p * maxk_p && std::abs(ux) < u.urange() && std::abs(uy) < u.urange()) {
        const std::complex<double> P = psf.kvalue(qx, qy);
        const std::complex<double> D = std::abs(P) >= floor ? 1.0 / P : std::complex<double>(1 / floor);
        v = target.kvalue(kx, ky) * (band_limited ? (std::abs(ux) <= 0.5 && std::abs(uy) <= 0.5 ? 1.0 : 0.0) : u.uval(ux) * u.uval(uy)) * D;
      }
      kt[std::size_t((my + L) * W + mx + L)] = v;
    }
  return kt;
}

}  // namespace

// Column p of A_s: the image of a unit impulse at pixel p, drawn by folding
// K_s~(k) exp(-i k.(S X_p)) into an M x M DFT (M = 2 n, so the response,
// compact around S X_p, never wraps into the stamp) and one inverse FFT.
void MetacalOperator::build(const Profile& psf) {
  const long n = opt_.size, n2 = n * n, M = 2 * n, Mh = M / 2 + 1;
  const double s = opt_.scale, c = 0.5 * (n - 1);
  const double dk = 2 * kPi / (M * s);
  const auto target = target_psf();
  // Beyond k = 6.44 / sigma_t the target's Gaussian is below 1e-9.
  const long L = long(std::ceil(6.44 / sigma_t_ / dk));
  const long W = 2 * L + 1;
  const auto& fft = Fft2dD::get(M, M);
  for (int img = 0; img < kMetacalImages; ++img) {
    const auto g = metacal_shear(img, opt_.step);
    const Jacobian S = Jacobian::shear(g[0], g[1]);
    const auto kt = kernel_transform(psf, *target, S, L, dk, s, opt_.band_limited);
    Eigen::MatrixXf& A = a_[std::size_t(img)];
    A.resize(n2, n2);
#pragma omp parallel
    {
      AlignedBuffer<std::complex<double>> half(std::size_t(M * Mh));
      AlignedBuffer<double> real(std::size_t(M * M));
      std::vector<std::complex<double>> ex(static_cast<std::size_t>(W)), ey(static_cast<std::size_t>(W));
#pragma omp for schedule(dynamic, 8)
      for (long p = 0; p < n2; ++p) {
        const double X = (double(p % n) - c) * s, Y = (double(p / n) - c) * s;
        const double tx = c + (S.a * X + S.b * Y) / s, ty = c + (S.c * X + S.d * Y) / s;  // px
        for (long m = -L; m <= L; ++m) {
          ex[std::size_t(m + L)] = std::polar(1.0, -2 * kPi * double(m) * tx / double(M));
          ey[std::size_t(m + L)] = std::polar(1.0, -2 * kPi * double(m) * ty / double(M));
        }
        std::fill(half.begin(), half.end(), std::complex<double>(0));
        for (long my = -L; my <= L; ++my) {
          const long row = ((my % M) + M) % M;
          const std::complex<double> eyv = ey[std::size_t(my + L)];
          const std::complex<double>* krow = kt.data() + (my + L) * W;
          for (long mx = -L; mx <= L; ++mx) {
            const long col = ((mx % M) + M) % M;
            if (col >= Mh) continue;
            half[std::size_t(row * Mh + col)] += krow[mx + L] * ex[std::size_t(mx + L)] * eyv;
          }
        }
        fft.inverse(half.data(), real.data());
        const double norm = 1.0 / double(M * M);
        for (long y = 0; y < n; ++y)
          for (long x = 0; x < n; ++x) A(y * n + x, p) = float(real[std::size_t(y * M + x)] * norm);
      }
    }
  }
  if (!opt_.fixnoise) return;
  // rot90: out[y][x] = in[n-1-x][y]; its inverse: in[y][x] = out[x][n-1-y]. Column p of
  // rot^-1 A rot is rot^-1 of A's column at the pixel where rot(e_p) is 1.
  for (int img = 0; img < kMetacalImages; ++img) {
    const Eigen::MatrixXf& A = a_[std::size_t(img)];
    Eigen::MatrixXf& R = ar_[std::size_t(img)];
    R.resize(n2, n2);
    for (long py = 0; py < n; ++py)
      for (long px = 0; px < n; ++px) {
        const long p = py * n + px, pr = px * n + (n - 1 - py);
        for (long y = 0; y < n; ++y)
          for (long x = 0; x < n; ++x) R(y * n + x, p) = A(x * n + (n - 1 - y), pr);
      }
  }
}

// O = A_s X (+ rot^-1 A_s rot N), O: (size^2 x count) with column stride `stride`.
void MetacalOperator::product(int img, const float* stamps, const float* noise, long count, float* out,
                              long stride) const {
  const long n2 = opt_.size * opt_.size;
  Eigen::Map<const Eigen::MatrixXf> X(stamps, n2, count);
  Eigen::Map<Eigen::MatrixXf, 0, Eigen::OuterStride<>> O(out, n2, count, Eigen::OuterStride<>(stride));
  O.noalias() = a_[std::size_t(img)] * X;
  if (noise) O.noalias() += ar_[std::size_t(img)] * Eigen::Map<const Eigen::MatrixXf>(noise, n2, count);
}

void MetacalOperator::apply(const float* stamps, long count, float* out) const {
  const long n2 = opt_.size * opt_.size;
  for (int img = 0; img < kMetacalImages && count > 0; ++img)
    product(img, stamps, nullptr, count, out + img * n2, kMetacalImages * n2);
}

void MetacalOperator::apply_fixnoise(const float* stamps, const float* noise, long count, float* out) const {
  DS_REQUIRE(opt_.fixnoise, "metacal: the operator was built without fixnoise");
  const long n2 = opt_.size * opt_.size;
  for (int img = 0; img < kMetacalImages && count > 0; ++img)
    product(img, stamps, noise, count, out + img * n2, kMetacalImages * n2);
}

void MetacalOperator::apply_split(const float* stamps, const float* noise, long count,
                                  const std::array<float*, kMetacalImages>& out) const {
  DS_REQUIRE(!noise || opt_.fixnoise, "metacal: the operator was built without fixnoise");
  for (int img = 0; img < kMetacalImages && count > 0; ++img)
    product(img, stamps, noise, count, out[std::size_t(img)], opt_.size * opt_.size);
}

void metacal_noise_field(ds::ImageView<float> out, const NoiseKernel& k, std::uint64_t seed, std::uint64_t key) {
  out.for_each([](float& v) { v = 0; });
  RandomStream r(seed, "metacal_noise", key);
  add_correlated_noise(out, k, r);
}

std::uint64_t stamp_key(const float* stamp, long pixels) {
  std::uint64_t h = 1469598103934665603ull;
  const auto* b = reinterpret_cast<const unsigned char*>(stamp);
  for (long i = 0; i < pixels * long(sizeof(float)); ++i) {
    h ^= b[i];
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace ds::img
