// pavenet_sdk._core: the private native module. The public API is pavenet_sdk.native.
#include <pybind11/pybind11.h>

namespace py = pybind11;

namespace pavenet::bindings {
void register_msda(py::module_& m);
void register_window(py::module_& m);
void register_image(py::module_& m);
void register_tracker(py::module_& m);
}  // namespace pavenet::bindings

PYBIND11_MODULE(_core, m) {
  m.doc() = "pavenet-sdk native core (private; use pavenet_sdk.native)";
  pavenet::bindings::register_msda(m);
  pavenet::bindings::register_window(m);
  pavenet::bindings::register_image(m);
  pavenet::bindings::register_tracker(m);
}
