// Metacalibration estimators (see metacal.hpp).
#include "deepshear/lensing/estimators/metacal.hpp"

#include <algorithm>
#include <cmath>
#include <memory>

#include "deepshear/engine/error.hpp"
#include "deepshear/engine/tensor.hpp"
#include "deepshear/imaging/metacal.hpp"
#include "deepshear/imaging/noise.hpp"
#include "deepshear/imaging/profile.hpp"

namespace ds::lens {

namespace {

constexpr std::uint64_t kFixnoiseSeed = 0x6d657461636e7a31ull;  // the fixnoise fields' seed
const char* kResponseNames[4] = {"R11", "R12", "R21", "R22"};

class MetacalShear : public ShearEstimator {
 public:
  MetacalShear(std::string base, const EstimatorSetup& s) : base_name_(std::move(base)), setup_(s) {
    if (!setup_.noise_kernel.empty()) kernel_ = img::NoiseKernel(setup_.noise_kernel);
    fixnoise_ = !setup_.noise_kernel.empty();
  }
  std::string name() const override { return "metacal-" + base_name_; }

  void set_psf(double fwhm, double pixel_scale) override {
    setup_.psf_fwhm = fwhm;
    setup_.pixel_scale = pixel_scale;
    op_.reset();
    base_.reset();
  }

  // stamps (n, N, N) -> e on noshear, R from the sheared pairs.
  EstimateBatch estimate(const Tensor& stamps) override {
    DS_REQUIRE(stamps.rank() == 3 && stamps.dim(1) == stamps.dim(2),
               name() + ": stamps must be square (n, N, N)");
    const long n = stamps.dim(0), N = stamps.dim(1), n2 = N * N;
    prepare(N);
    std::array<Tensor, img::kMetacalImages> images;
    std::array<float*, img::kMetacalImages> out;
    for (int i = 0; i < img::kMetacalImages; ++i) images[std::size_t(i)] = Tensor({n, N, N}), out[std::size_t(i)] = images[std::size_t(i)].data();
    Tensor noise;
    if (fixnoise_) {
      noise = Tensor({n, N, N});
#pragma omp parallel for schedule(static)
      for (long b = 0; b < n; ++b)
        img::metacal_noise_field(ImageView<float>(noise.data() + b * n2, N, N), kernel_, kFixnoiseSeed,
                                 img::stamp_key(stamps.data() + b * n2, n2));
    }
    op_->apply_split(stamps.data(), fixnoise_ ? noise.data() : nullptr, n, out);
    std::array<EstimateBatch, img::kMetacalImages> e;
    for (int i = 0; i < img::kMetacalImages; ++i) e[std::size_t(i)] = base_->estimate(images[std::size_t(i)]);
    return combine(e, n);
  }

  std::vector<std::array<std::string, 3>> header_cards() const override {
    std::vector<std::array<std::string, 3>> c = base_ ? base_->header_cards() : std::vector<std::array<std::string, 3>>{};
    c.push_back({"MCSTEP", std::to_string(kMetacalStep), "metacal: applied shear step"});
    if (op_) c.push_back({"MCPSF", std::to_string(op_->target_fwhm()), "metacal: target PSF Gaussian FWHM (arcsec)"});
    c.push_back({"MCNOISE", fixnoise_ ? "fixnoise" : "none", "metacal: noise treatment"});
    return c;
  }
  std::vector<std::pair<std::string, double>> parameters() const override {
    return base_ ? base_->parameters() : std::vector<std::pair<std::string, double>>{};
  }
  bool settled() const override { return base_ ? base_->settled() : base_name_ != "rrg"; }
  void fix_parameters(const std::vector<std::pair<std::string, double>>& values) override {
    fixed_ = values;
    if (base_) base_->fix_parameters(values);
  }

 private:
  // The operator and the base estimator for stamps of side N at the current PSF.
  void prepare(long N) {
    if (op_ && op_->size() == N) return;
    img::MetacalOptions o;
    o.size = N;
    o.scale = setup_.pixel_scale;
    o.step = kMetacalStep;
    o.fixnoise = fixnoise_;
    const auto psf = img::convolve({img::gaussian_fwhm(setup_.psf_fwhm), img::pixel(setup_.pixel_scale)});
    op_ = std::make_unique<img::MetacalOperator>(psf, o);
    EstimatorSetup b = setup_;
    b.psf_fwhm = op_->target_fwhm();
    base_ = make_estimator(base_name_, b, name());
    if (!fixed_.empty()) base_->fix_parameters(fixed_);
  }

  EstimateBatch combine(const std::array<EstimateBatch, img::kMetacalImages>& e, long n) const {
    EstimateBatch r;
    r.estimates = e[0].estimates;
    std::vector<double> R[4];
    const double h2 = 2 * kMetacalStep;
    for (long b = 0; b < n; ++b) {
      auto at = [&](int i) -> const ShearEstimate& { return e[std::size_t(i)].estimates[std::size_t(b)]; };
      for (int i = 1; i < img::kMetacalImages; ++i) r.estimates[std::size_t(b)].flags |= at(i).flags;
      R[0].push_back((at(img::k1p).g1 - at(img::k1m).g1) / h2);
      R[1].push_back((at(img::k2p).g1 - at(img::k2m).g1) / h2);
      R[2].push_back((at(img::k1p).g2 - at(img::k1m).g2) / h2);
      R[3].push_back((at(img::k2p).g2 - at(img::k2m).g2) / h2);
    }
    for (int j = 0; j < 4; ++j) r.extra.emplace_back(kResponseNames[j], std::move(R[j]));
    for (const auto& col : e[0].extra) r.extra.push_back(col);
    return r;
  }

