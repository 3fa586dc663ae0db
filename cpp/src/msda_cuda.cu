// CUDA kernel of the deformable-attention forward: one thread per output channel (b, q, h, c),
// as in Deformable-DETR, sharing the bilinear maths with the CPU kernels (msda_common.h).
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "msda_common.h"

namespace pavenet {
namespace {

void check_cuda(cudaError_t err, const char* what) {
  if (err != cudaSuccess) {
    throw std::runtime_error(std::string("ms_deform_attn_cuda: ") + what + ": " +
                             cudaGetErrorString(err));
  }
}

__global__ void msda_f32_forward_kernel(const float* value, const int64_t* shapes,
                                        const int64_t* starts, const float* locations,
                                        const float* weights, float* output, int64_t total,
                                        int64_t S, int64_t Q, int64_t H, int64_t Dh, int64_t L,
                                        int64_t P) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= total) return;
  const int64_t c = i % Dh;
  const int64_t bqh = i / Dh;  // (b * Q + q) * H + h
  const int64_t h = bqh % H;
  const int64_t b = bqh / H / Q;
  const float* v = value + (b * S * H + h) * Dh + c;
  const float* loc = locations + bqh * L * P * 2;
  const float* attn = weights + bqh * L * P;
  float acc = 0.0f;
  for (int64_t l = 0; l < L; ++l) {
    const int64_t lh = shapes[2 * l], lw = shapes[2 * l + 1], start = starts[l];
    for (int64_t k = 0; k < P; ++k, loc += 2, ++attn) {
      const Corners cn = bilinear_corners(loc[0], loc[1], lh, lw);
      for (int j = 0; j < 4; ++j) {
        if (cn.valid[j]) acc += *attn * cn.weight[j] * v[(start + cn.index[j]) * H * Dh];
      }
    }
  }
  output[i] = acc;
}

// Device buffer that frees itself, so every error path releases memory.
struct DeviceBuffer {
  void* ptr = nullptr;
  explicit DeviceBuffer(size_t bytes) { check_cuda(cudaMalloc(&ptr, bytes), "cudaMalloc"); }
  ~DeviceBuffer() { cudaFree(ptr); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
};

template <class T>
T* upload(DeviceBuffer& buf, const T* host, size_t count) {
  check_cuda(cudaMemcpy(buf.ptr, host, count * sizeof(T), cudaMemcpyHostToDevice),
             "copy to device");
  return static_cast<T*>(buf.ptr);
}

}  // namespace

bool cuda_built() { return true; }

int cuda_device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // no driver / no device: clear the sticky error and report none
    return 0;
  }
  return n;
}

void msda_f32_forward_cuda(const MsdaProblem& p) {
  msda_validate(p);
  if (cuda_device_count() < 1) throw std::runtime_error("ms_deform_attn_cuda: no CUDA device");
  const size_t value_n = static_cast<size_t>(p.batch * p.num_values * p.heads * p.head_dim);
  const size_t samples = static_cast<size_t>(p.batch * p.queries * p.heads * p.levels * p.points);
  const size_t out_n = static_cast<size_t>(p.batch * p.queries * p.heads * p.head_dim);
  const size_t levels = static_cast<size_t>(p.levels);
  if (out_n == 0) return;
  DeviceBuffer value(value_n * sizeof(float)), shapes(levels * 2 * sizeof(int64_t));
  DeviceBuffer starts(levels * sizeof(int64_t)), locations(samples * 2 * sizeof(float));
  DeviceBuffer weights(samples * sizeof(float)), output(out_n * sizeof(float));
  const int threads = 256;
  const int64_t blocks = (static_cast<int64_t>(out_n) + threads - 1) / threads;
  msda_f32_forward_kernel<<<static_cast<unsigned>(blocks), threads>>>(
      upload(value, p.value, value_n), upload(shapes, p.spatial_shapes, levels * 2),
      upload(starts, p.level_start_index, levels),
      upload(locations, p.sampling_locations, samples * 2),
      upload(weights, p.attention_weights, samples), static_cast<float*>(output.ptr),
      static_cast<int64_t>(out_n), p.num_values, p.queries, p.heads, p.head_dim, p.levels,
      p.points);
  check_cuda(cudaGetLastError(), "kernel launch");
  check_cuda(cudaMemcpy(p.output, output.ptr, out_n * sizeof(float), cudaMemcpyDeviceToHost),
             "copy to host");
}

}  // namespace pavenet
