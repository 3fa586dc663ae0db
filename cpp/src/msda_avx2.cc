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
  // Two independent pairs, then one add into the sum: the dependency chain through a[] is one
  // add per sample instead of four FMAs, so more corner loads overlap.
  void add4(const float* v0, float w0, const float* v1, float w1, const float* v2, float w2,
            const float* v3, float w3) {
    const __m256 w0v = _mm256_set1_ps(w0), w1v = _mm256_set1_ps(w1);
    const __m256 w2v = _mm256_set1_ps(w2), w3v = _mm256_set1_ps(w3);
    for (int j = 0; j < NV; ++j) {
      const __m256 top = _mm256_fmadd_ps(w1v, _mm256_loadu_ps(v1 + 8 * j),
                                         _mm256_mul_ps(w0v, _mm256_loadu_ps(v0 + 8 * j)));
      const __m256 bottom = _mm256_fmadd_ps(w3v, _mm256_loadu_ps(v3 + 8 * j),
                                            _mm256_mul_ps(w2v, _mm256_loadu_ps(v2 + 8 * j)));
      a[j] = _mm256_add_ps(a[j], _mm256_add_ps(top, bottom));
    }
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
  void add4(const float* v0, float w0, const float* v1, float w1, const float* v2, float w2,
            const float* v3, float w3) {
    add(v0, w0), add(v1, w1), add(v2, w2), add(v3, w3);
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
