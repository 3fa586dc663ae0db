// Internal: the CPU kernels and the loop they share. Each ISA file instantiates
// msda_rows<Acc>() with its own accumulators; dispatch picks a kernel at run time.
#pragma once

#include <cstddef>
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

// For each (b, q, h): out[0:Dh] = sum over levels, points and corners of
// attention_weight * corner_weight * value_row[0:Dh]. `Acc` owns the Dh-vector sum:
// Acc(out, Dh) starts at zero, add4(row0, w0, ..., row3, w3) adds one sample's four corners,
// store() writes `out` once.
//
// Two passes per (b, q): first every head's corners (rows + weights), then the sums. The
// loads of the second pass have known addresses and no dependency on each other, so many
// cache misses are in flight at once (1.4x faster than one pass when locations are spread).
// Invalid corners read a zero row with weight 0: the sums are branch-free and never touch
// memory outside the value.
struct SampleRows {
  const float* row[4];
  float weight[4];
};

// Zero-initialised scratch array. Not std::vector on purpose: a std template instantiated here
// would be an inline function shared by every ISA translation unit, and the linker could keep
// the AVX2-compiled copy for the scalar kernel too (SIGILL on CPUs without AVX2).
template <class T>
struct Scratch {
  T* data;
  explicit Scratch(size_t n) : data(new T[n]()) {}
  ~Scratch() { delete[] data; }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
};

template <class Acc>
void msda_rows(const MsdaProblem& p, int64_t row_begin, int64_t row_end) {
  const int64_t H = p.heads, Dh = p.head_dim, L = p.levels, P = p.points, LP = L * P;
  const int64_t token_stride = H * Dh;
  // Per sample of one head (the same for every head and row): its level's size and start.
  Scratch<float> fw(static_cast<size_t>(LP)), fh(static_cast<size_t>(LP));
  Scratch<int64_t> iw(static_cast<size_t>(LP)), ih(static_cast<size_t>(LP));
  Scratch<int64_t> start(static_cast<size_t>(LP));
  for (int64_t i = 0; i < LP; ++i) {
    const int64_t l = i / P;
    ih.data[i] = p.spatial_shapes[2 * l], iw.data[i] = p.spatial_shapes[2 * l + 1];
    fh.data[i] = static_cast<float>(ih.data[i]), fw.data[i] = static_cast<float>(iw.data[i]);
    start.data[i] = p.level_start_index[l];
  }
  const Scratch<float> zeros(static_cast<size_t>(Dh));
  Scratch<SampleRows> samples(static_cast<size_t>(H * LP));
  Scratch<int32_t> x0s(static_cast<size_t>(LP)), y0s(static_cast<size_t>(LP));
  Scratch<int32_t> inside(static_cast<size_t>(LP));
  Scratch<float> weights(static_cast<size_t>(4 * LP));
  for (int64_t row = row_begin; row < row_end; ++row) {
    const int64_t b = row / p.queries;
    const float* value_b = p.value + b * p.num_values * token_stride;
    SampleRows* s = samples.data;
    for (int64_t h = 0; h < H; ++h, s += LP) {
      const float* loc = p.sampling_locations + (row * H + h) * LP * 2;
      const float* attn = p.attention_weights + (row * H + h) * LP;
      // the bilinear maths of all L * P samples, branch-free so the compiler vectorises it
      for (int64_t i = 0; i < LP; ++i) {
        float px, py, wt[4];
        inside.data[i] = sample_pixel(loc[2 * i], loc[2 * i + 1], fw.data[i], fh.data[i], px, py);
        bilinear_cell(px, py, x0s.data[i], y0s.data[i], wt);
        for (int c = 0; c < 4; ++c) weights.data[4 * i + c] = wt[c] * attn[i];
      }
      // the rows to read (64-bit offsets); corners off the map read zeros with weight 0
      const float* head = value_b + h * Dh;
      for (int64_t i = 0; i < LP; ++i) {
        const int64_t x0 = x0s.data[i], y0 = y0s.data[i], w = iw.data[i];
        const bool x0_in = x0 >= 0, x1_in = x0 + 1 < w;
        const bool y0_in = y0 >= 0, y1_in = y0 + 1 < ih.data[i];
        const bool valid[4] = {y0_in && x0_in, y0_in && x1_in, y1_in && x0_in, y1_in && x1_in};
        const int64_t top = start.data[i] + y0 * w + x0;  // token of the (y0, x0) corner
        const int64_t token[4] = {top, top + 1, top + w, top + w + 1};
        for (int c = 0; c < 4; ++c) {
          const bool ok = inside.data[i] && valid[c];
          s[i].row[c] = ok ? head + token[c] * token_stride : zeros.data;
          s[i].weight[c] = ok ? weights.data[4 * i + c] : 0.0f;
        }
      }
    }
    s = samples.data;
    for (int64_t h = 0; h < H; ++h) {
      float* out = p.output + (row * H + h) * Dh;
      Acc acc(out, Dh);
      for (int64_t i = 0; i < LP; ++i, ++s) {
        acc.add4(s->row[0], s->weight[0], s->row[1], s->weight[1], s->row[2], s->weight[2],
                 s->row[3], s->weight[3]);
      }
      acc.store(out);
    }
  }
}

}  // namespace
}  // namespace pavenet
