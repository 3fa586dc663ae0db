// FrameWindow: numpy front of the per-stream ring buffer of encoder memories.
#include <pybind11/stl.h>

#include <cstring>
#include <string>
#include <vector>

#include "arrays.h"
#include "pavenet/window.h"

namespace pavenet::bindings {
namespace {

// A ready window as Python sees it: its own copy of the F memories.
struct Window {
  py::array_t<float> memories;         // (F, N, D) float32, temporal order
  py::array_t<int64_t> frame_indices;  // (F,) frame index of each slot (repeats at the edges)
  int64_t frame_index;                 // centre frame
  double timestamp;                    // centre frame, s
};

std::vector<Window> to_python(const std::vector<WindowView>& views, int64_t tokens, int64_t dim) {
  std::vector<Window> out;
  const size_t frame = static_cast<size_t>(tokens * dim);
  for (const WindowView& v : views) {
    const auto frames = static_cast<py::ssize_t>(v.memories.size());
    py::array_t<float> mem({frames, static_cast<py::ssize_t>(tokens),
                            static_cast<py::ssize_t>(dim)});
    float* dst = mem.mutable_data();
    // The views point into the ring: copy with the GIL held (see push below).
    for (size_t f = 0; f < v.memories.size(); ++f) {
      std::memcpy(dst + f * frame, v.memories[f], frame * sizeof(float));
    }
    out.push_back(Window{mem, to_numpy(v.frame_indices, {frames}), v.centre.frame_index,
                         v.centre.timestamp});
  }
  return out;
}

}  // namespace

void register_window(py::module_& m) {
  py::class_<Window>(m, "Window", "A ready temporal window (centre frame + F memories).")
      .def_readonly("memories", &Window::memories, "(F, N, D) float32, temporal order")
      .def_readonly("frame_indices", &Window::frame_indices, "(F,) int64 frame index per slot")
      .def_readonly("frame_index", &Window::frame_index, "centre frame index")
      .def_readonly("timestamp", &Window::timestamp, "centre frame timestamp, s")
      .def("__repr__", [](const Window& w) {
        return "Window(frame_index=" + std::to_string(w.frame_index) +
               ", timestamp=" + std::to_string(w.timestamp) +
               ", memories=" + shape_of(w.memories) + ")";
      });

  py::class_<FrameWindow>(m, "FrameWindow",
                          "Ring buffer of 2T+1 per-frame encoder memories (N, D) float32.")
      .def(py::init<int64_t>(), py::arg("T"))
      .def(
          "push",
          [](FrameWindow& w, const py::handle& memory, int64_t frame_index, double timestamp) {
            auto mem = checked<float>(memory, "memory", 2, "(N, D)");
            // The GIL stays held: it serialises calls on one window, so using a window from
            // several threads cannot corrupt the ring (the work is one frame copy).
            const auto views =
                w.push(mem.data(), mem.shape(0), mem.shape(1), frame_index, timestamp);
            return to_python(views, w.tokens(), w.dim());
          },
          py::arg("memory"), py::arg("frame_index"), py::arg("timestamp"),
          "Add one frame; returns the windows it completes (0 or 1).")
      .def(
          "flush",
          [](FrameWindow& w) {
            const int64_t tokens = w.tokens(), dim = w.dim();
            return to_python(w.flush(), tokens, dim);
          },
          "End of stream: the remaining windows (last frame repeated), then reset.")
      .def("reset", &FrameWindow::reset, "Forget the stream.")
      .def_property_readonly("T", &FrameWindow::half_window)
      .def_property_readonly("window_size", &FrameWindow::window_size)
      .def_property_readonly("pending", &FrameWindow::pending,
                             "Frames pushed whose window is not out yet.")
      .def_property_readonly("frames_seen", &FrameWindow::frames_seen);
}

}  // namespace pavenet::bindings