  std::string base_name_;
  EstimatorSetup setup_;
  img::NoiseKernel kernel_;
  bool fixnoise_ = false;
  std::unique_ptr<img::MetacalOperator> op_;
  std::unique_ptr<ShearEstimator> base_;
  std::vector<std::pair<std::string, double>> fixed_;
};

const std::vector<double>* column(const EstimateBatch& b, const char* name) {
  for (const auto& [key, values] : b.extra)
    if (key == name) return &values;
  return nullptr;
}

}  // namespace

EstimatorKind metacal_estimator_kind(const EstimatorKind& b) {
  const std::string base = b.name;
  EstimatorKind k;
  k.name = "metacal-" + base;
  k.description = "metacalibration of " + base + ": e on the noshear image and its 2x2 response R per galaxy";
  k.needs = b.needs;
  k.needs.psf = true;
  k.needs.noise_kernel = true;
  k.self_calibrated = true;
  k.make = [base](const EstimatorSetup& s) { return std::make_unique<MetacalShear>(base, s); };
  return k;
}

bool has_response(const EstimateBatch& b) { return column(b, kResponseNames[0]) != nullptr; }

MeanResponse mean_response(const EstimateBatch& b) {
  const std::vector<double>* R[4];
  for (int j = 0; j < 4; ++j) {
    R[j] = column(b, kResponseNames[j]);
    DS_REQUIRE(R[j], std::string("metacal: the results have no ") + kResponseNames[j] + " column");
  }
  MeanResponse m;
  double s[4] = {0, 0, 0, 0};
  for (std::size_t i = 0; i < b.estimates.size(); ++i) {
    if (b.estimates[i].flags) continue;
    const double v[4] = {(*R[0])[i], (*R[1])[i], (*R[2])[i], (*R[3])[i]};
    if (!(std::isfinite(v[0]) && std::isfinite(v[1]) && std::isfinite(v[2]) && std::isfinite(v[3]))) continue;
    for (int j = 0; j < 4; ++j) s[j] += v[j];
    ++m.n;
  }
  if (m.n == 0) return m;
  m.r11 = s[0] / double(m.n), m.r12 = s[1] / double(m.n), m.r21 = s[2] / double(m.n), m.r22 = s[3] / double(m.n);
  return m;
}

// Each bin's stamps as one batch (estimates and the R columns only).
std::vector<ShearEstimate> divided_by_bin_response(const EstimateBatch& b, const std::vector<int>& bin, int bins) {
  DS_REQUIRE(bin.size() == b.estimates.size(), "metacal: one bin per stamp needed");
  std::vector<EstimateBatch> parts(std::size_t(std::max(bins, 0)));
  std::vector<std::vector<std::size_t>> where(parts.size());
  for (auto& p : parts)
    for (const char* name : kResponseNames) p.extra.emplace_back(name, std::vector<double>{});
  const std::vector<double>* R[4];
  for (int j = 0; j < 4; ++j) {
    R[j] = column(b, kResponseNames[j]);
    DS_REQUIRE(R[j], std::string("metacal: the results have no ") + kResponseNames[j] + " column");
  }
  for (std::size_t i = 0; i < bin.size(); ++i) {
    if (bin[i] < 0 || bin[i] >= bins) continue;
    auto& p = parts[std::size_t(bin[i])];
    p.estimates.push_back(b.estimates[i]);
    for (int j = 0; j < 4; ++j) p.extra[std::size_t(j)].second.push_back((*R[j])[i]);
    where[std::size_t(bin[i])].push_back(i);
  }
  std::vector<ShearEstimate> out = b.estimates;
  for (std::size_t k = 0; k < parts.size(); ++k) {
    if (mean_response(parts[k]).n == 0) continue;
    divide_by_mean_response(parts[k]);
    for (std::size_t t = 0; t < where[k].size(); ++t) out[where[k][t]] = parts[k].estimates[t];
  }
  return out;
}

MeanResponse divide_by_mean_response(EstimateBatch& b) {
  const MeanResponse m = mean_response(b);
  DS_REQUIRE(m.n > 0, "metacal: no stamp without flags to take the mean response from");
  const double det = m.r11 * m.r22 - m.r12 * m.r21;
  DS_REQUIRE(std::isfinite(det) && std::abs(det) > 1e-12, "metacal: the mean response is singular");
  for (auto& e : b.estimates) {
    if (e.flags) continue;
    const double g1 = (m.r22 * e.g1 - m.r12 * e.g2) / det, g2 = (-m.r21 * e.g1 + m.r11 * e.g2) / det;
    e.g1 = g1, e.g2 = g2;
  }
  return m;
}

}  // namespace ds::lens
