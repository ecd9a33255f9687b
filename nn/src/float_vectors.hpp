// Internal to nn/: GCC/Clang vector-extension types of 16, 8 and 4 floats and
// their unaligned loads and stores, for the hand-blocked kernels
// (fused_conv.cpp, train_pass.cpp). The types never cross a library
// boundary, so files that include this silence -Wpsabi (GCC's note that their
// calling convention differs between instruction sets) before including it.
#pragma once

namespace ds::nn::simd {

typedef float v16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4)));  // for unaligned access
typedef float v8 __attribute__((vector_size(32)));
typedef float v8u __attribute__((vector_size(32), aligned(4)));
typedef float v4 __attribute__((vector_size(16)));
typedef float v4u __attribute__((vector_size(16), aligned(4)));

inline v16 load16(const float* p) { return *reinterpret_cast<const v16u*>(p); }
inline v8 load8(const float* p) { return *reinterpret_cast<const v8u*>(p); }
inline v4 load4(const float* p) { return *reinterpret_cast<const v4u*>(p); }
inline void store16(float* p, v16 v) { *reinterpret_cast<v16u*>(p) = v; }
inline void store8(float* p, v8 v) { *reinterpret_cast<v8u*>(p) = v; }
inline void store4(float* p, v4 v) { *reinterpret_cast<v4u*>(p) = v; }

}  // namespace ds::nn::simd
