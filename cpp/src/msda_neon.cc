// NEON kernel (aarch64, where NEON is always present). Dh = 4, 8, 16, 32 keep the whole sum in
// registers; other Dh sum into the output row, 4 lanes at a time with a scalar tail.
#include <arm_neon.h>

#include "msda_kernels.h"

namespace pavenet {
namespace {

template <int NV>
struct RegisterAcc {
  float32x4_t a[NV];
  RegisterAcc(float*, int64_t) {
    for (int j = 0; j < NV; ++j) a[j] = vdupq_n_f32(0.0f);
  }
  void add(const float* v, float w) {
    const float32x4_t wv = vdupq_n_f32(w);
    for (int j = 0; j < NV; ++j) a[j] = vfmaq_f32(a[j], wv, vld1q_f32(v + 4 * j));
  }
  // Two independent pairs, then one add into the sum: a shorter dependency chain through a[].
  void add4(const float* v0, float w0, const float* v1, float w1, const float* v2, float w2,
            const float* v3, float w3) {
    for (int j = 0; j < NV; ++j) {
      const float32x4_t top =
          vfmaq_n_f32(vmulq_n_f32(vld1q_f32(v0 + 4 * j), w0), vld1q_f32(v1 + 4 * j), w1);
      const float32x4_t bottom =
          vfmaq_n_f32(vmulq_n_f32(vld1q_f32(v2 + 4 * j), w2), vld1q_f32(v3 + 4 * j), w3);
      a[j] = vaddq_f32(a[j], vaddq_f32(top, bottom));
    }
  }
  void store(float* out) const {
    for (int j = 0; j < NV; ++j) vst1q_f32(out + 4 * j, a[j]);
  }
};

struct MemoryAcc {
  float* out;
  int64_t dh, full;
  MemoryAcc(float* o, int64_t n) : out(o), dh(n), full(n - n % 4) {
    for (int64_t c = 0; c < dh; ++c) out[c] = 0.0f;
  }
  void add(const float* v, float w) {
    const float32x4_t wv = vdupq_n_f32(w);
    for (int64_t c = 0; c < full; c += 4) {
      vst1q_f32(out + c, vfmaq_f32(vld1q_f32(out + c), wv, vld1q_f32(v + c)));
    }
    for (int64_t c = full; c < dh; ++c) out[c] += w * v[c];
  }
  void add4(const float* v0, float w0, const float* v1, float w1, const float* v2, float w2,
            const float* v3, float w3) {
    add(v0, w0), add(v1, w1), add(v2, w2), add(v3, w3);
  }
  void store(float*) const {}
};

}  // namespace

void msda_f32_forward__neon(const MsdaProblem& p, int64_t row_begin, int64_t row_end) {
  switch (p.head_dim) {
    case 4: return msda_rows<RegisterAcc<1>>(p, row_begin, row_end);
    case 8: return msda_rows<RegisterAcc<2>>(p, row_begin, row_end);
    case 16: return msda_rows<RegisterAcc<4>>(p, row_begin, row_end);
    case 32: return msda_rows<RegisterAcc<8>>(p, row_begin, row_end);
    default: return msda_rows<MemoryAcc>(p, row_begin, row_end);
  }
}

}  // namespace pavenet
