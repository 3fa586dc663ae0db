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

// The four bilinear corners of one sample, in the order (y0, x0), (y0, x0 + 1), (y0 + 1, x0),
// (y0 + 1, x0 + 1): token index inside the level and weight. Invalid corners (outside the
// map) have valid = false, index 0 and weight 0.
struct Corners {
  int64_t index[4];
  float weight[4];
  bool valid[4];
};

// Sample at normalised (x, y) of an h x w map, i.e. pixel (x * w - 0.5, y * h - 0.5): equal
// to grid_sample(align_corners=False, padding_mode="zeros"). A non-finite or far-away
// location yields no valid corner (never an out-of-bounds index, and the float -> int
// conversion only happens on small in-range numbers).
PAVENET_HD Corners bilinear_corners(float x, float y, int64_t h, int64_t w) {
  Corners c;
  for (int i = 0; i < 4; ++i) c.index[i] = 0, c.weight[i] = 0.0f, c.valid[i] = false;
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
  c.valid[0] = y0_in && x0_in, c.valid[1] = y0_in && x1_in;
  c.valid[2] = y1_in && x0_in, c.valid[3] = y1_in && x1_in;
  const int64_t top = y0 * w + x0;
  const int64_t index[4] = {top, top + 1, top + w, top + w + 1};
  const float weight[4] = {hy * hx, hy * lx, ly * hx, ly * lx};
  for (int i = 0; i < 4; ++i) {
    if (c.valid[i]) c.index[i] = index[i], c.weight[i] = weight[i];
  }
  return c;
}

}  // namespace
}  // namespace pavenet
