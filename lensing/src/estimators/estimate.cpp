#include "deepshear/lensing/estimators/estimate.hpp"

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

}  // namespace ds::lens
