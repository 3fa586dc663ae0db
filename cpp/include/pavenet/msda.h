// Multi-scale deformable attention forward (Deformable-DETR's op), float32, CPU and CUDA.
//
// Letters: B batch, S value tokens (sum of H_l * W_l), H heads, Dh channels per head,
// L levels (F frames x levels stacked), Q queries, P points per level.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pavenet {

// One forward call. Every array is dense, row-major (C order).
struct MsdaProblem {
  const float* value = nullptr;               // (B, S, H, Dh)
  const int64_t* spatial_shapes = nullptr;    // (L, 2) (H_l, W_l)
  const int64_t* level_start_index = nullptr; // (L,) first token of each level in S
  const float* sampling_locations = nullptr;  // (B, Q, H, L, P, 2) (x, y) in [0, 1]
  const float* attention_weights = nullptr;   // (B, Q, H, L, P)
  float* output = nullptr;                    // (B, Q, H * Dh)
  int64_t batch = 0, num_values = 0, heads = 0, head_dim = 0;
  int64_t levels = 0, queries = 0, points = 0;
};

// Throws std::invalid_argument unless the sizes are positive, every level is at least 1x1 and
// the level starts tile [0, S) exactly (this is what makes every kernel bounds-safe).
void msda_validate(const MsdaProblem& p);

// Validates, then runs the best kernel the CPU supports (or `isa` when not empty, or the one
// pinned by PAVENET_FORCE_ISA) on get_num_threads() threads. Sampling at pixel
// (x * W_l - 0.5, y * H_l - 0.5); corners outside the map and non-finite locations contribute 0.
void msda_f32_forward(const MsdaProblem& p, const std::string& isa = "");

// Kernels compiled into this build, in order of preference (always ends with "scalar").
std::vector<std::string> msda_compiled_isas();
// The subset of msda_compiled_isas() this CPU can run.
std::vector<std::string> msda_supported_isas();
// The kernel msda_f32_forward uses by default; honours PAVENET_FORCE_ISA. Throws
// std::invalid_argument when the forced ISA is unknown or unsupported here.
std::string msda_active_isa();

// Threads used by the CPU op (process-wide; default 1). n <= 0 means all hardware threads.
void set_num_threads(int n);
int get_num_threads();

// CUDA: built only with PAVENET_CUDA. The host-pointer entry point copies to the device,
// runs and copies back; any CUDA error throws std::runtime_error.
bool cuda_built();
int cuda_device_count();
void msda_f32_forward_cuda(const MsdaProblem& p);

}  // namespace pavenet
