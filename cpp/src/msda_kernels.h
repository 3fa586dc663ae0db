// Internal: the CPU kernels and the loop they share. Each ISA file instantiates
// msda_rows<Acc>() with its own accumulators; dispatch picks a kernel at run time.
#pragma once

#include <cstdint>
#include <vector>

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

// For each (b, q, h): out[0:Dh] = sum over levels, points and corners of
// attention_weight * corner_weight * value_row[0:Dh]. `Acc` owns the Dh-vector sum:
// Acc(out, Dh) starts at zero, add4(row0, w0, ..., row3, w3) adds one sample's four corners,
// store() writes `out` once.
//
// Two passes per (b, q): first every head's corners (rows + weights), then the sums. The
// loads of the second pass have known addresses and no dependency on each other, so many
// cache misses are in flight at once (1.4x faster than one pass when locations are spread). Invalid corners read a zero row
// with weight 0: the sums are branch-free and never touch memory outside the value.
struct SampleRows {
  const float* row[4];
  float weight[4];
};

template <class Acc>
void msda_rows(const MsdaProblem& p, int64_t row_begin, int64_t row_end) {
  const int64_t H = p.heads, Dh = p.head_dim, L = p.levels, P = p.points;
  const int64_t token_stride = H * Dh;
  const std::vector<float> zeros(static_cast<size_t>(Dh), 0.0f);
  std::vector<SampleRows> samples(static_cast<size_t>(H * L * P));
  for (int64_t row = row_begin; row < row_end; ++row) {
    const int64_t b = row / p.queries;
    const float* value_b = p.value + b * p.num_values * token_stride;
    const float* loc = p.sampling_locations + row * H * L * P * 2;
    const float* attn = p.attention_weights + row * H * L * P;
    SampleRows* s = samples.data();
    for (int64_t h = 0; h < H; ++h) {
      for (int64_t l = 0; l < L; ++l) {
        const int64_t lh = p.spatial_shapes[2 * l], lw = p.spatial_shapes[2 * l + 1];
        const float* level = value_b + p.level_start_index[l] * token_stride + h * Dh;
        for (int64_t k = 0; k < P; ++k, loc += 2, ++attn, ++s) {
          const Corners c = bilinear_corners(loc[0], loc[1], lh, lw);
          for (int i = 0; i < 4; ++i) {
            s->row[i] = c.valid[i] ? level + c.index[i] * token_stride : zeros.data();
            s->weight[i] = *attn * c.weight[i];
          }
        }
      }
    }
    s = samples.data();
    for (int64_t h = 0; h < H; ++h) {
      float* out = p.output + (row * H + h) * Dh;
      Acc acc(out, Dh);
      for (int64_t i = 0; i < L * P; ++i, ++s) {
        acc.add4(s->row[0], s->weight[0], s->row[1], s->weight[1], s->row[2], s->weight[2],
                 s->row[3], s->weight[3]);
      }
      acc.store(out);
    }
  }
}

}  // namespace
}  // namespace pavenet
