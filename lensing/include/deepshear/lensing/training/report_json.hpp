// The JSON building blocks of the training and evaluation reports: numbers
// as the reports print them, and the calibration types as JSON objects.
// Objects keep their keys in insertion order (nlohmann::ordered_json).
#pragma once
#include <nlohmann/json.hpp>

#include "deepshear/lensing/calibration.hpp"

namespace ds::lens {

using Json = nlohmann::ordered_json;

// v as printed with the printf `format` (e.g. "%.6g", "%.3g", "%f") and read
// back, so the report carries the digits it always printed; null when v is
// not finite (JSON has no NaN).
Json json_printed(double v, const char* format = "%.6g");

// {"c1", "m1", "c2", "m2"} with 8 significant digits.
Json calibration_json(const Calibration& c);
// {"c", "c_err", "m", "m_err", "rms", "n"}: c, m and rms to 6 digits, errors to 3.
Json bias_fit_json(const BiasFit& b);

}  // namespace ds::lens
