// ms_deform_attn (+ CUDA variant), ISA and thread controls, build_info().
#include <pybind11/stl.h>

#include <string>

#include "arrays.h"
#include "pavenet/msda.h"

#ifndef PAVENET_VERSION
#define PAVENET_VERSION "unknown"
#endif

namespace pavenet::bindings {
namespace {

using FArray = py::array_t<float, py::array::c_style>;
using IArray = py::array_t<int64_t, py::array::c_style>;

// Checks every shape against value's (B, S, H, Dh) and returns the output (B, Q, H * Dh).
py::array_t<float> run_msda(const py::handle& value_obj, const py::handle& shapes_obj,
                            const py::handle& starts_obj, const py::handle& loc_obj,
                            const py::handle& attn_obj, const std::string& isa, bool cuda) {
  FArray value = checked<float>(value_obj, "value", 4, "(B, S, H, Dh)");
  IArray shapes = checked<int64_t>(shapes_obj, "spatial_shapes", 2, "(L, 2)");
  IArray starts = checked<int64_t>(starts_obj, "level_start_index", 1, "(L,)");
  FArray loc = checked<float>(loc_obj, "sampling_locations", 6, "(B, Q, H, L, P, 2)");
  FArray attn = checked<float>(attn_obj, "attention_weights", 5, "(B, Q, H, L, P)");
  MsdaProblem p;
  p.batch = value.shape(0), p.num_values = value.shape(1);
  p.heads = value.shape(2), p.head_dim = value.shape(3);
  p.levels = shapes.shape(0), p.queries = loc.shape(1), p.points = loc.shape(4);
  expect_dim(shapes, 1, 2, "spatial_shapes", "(L, 2)");
  expect_dim(starts, 0, p.levels, "level_start_index", "(L,) with L = len(spatial_shapes)");
  const char* loc_shape = "(B, Q, H, L, P, 2) matching value (B, S, H, Dh) and spatial_shapes";
  expect_dim(loc, 0, p.batch, "sampling_locations", loc_shape);
  expect_dim(loc, 2, p.heads, "sampling_locations", loc_shape);
  expect_dim(loc, 3, p.levels, "sampling_locations", loc_shape);
  expect_dim(loc, 5, 2, "sampling_locations", loc_shape);
  const int64_t want[5] = {p.batch, p.queries, p.heads, p.levels, p.points};
  for (py::ssize_t d = 0; d < 5; ++d) {
    expect_dim(attn, d, want[d], "attention_weights",
               "(B, Q, H, L, P) matching sampling_locations");
  }
  py::array_t<float> out({p.batch, p.queries, p.heads * p.head_dim});
  p.value = value.data(), p.spatial_shapes = shapes.data(), p.level_start_index = starts.data();
  p.sampling_locations = loc.data(), p.attention_weights = attn.data();
  p.output = out.mutable_data();
  {
    py::gil_scoped_release release;
    if (cuda) {
      msda_f32_forward_cuda(p);
    } else {
      msda_f32_forward(p, isa);
    }
  }
  return out;
}

const char* compiler_name() {
#if defined(__clang__)
  return "clang " __clang_version__;
#elif defined(__GNUC__)
  return "gcc " __VERSION__;
#elif defined(_MSC_VER)
  return "msvc";
#else
  return "unknown";
#endif
}

py::dict build_info() {
  py::dict d;
  d["version"] = PAVENET_VERSION;
  d["compiler"] = compiler_name();
  d["isas_compiled"] = msda_compiled_isas();
  d["isas_supported"] = msda_supported_isas();
  try {
    d["isa"] = msda_active_isa();
  } catch (const std::invalid_argument& e) {
    d["isa"] = std::string("invalid PAVENET_FORCE_ISA: ") + e.what();
  }
  d["cuda"] = cuda_built();
  d["cuda_devices"] = cuda_device_count();
  d["threads"] = get_num_threads();
  d["openmp"] = false;
  return d;
}

}  // namespace

void register_msda(py::module_& m) {
  const char* doc =
      "Multi-scale deformable attention forward, float32.\n\n"
      "value (B, S, H, Dh), spatial_shapes (L, 2) int64 (H_l, W_l), level_start_index (L,)\n"
      "int64, sampling_locations (B, Q, H, L, P, 2) (x, y) in [0, 1], attention_weights\n"
      "(B, Q, H, L, P) -> (B, Q, H * Dh). Bilinear at pixel (x * W_l - 0.5, y * H_l - 0.5);\n"
      "out-of-map corners and non-finite locations contribute 0. `isa` pins a CPU kernel.";
  m.def(
      "ms_deform_attn",
      [](py::handle v, py::handle s, py::handle i, py::handle l, py::handle a,
         const std::string& isa) { return run_msda(v, s, i, l, a, isa, false); },
      py::arg("value"), py::arg("spatial_shapes"), py::arg("level_start_index"),
      py::arg("sampling_locations"), py::arg("attention_weights"), py::kw_only(),
      py::arg("isa") = "", doc);
  if (cuda_built()) {
    m.def(
        "ms_deform_attn_cuda",
        [](py::handle v, py::handle s, py::handle i, py::handle l, py::handle a) {
          return run_msda(v, s, i, l, a, "", true);
        },
        py::arg("value"), py::arg("spatial_shapes"), py::arg("level_start_index"),
        py::arg("sampling_locations"), py::arg("attention_weights"),
        "ms_deform_attn on the first CUDA device (host arrays in and out).");
  }
  m.def("has_cuda", &cuda_built, "True when this build includes the CUDA kernel.");
  m.def("cuda_device_count", &cuda_device_count, "Visible CUDA devices (0 without CUDA).");
  m.def("set_num_threads", &set_num_threads, py::arg("n"),
        "Threads of the CPU op (process-wide; n <= 0: all hardware threads).");
  m.def("get_num_threads", &get_num_threads);
  m.def("compiled_isas", &msda_compiled_isas, "CPU kernels in this build, best first.");
  m.def("supported_isas", &msda_supported_isas, "Compiled kernels this CPU can run.");
  m.def("active_isa", &msda_active_isa, "Kernel used by default (honours PAVENET_FORCE_ISA).");
  m.def("build_info", &build_info, "Version, compiler, ISAs, CUDA and threads of this build.");
}

}  // namespace pavenet::bindings
