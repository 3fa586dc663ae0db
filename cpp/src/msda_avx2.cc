// AVX2 + FMA kernel (this file alone is compiled with -mavx2 -mfma). Dh = 8, 16, 24, 32 keep
// the whole sum in registers; other Dh sum into the output row, 8 lanes at a time with a
// masked tail.
#include <immintrin.h>

#include "msda_kernels.h"

namespace pavenet {
namespace {

template <int NV>
struct RegisterAcc {
  __m256 a[NV];
  RegisterAcc(float*, int64_t) {
    for (int j = 0; j < NV; ++j) a[j] = _mm256_setzero_ps();
  }
  void add(const float* v, float w) {
    const __m256 wv = _mm256_set1_ps(w);
    for (int j = 0; j < NV; ++j) a[j] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(v + 8 * j), a[j]);
  }
  void store(float* out) const {
    for (int j = 0; j < NV; ++j) _mm256_storeu_ps(out + 8 * j, a[j]);
  }
};

struct MemoryAcc {
  float* out;
  int64_t full;  // channels in whole 8-lane vectors
  int64_t tail;  // 0..7 channels left
  __m256i mask;
  MemoryAcc(float* o, int64_t dh) : out(o), full(dh - dh % 8), tail(dh % 8) {
    alignas(32) static const int32_t kLanes[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                    0,  0,  0,  0,  0,  0,  0,  0};
    mask = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kLanes + 8 - tail));
    for (int64_t c = 0; c < dh; ++c) out[c] = 0.0f;
  }
  void add(const float* v, float w) {
    const __m256 wv = _mm256_set1_ps(w);
    for (int64_t c = 0; c < full; c += 8) {
      _mm256_storeu_ps(out + c, _mm256_fmadd_ps(wv, _mm256_loadu_ps(v + c),
                                                _mm256_loadu_ps(out + c)));
    }
    if (tail) {  // masked lanes are neither read nor written: no over-read past the value
      const __m256 acc = _mm256_maskload_ps(out + full, mask);
      _mm256_maskstore_ps(out + full, mask,
                          _mm256_fmadd_ps(wv, _mm256_maskload_ps(v + full, mask), acc));
    }
  }
  void store(float*) const {}
};

}  // namespace

void msda_f32_forward__avx2(const MsdaProblem& p, int64_t row_begin, int64_t row_end) {
  switch (p.head_dim) {
    case 8: return msda_rows<RegisterAcc<1>>(p, row_begin, row_end);
    case 16: return msda_rows<RegisterAcc<2>>(p, row_begin, row_end);
    case 24: return msda_rows<RegisterAcc<3>>(p, row_begin, row_end);
    case 32: return msda_rows<RegisterAcc<4>>(p, row_begin, row_end);
    default: return msda_rows<MemoryAcc>(p, row_begin, row_end);
  }
}

}  // namespace pavenet
