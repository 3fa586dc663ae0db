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

// Pixel position of normalised (x, y) on a w x h map: (x * w - 0.5, y * h - 0.5), as
// grid_sample(align_corners=False) computes it. Returns whether any corner can be inside the
// map; when not (including NaN/inf input) the position is replaced by a harmless in-range
// value, so later float -> int conversions are always defined. Branch-free: it vectorises.
PAVENET_HD bool sample_pixel(float x, float y, float w, float h, float& px, float& py) {
  px = x * w - 0.5f;
  py = y * h - 0.5f;
  // bitwise & (no short-circuit branches), false for NaN
  const bool inside = (px > -1.0f) & (py > -1.0f) & (px < w) & (py < h);
  px = inside ? px : -0.5f;
  py = inside ? py : -0.5f;
  return inside;
}

// Top-left corner (x0, y0) of the bilinear cell around (px, py) and the weights of the
// corners (y0, x0), (y0, x0 + 1), (y0 + 1, x0), (y0 + 1, x0 + 1). Needs px, py in (-1, 2^31).
PAVENET_HD void bilinear_cell(float px, float py, int32_t& x0, int32_t& y0, float weight[4]) {
  const float fx = floorf(px), fy = floorf(py);
  x0 = static_cast<int32_t>(fx);
  y0 = static_cast<int32_t>(fy);
  const float lx = px - fx, ly = py - fy;
  weight[0] = (1.0f - ly) * (1.0f - lx);
  weight[1] = (1.0f - ly) * lx;
  weight[2] = ly * (1.0f - lx);
  weight[3] = ly * lx;
}

// The four corners of one sample: token index inside the level, weight and whether the
// corner lies on the map (an outside corner has index 0 and weight 0: it contributes zero).
struct Corners {
  int64_t index[4];
  float weight[4];
  bool valid[4];
};

PAVENET_HD Corners bilinear_corners(float x, float y, int64_t h, int64_t w) {
  Corners c;
  float px, py;
  const bool inside = sample_pixel(x, y, static_cast<float>(w), static_cast<float>(h), px, py);
  int32_t x0, y0;
  bilinear_cell(px, py, x0, y0, c.weight);
  for (int i = 0; i < 4; ++i) {
    const int64_t cx = x0 + (i & 1), cy = y0 + (i >> 1);
    c.valid[i] = inside && cx >= 0 && cy >= 0 && cx < w && cy < h;
    c.index[i] = c.valid[i] ? cy * w + cx : 0;
    c.weight[i] = c.valid[i] ? c.weight[i] : 0.0f;
  }
  return c;
}

}  // namespace
}  // namespace pavenet
