#include "deepshear/lensing/training/report_json.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace ds::lens {

Json json_printed(double v, const char* format) {
  if (!std::isfinite(v)) return nullptr;
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return std::strtod(buf, nullptr);
}

Json calibration_json(const Calibration& c) {
  return Json{{"c1", json_printed(c.c1, "%.8g")},
              {"m1", json_printed(c.m1, "%.8g")},
              {"c2", json_printed(c.c2, "%.8g")},
              {"m2", json_printed(c.m2, "%.8g")}};
}

Json bias_fit_json(const BiasFit& b) {
  return Json{{"c", json_printed(b.c)},         {"c_err", json_printed(b.c_err, "%.3g")},
              {"m", json_printed(b.m)},         {"m_err", json_printed(b.m_err, "%.3g")},
              {"rms", json_printed(b.rms)},     {"n", b.n}};
}

}  // namespace ds::lens
