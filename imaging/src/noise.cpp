// Correlated noise from a 7 x 7 kernel; kernel estimation from background
// patches (paper sec. 2.1.4); kernel files.
// GCC 12 reports false -W(maybe-)uninitialized warnings inside Eigen's AVX-512
// kernels (avx512fintrin.h: `__Y = __Y` placeholders) with -march=native.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include "deepshear/imaging/noise.hpp"

#include <Eigen/Eigenvalues>
#include <cmath>
#include <cstdlib>
#include <iomanip>
#include <sstream>

#include "deepshear/engine/atomic_file.hpp"
#include "deepshear/engine/constants.hpp"
#include "deepshear/engine/data_path.hpp"
#include "deepshear/engine/error.hpp"
#include "deepshear/engine/fits.hpp"
#include "deepshear/engine/provenance.hpp"

namespace ds::img {

namespace {
constexpr long N = NoiseKernel::kSize;
constexpr long H = NoiseKernel::kHalf;

bool ends_with(const std::string& s, const std::string& e) {
  return s.size() >= e.size() && s.compare(s.size() - e.size(), e.size(), e) == 0;
}
}  // namespace

NoiseKernel::NoiseKernel() : k_(N, N, 0.0) {}

NoiseKernel::NoiseKernel(const ImageD& k) : k_(k) {
  require(k.ny() == N && k.nx() == N, "noise kernel must be 7x7, got " + std::to_string(k.ny()) + "x" +
                                          std::to_string(k.nx()));
  for (long y = 0; y < N; ++y)
    for (long x = 0; x < N; ++x)
      require(std::isfinite(k(y, x)), "noise kernel value at (y=" + std::to_string(y) + ", x=" + std::to_string(x) +
                                          ") is not finite");
}

NoiseKernel NoiseKernel::white(double sigma) {
  ImageD k(N, N, 0.0);
  k(H, H) = sigma;
  return NoiseKernel(k);
}

double NoiseKernel::rms() const {
  double s = 0;
  for (double v : k_) s += v * v;
  return std::sqrt(s);
}

NoiseKernel NoiseKernel::scaled(double f) const {
  ImageD k = k_;
  for (double& v : k) v *= f;
  return NoiseKernel(k);
}

double NoiseKernel::covariance(long dy, long dx) const {
  double s = 0;
  for (long y = 0; y < N; ++y) {
    long y2 = y + dy;
    if (y2 < 0 || y2 >= N) continue;
    for (long x = 0; x < N; ++x) {
      long x2 = x + dx;
      if (x2 < 0 || x2 >= N) continue;
      s += k_(y, x) * k_(y2, x2);
    }
  }
  return s;
}

ImageD NoiseKernel::covariance_image() const {
  ImageD c(2 * N - 1, 2 * N - 1);
  for (long dy = -(N - 1); dy <= N - 1; ++dy)
    for (long dx = -(N - 1); dx <= N - 1; ++dx) c(dy + N - 1, dx + N - 1) = covariance(dy, dx);
  return c;
}

NoiseKernel NoiseKernel::load_fits(const std::string& path) {
  fits::FitsFile f(path);
  ImageD k = f.read_image<double>();
  if (k.ny() != N || k.nx() != N)
    throw Error(f.where() + ": noise kernel must be a 7x7 image, got " + std::to_string(k.ny()) + "x" +
                std::to_string(k.nx()));
  return NoiseKernel(k);
}

void NoiseKernel::save_fits(const std::string& path) const {
  fits::FitsWriter w(path);
  w.write_image(k_, fits::PixelType::Float64);
  w.write_key("DSKIND", "noise_kernel", "deepshear 7x7 noise kernel, centre (3,3)");
  w.write_key("NOISERMS", rms(), "sqrt(sum K^2): noise RMS it makes");
  w.commit();
}

NoiseKernel NoiseKernel::load_text(const std::string& path) {
  std::string text = read_text_file(path);
  std::istringstream in(text);
  std::string line;
  std::vector<double> v;
  long lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    std::size_t hash = line.find('#');
    if (hash != std::string::npos) line.erase(hash);
    std::istringstream ls(line);
    std::string tok;
    while (ls >> tok) {
      char* end = nullptr;
      double d = std::strtod(tok.c_str(), &end);
      if (end == tok.c_str() || *end != '\0')
        throw Error(path + ": line " + std::to_string(lineno) + ": '" + tok + "' is not a number");
      v.push_back(d);
    }
  }
  if (v.size() != std::size_t(N * N))
    throw Error(path + ": a noise kernel file needs 49 numbers (7 rows of 7), found " + std::to_string(v.size()));
  ImageD k(N, N);
  for (long i = 0; i < N * N; ++i) k.data()[i] = v[std::size_t(i)];
  return NoiseKernel(k);
}

