// Internal: the CPU kernels and the loop they share. Each ISA file instantiates
// msda_rows<Acc>() with its own accumulators; dispatch picks a kernel at run time.
#pragma once

#include <cstdint>

#include "msda_common.h"

namespace pavenet {

// Processes the (b, q) rows [row_begin, row_end) of a validated problem.
using MsdaKernelFn = void (*)(const MsdaProblem&, int64_t row_begin, int64_t row_end);

void msda_f32_forward__scalar(const MsdaProblem& p, int64_t row_begin, int64_t row_end);
#if defined(PAVENET_HAVE_AVX2)
void msda_f32_forward__avx2(const MsdaProblem& p, int64_t row_begin, int64_t row_end);
#endif
#if defined(PAVENET_HAVE_NEON)
void msda_f32_forward__neon(const MsdaProblem& p, int64_t row_begin, int64_t row_end);
#endif

namespace {

// For each (b, q, h): out[0:Dh] = sum over levels, points and valid corners of
// attention_weight * corner_weight * value_row[0:Dh]. `Acc` owns the Dh-vector sum:
// Acc(out, Dh) starts at zero, add(row, w) accumulates one corner, add4(...) the four
// corners of one sample, store() writes `out` once.
template <class Acc>
void msda_rows(const MsdaProblem& p, int64_t row_begin, int64_t row_end) {
  const int64_t H = p.heads, Dh = p.head_dim, L = p.levels, P = p.points;
  const int64_t token_stride = H * Dh;
  for (int64_t row = row_begin; row < row_end; ++row) {
    const int64_t b = row / p.queries;
    const float* value_b = p.value + b * p.num_values * token_stride;
    for (int64_t h = 0; h < H; ++h) {
      const int64_t bqh = row * H + h;
      const float* loc = p.sampling_locations + bqh * L * P * 2;
      const float* attn = p.attention_weights + bqh * L * P;
      float* out = p.output + bqh * Dh;
      Acc acc(out, Dh);
      for (int64_t l = 0; l < L; ++l) {
        const int64_t lh = p.spatial_shapes[2 * l], lw = p.spatial_shapes[2 * l + 1];
        const float* level = value_b + p.level_start_index[l] * token_stride + h * Dh;
        for (int64_t k = 0; k < P; ++k, loc += 2, ++attn) {
          const Corners c = bilinear_corners(loc[0], loc[1], lh, lw);
          if (c.count == 4) {  // the common case: one call, so Acc can shorten the add chain
            acc.add4(level + c.index[0] * token_stride, *attn * c.weight[0],
                     level + c.index[1] * token_stride, *attn * c.weight[1],
                     level + c.index[2] * token_stride, *attn * c.weight[2],
                     level + c.index[3] * token_stride, *attn * c.weight[3]);
            continue;
          }
          for (int i = 0; i < c.count; ++i) {
            acc.add(level + c.index[i] * token_stride, *attn * c.weight[i]);
          }
        }
      }
      acc.store(out);
    }
  }
}

}  // namespace
}  // namespace pavenet
