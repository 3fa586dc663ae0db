// Scalar kernel: the portable fallback and the oracle the vector kernels are tested against.
#include "msda_kernels.h"

namespace pavenet {
namespace {

// Sums straight into the output row (it stays in L1 for the whole (b, q, h)).
struct ScalarAcc {
  float* out;
  int64_t dh;
  ScalarAcc(float* o, int64_t n) : out(o), dh(n) {
    for (int64_t c = 0; c < dh; ++c) out[c] = 0.0f;
  }
  void add(const float* v, float w) {
    for (int64_t c = 0; c < dh; ++c) out[c] += w * v[c];
  }
  void add4(const float* v0, float w0, const float* v1, float w1, const float* v2, float w2,
            const float* v3, float w3) {
    add(v0, w0), add(v1, w1), add(v2, w2), add(v3, w3);
  }
  void store(float*) const {}
};

}  // namespace

void msda_f32_forward__scalar(const MsdaProblem& p, int64_t row_begin, int64_t row_end) {
  msda_rows<ScalarAcc>(p, row_begin, row_end);
}

}  // namespace pavenet
