// Mathematical constants shared by every module.
#pragma once

namespace ds {

// pi to double precision (the value of M_PI, without relying on <cmath>'s
// non-standard macro).
inline constexpr double kPi = 3.14159265358979323846;

}  // namespace ds
