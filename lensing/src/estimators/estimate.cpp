#include "deepshear/lensing/estimators/estimate.hpp"

#include "deepshear/engine/error.hpp"

namespace ds::lens {

std::string describe_flags(std::uint32_t flags) {
  static const std::pair<std::uint32_t, const char*> names[] = {
      {kFlagEdge, "edge"},          {kFlagCentroid, "centroid"},           {kFlagNonFinite, "non-finite"},
      {kFlagBlank, "blank"},        {kFlagNegativeSize, "negative-size"},  {kFlagBigEllipticity, "big-e"},
      {kFlagNoPsf, "no-psf"},     {kFlagCut, "cut"}};
  std::string out;
  for (const auto& [bit, name] : names)
    if (flags & bit) out += (out.empty() ? "" : "|") + std::string(name);
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