void NoiseKernel::save_text(const std::string& path, const std::string& comment) const {
  std::ostringstream o;
  o << "# deepshear noise kernel: 7 rows (y = 0..6) of 7 values (x = 0..6), centre (3, 3)\n" << provenance_comment();
  if (!comment.empty()) {
    std::istringstream c(comment);
    std::string line;
    while (std::getline(c, line)) o << "# " << line << "\n";
  }
  o << "# noise RMS sqrt(sum K^2) = " << std::setprecision(6) << rms() << "\n";
  o << std::scientific << std::setprecision(10);
  for (long y = 0; y < N; ++y) {
    for (long x = 0; x < N; ++x) o << (x ? " " : "") << std::setw(17) << k_(y, x);
    o << "\n";
  }
  write_text_atomic(path, o.str());
}

NoiseKernel NoiseKernel::load(const std::string& path) {
  if (ends_with(path, ".fits") || ends_with(path, ".fit") || ends_with(path, ".fits.gz")) return load_fits(path);
  return load_text(path);
}

void NoiseKernel::save(const std::string& path) const {
  if (ends_with(path, ".fits") || ends_with(path, ".fit")) return save_fits(path);
  save_text(path);
}

NoiseKernel NoiseKernel::load_default(const std::string& data_dir) {
  if (!data_dir.empty()) return load_text(data_dir + "/noise_kernel_default.txt");
  return load_text(data_path("noise_kernel_default.txt"));
}

// ------------------------------------------------------------------ noise

namespace {

// n standard normal draws (n even or odd) from r's raw 32-bit words: Box-Muller
// in float on 24-bit uniforms, u1 = (k + 1/2) 2^-24 (so |z| <= 5.9: the
// truncated tail has probability 4e-9), vectorised through Eigen arrays.
// Word order: pair j uses words 2j (radius) and 2j+1 (angle).
void fill_normals(RandomStream& r, float* out, long n) {
  const long pairs = (n + 1) / 2;
  thread_local Eigen::ArrayXf u1, u2, rad, th;
  if (u1.size() < pairs) {
    u1.resize(pairs), u2.resize(pairs), rad.resize(pairs), th.resize(pairs);
  }
  const float scale = 1.0f / 16777216.0f;  // 2^-24
  for (long j = 0; j < pairs; ++j) {
    u1[j] = (float(r.next_u32() >> 8) + 0.5f) * scale;
    u2[j] = float(r.next_u32() >> 8) * scale;
  }
  auto U1 = u1.head(pairs), U2 = u2.head(pairs);
  auto R = rad.head(pairs), TH = th.head(pairs);
  R = (-2.0f * U1.log()).sqrt();
  TH = float(2 * kPi) * U2;
  // Evaluate into the (aligned) work arrays, then copy: Eigen peels a
  // misaligned destination with scalar cos/sin, whose last bit differs from
  // the vector path, so writing into `out` directly would make the noise
  // depend on the heap address, hence on the thread.
  const long half = n / 2;
  U1 = R * TH.cos();
  U2 = R * TH.sin();
  std::copy(u1.data(), u1.data() + half, out);
  std::copy(u2.data(), u2.data() + (n - half), out + half);
}

template <class T>
void add_noise_impl(ImageView<T> stamp, const NoiseKernel& k, RandomStream& r) {
  const long ny = stamp.ny(), nx = stamp.nx();
  if (ny == 0 || nx == 0) return;
  const long py = ny + 2 * H, px = nx + 2 * H;
  thread_local std::vector<float> w, acc;
  w.resize(std::size_t(py * px));
  acc.resize(std::size_t(nx));
  fill_normals(r, w.data(), py * px);
  float kf[N * N];
  for (long i = 0; i < N * N; ++i) kf[i] = float(k.values().data()[i]);
  // n(y, x) = sum_{a,b} K(a, b) w(y + 3 - (a - 3), x + 3 - (b - 3)) in padded coordinates.
  for (long y = 0; y < ny; ++y) {
    float* __restrict row = acc.data();
    std::fill(row, row + nx, 0.0f);
    for (long a = 0; a < N; ++a) {
      const float* wrow = w.data() + (y + 2 * H - a) * px;
      for (long b = 0; b < N; ++b) {
        const float kv = kf[a * N + b];
        if (kv == 0) continue;
        const float* __restrict src = wrow + (2 * H - b);
        for (long x = 0; x < nx; ++x) row[x] += kv * src[x];
      }
    }
    T* out = stamp.row(y);
    for (long x = 0; x < nx; ++x) out[x] = static_cast<T>(out[x] + T(row[x]));
  }
}
}  // namespace

void add_correlated_noise(ImageView<float> stamp, const NoiseKernel& k, RandomStream& r) {
  add_noise_impl(stamp, k, r);
}
void add_correlated_noise(ImageView<double> stamp, const NoiseKernel& k, RandomStream& r) {
  add_noise_impl(stamp, k, r);
}

// ------------------------------------------------------------------ estimation

