#include "deepshear/lensing/estimators/estimate.hpp"

#include "deepshear/engine/error.hpp"

namespace ds::lens {

std::pair<std::string, std::string> flag_bit(int bit) {
  static const char* const names[kFlagBits][2] = {
      {"edge", "centroid at or beyond the stamp edge"},
      {"centroid", "centroid did not converge or moved too far"},
      {"non-finite", "NaN or infinite pixels in the stamp"},
      {"blank", "no signal: zero or negative total weight"},
      {"negative-size", "PSF-corrected size Ixx + Iyy <= 0"},
      {"big-e", "PSF-corrected ellipticity above the cut"},
      {"no-psf", "the PSF could not be measured"},
      {"cut", "not measured: the source failed a catalogue cut"}};
  require(bit >= 0 && bit < kFlagBits, "flag bit " + std::to_string(bit) + " is not defined");
  return {names[bit][0], names[bit][1]};
}

std::string describe_flags(std::uint32_t flags) {
  std::string out;
  for (int bit = 0; bit < kFlagBits; ++bit)
    if (flags & (1u << bit)) out += (out.empty() ? "" : "|") + flag_bit(bit).first;
  return out.empty() ? "ok" : out;
}

void calibrate(std::vector<ShearEstimate>& g, const Calibration& cal) {
  for (auto& v : g)
    if (!v.flags) {
      const auto c = cal.apply({v.g1, v.g2});
      v.g1 = c.real(), v.g2 = c.imag();
    }
}

void calibrate(std::vector<ShearEstimate>& g, const BinnedCalibration& cal, const std::vector<double>& q) {
  require(q.size() == g.size(), "calibrate: " + std::to_string(g.size()) + " estimates but " +
                                    std::to_string(q.size()) + " values of " + cal.quantity);
  for (std::size_t i = 0; i < g.size(); ++i)
    if (!g[i].flags) {
      const auto c = cal.apply({g[i].g1, g[i].g2}, q[i]);
      g[i].g1 = c.real(), g[i].g2 = c.imag();
    }
}

}  // namespace ds::lens
