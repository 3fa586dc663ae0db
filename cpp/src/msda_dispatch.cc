// Validation, the kernel table (in order of preference), ISA selection and threading.
#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

#include "msda_kernels.h"
#include "parallel.h"

namespace pavenet {
namespace {

bool always() { return true; }
#if defined(PAVENET_HAVE_AVX2)
bool cpu_has_avx2_fma() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif

struct KernelEntry {
  const char* name;
  bool (*supported)();
  MsdaKernelFn fn;
};

// One table, best first; the scalar kernel is always last and always available.
const KernelEntry kKernels[] = {
#if defined(PAVENET_HAVE_AVX2)
    {"avx2", cpu_has_avx2_fma, msda_f32_forward__avx2},
#endif
#if defined(PAVENET_HAVE_NEON)
    {"neon", always, msda_f32_forward__neon},
#endif
    {"scalar", always, msda_f32_forward__scalar},
};

std::atomic<int> g_threads{1};

// Below this many samples (rows * H * L * P) starting threads costs more than it saves.
constexpr int64_t kMinSamplesPerThread = 16384;

const KernelEntry& find_kernel(const std::string& name) {
  std::string compiled;
  for (const auto& k : kKernels) {
    if (name == k.name) {
      if (!k.supported()) {
        throw std::invalid_argument("ms_deform_attn: ISA '" + name +
                                    "' is compiled in but this CPU does not support it");
      }
      return k;
    }
    compiled += std::string(compiled.empty() ? "" : ", ") + k.name;
  }
  throw std::invalid_argument("ms_deform_attn: unknown ISA '" + name +
                              "' (compiled: " + compiled + ")");
}

const KernelEntry& default_kernel() {
  const char* forced = std::getenv("PAVENET_FORCE_ISA");
  if (forced != nullptr && forced[0] != '\0') return find_kernel(forced);
  for (const auto& k : kKernels) {
    if (k.supported()) return k;
  }
  return kKernels[sizeof(kKernels) / sizeof(kKernels[0]) - 1];
}

constexpr int64_t kMaxSide = (int64_t{1} << 30);

std::string shape_str(int64_t a, int64_t b) {
  return "(" + std::to_string(a) + ", " + std::to_string(b) + ")";
}

}  // namespace

void msda_validate(const MsdaProblem& p) {
  if (p.batch < 1 || p.num_values < 1 || p.heads < 1 || p.head_dim < 1 || p.levels < 1 ||
      p.queries < 0 || p.points < 1) {
    throw std::invalid_argument("ms_deform_attn: B, S, H, Dh, L, P must be >= 1 and Q >= 0");
  }
  int64_t expected_start = 0;
  for (int64_t l = 0; l < p.levels; ++l) {
    const int64_t h = p.spatial_shapes[2 * l], w = p.spatial_shapes[2 * l + 1];
    const std::string where = "level " + std::to_string(l);
    // division instead of h * w so huge bogus shapes cannot overflow; sides fit in int32
    // because the kernels convert pixel positions to 32-bit cells
    if (h < 1 || w < 1 || h > p.num_values / w || h > kMaxSide || w > kMaxSide) {
      throw std::invalid_argument("ms_deform_attn: spatial_shapes[" + std::to_string(l) +
                                  "] = " + shape_str(h, w) +
                                  " must be in [1, 2^30] and fit in S = " +
                                  std::to_string(p.num_values));
    }
    if (p.level_start_index[l] != expected_start) {
      throw std::invalid_argument(
          "ms_deform_attn: level_start_index[" + std::to_string(l) + "] = " +
          std::to_string(p.level_start_index[l]) + " but the spatial shapes give " +
          std::to_string(expected_start) + " (" + where + " must follow the previous one)");
    }
    expected_start += h * w;
    if (expected_start > p.num_values) {
      throw std::invalid_argument("ms_deform_attn: value has S = " +
                                  std::to_string(p.num_values) +
                                  " tokens but the spatial shapes need at least " +
                                  std::to_string(expected_start));
    }
  }
  if (expected_start != p.num_values) {
    throw std::invalid_argument("ms_deform_attn: value has S = " + std::to_string(p.num_values) +
                                " tokens but the spatial shapes sum to " +
                                std::to_string(expected_start));
  }
}

void msda_f32_forward(const MsdaProblem& p, const std::string& isa) {
  msda_validate(p);
  const KernelEntry& kernel = isa.empty() ? default_kernel() : find_kernel(isa);
  const int64_t rows = p.batch * p.queries;
  const int64_t samples = rows * p.heads * p.levels * p.points;
  const int64_t by_work = std::max<int64_t>(1, samples / kMinSamplesPerThread);
  const int threads = static_cast<int>(std::min<int64_t>(get_num_threads(), by_work));
  parallel_for(rows, threads,
               [&](int64_t begin, int64_t end) { kernel.fn(p, begin, end); });
}

std::vector<std::string> msda_compiled_isas() {
  std::vector<std::string> out;
  for (const auto& k : kKernels) out.emplace_back(k.name);
  return out;
}

std::vector<std::string> msda_supported_isas() {
  std::vector<std::string> out;
  for (const auto& k : kKernels) {
    if (k.supported()) out.emplace_back(k.name);
  }
  return out;
}

std::string msda_active_isa() { return default_kernel().name; }

void set_num_threads(int n) {
  if (n <= 0) n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  g_threads.store(n);
}

int get_num_threads() { return g_threads.load(); }

#if !defined(PAVENET_WITH_CUDA)
bool cuda_built() { return false; }
int cuda_device_count() { return 0; }
void msda_f32_forward_cuda(const MsdaProblem&) {
  throw std::runtime_error("ms_deform_attn_cuda: this build has no CUDA support "
                           "(rebuild with PAVENET_CUDA=ON)");
}
#endif

}  // namespace pavenet
