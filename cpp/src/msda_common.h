// Bilinear corner maths of the deformable-attention op, written once for the CPU kernels and
// the CUDA kernel. Internal linkage (anonymous namespace) on purpose: each ISA translation
// unit gets its own copy compiled with its own flags, so no AVX2 code leaks into scalar paths.
#pragma once

#include <cmath>
#include <cstdint>

#include "pavenet/msda.h"

#if defined(__CUDACC__)
#define PAVENET_HD __host__ __device__ __forceinline__
#else
#define PAVENET_HD inline
#endif

namespace pavenet {
namespace {

// The valid corners of one bilinear sample: token index inside its level and weight.
struct Corners {
  int64_t index[4];
  float weight[4];
  int count;
};

// Sample at normalised (x, y) of an h x w map, i.e. pixel (x * w - 0.5, y * h - 0.5): equal
// to grid_sample(align_corners=False, padding_mode="zeros"). Corners outside the map are
// dropped; a non-finite or far-away location yields no corner at all (never an out-of-bounds
// index, and the float -> int conversion only happens on small in-range numbers).
PAVENET_HD Corners bilinear_corners(float x, float y, int64_t h, int64_t w) {
  Corners c;
  c.count = 0;
  const float px = x * static_cast<float>(w) - 0.5f;
  const float py = y * static_cast<float>(h) - 0.5f;
  // Negated comparisons so NaN falls into the early return.
  if (!(px > -1.0f && py > -1.0f && px < static_cast<float>(w) && py < static_cast<float>(h))) {
    return c;
  }
  const float fx = floorf(px), fy = floorf(py);
  const int64_t x0 = static_cast<int64_t>(fx), y0 = static_cast<int64_t>(fy);
  const float lx = px - fx, ly = py - fy;
  const float hx = 1.0f - lx, hy = 1.0f - ly;
  const bool x0_in = x0 >= 0, x1_in = x0 + 1 < w, y0_in = y0 >= 0, y1_in = y0 + 1 < h;
  if (y0_in && x0_in) c.index[c.count] = y0 * w + x0, c.weight[c.count++] = hy * hx;
  if (y0_in && x1_in) c.index[c.count] = y0 * w + x0 + 1, c.weight[c.count++] = hy * lx;
  if (y1_in && x0_in) c.index[c.count] = (y0 + 1) * w + x0, c.weight[c.count++] = ly * hx;
  if (y1_in && x1_in) c.index[c.count] = (y0 + 1) * w + x0 + 1, c.weight[c.count++] = ly * lx;
  return c;
}

}  // namespace
}  // namespace pavenet