PatchCovariance background_covariance(ImageView<const float> image, ImageView<const unsigned char> mask, long step) {
  // Bounded above too: y0 += step must not overflow (a step beyond the image gives one patch row anyway).
  require(step >= 1 && step <= (1L << 30), "background_covariance: patch step must be in [1, 2^30], got " +
                                               std::to_string(step));
  const long ny = image.ny(), nx = image.nx();
  const bool has_mask = mask.size() > 0;
  if (has_mask)
    require(mask.ny() == ny && mask.nx() == nx, "background_covariance: mask is " + std::to_string(mask.ny()) + "x" +
                                                    std::to_string(mask.nx()) + " but the image is " +
                                                    std::to_string(ny) + "x" + std::to_string(nx));
  require(ny >= N && nx >= N, "background_covariance: image " + std::to_string(ny) + "x" + std::to_string(nx) +
                                  " is smaller than a 7x7 patch");
  // bad(y, x): pixel unusable. Column runs of usable pixels make the
  // "all 49 usable" test O(1) per patch: ok_run(y, x) = usable pixels in
  // column x from row y upwards (capped at 7), then 7 columns checked.
  std::vector<unsigned char> good(std::size_t(ny * nx));
  double sum = 0;
  long count = 0;
  for (long y = 0; y < ny; ++y)
    for (long x = 0; x < nx; ++x) {
      float v = image(y, x);
      bool g = std::isfinite(v) && (!has_mask || mask(y, x) == 0);
      good[std::size_t(y * nx + x)] = g;
    }
  // Rows-and-columns run lengths: vrun(y, x) = number of consecutive good pixels ending at (y, x) going down.
  std::vector<int> vrun(std::size_t(ny * nx));
  for (long y = 0; y < ny; ++y)
    for (long x = 0; x < nx; ++x) {
      std::size_t i = std::size_t(y * nx + x);
      vrun[i] = good[i] ? (y > 0 ? vrun[i - std::size_t(nx)] : 0) + 1 : 0;
    }
  std::vector<std::pair<long, long>> corners;  // (y0, x0) of usable patches
  for (long y0 = 0; y0 + N <= ny; y0 += step)
    for (long x0 = 0; x0 + N <= nx; x0 += step) {
      bool ok = true;
      const int* vr = vrun.data() + (y0 + N - 1) * nx;
      for (long x = x0; x < x0 + N && ok; ++x) ok = vr[x] >= N;
      if (ok) corners.emplace_back(y0, x0);
    }
  const long m = long(corners.size());
  if (m < 50)
    throw Error("background_covariance: only " + std::to_string(m) +
                " 7x7 patches free of sources and bad pixels (need at least 50)");
  for (auto [y0, x0] : corners)
    for (long a = 0; a < N; ++a)
      for (long b = 0; b < N; ++b) sum += image(y0 + a, x0 + b), ++count;
  const double mean = sum / double(count);

  PatchCovariance out;
  out.mean = mean;
  out.patches = m;
  out.sigma = Eigen::MatrixXd::Zero(N * N, N * N);
  const long batch = 256;
  Eigen::MatrixXd P(N * N, batch);
  for (long s = 0; s < m; s += batch) {
    long nb = std::min(batch, m - s);
    for (long j = 0; j < nb; ++j) {
      auto [y0, x0] = corners[std::size_t(s + j)];
      for (long a = 0; a < N; ++a)
        for (long b = 0; b < N; ++b) P(a * N + b, j) = double(image(y0 + a, x0 + b)) - mean;
    }
    out.sigma.selfadjointView<Eigen::Lower>().rankUpdate(P.leftCols(nb));
  }
  out.sigma = out.sigma.selfadjointView<Eigen::Lower>();
  out.sigma /= double(m - 1);
  return out;
}

NoiseKernel kernel_from_covariance(const Eigen::MatrixXd& sigma) {
  require(sigma.rows() == N * N && sigma.cols() == N * N,
          "kernel_from_covariance: covariance must be 49x49, got " + std::to_string(sigma.rows()) + "x" +
              std::to_string(sigma.cols()));
  require(sigma.allFinite(), "kernel_from_covariance: covariance has non-finite entries");
  Eigen::MatrixXd sym = 0.5 * (sigma + sigma.transpose());
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(sym);
  require(es.info() == Eigen::Success, "kernel_from_covariance: eigen-decomposition failed");
  Eigen::VectorXd root = es.eigenvalues().cwiseMax(0.0).cwiseSqrt();
  const long c = H * N + H;  // 24: the centre pixel
  // Row c of V diag(root) V^T.
  Eigen::VectorXd rowc = es.eigenvectors() * (root.asDiagonal() * es.eigenvectors().row(c).transpose());
  ImageD k(N, N);
  for (long i = 0; i < N * N; ++i) k.data()[i] = rowc(i);
  return NoiseKernel(k);
}

NoiseKernel estimate_noise_kernel(ImageView<const float> image, ImageView<const unsigned char> mask, long step) {
  return kernel_from_covariance(background_covariance(image, mask, step).sigma);
}

}  // namespace ds::img
