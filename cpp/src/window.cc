#include "pavenet/window.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace pavenet {

FrameWindow::FrameWindow(int64_t half_window) : T_(half_window) {
  if (half_window < 0 || half_window > 1000) {
    throw std::invalid_argument("FrameWindow: T must be in [0, 1000], got " +
                                std::to_string(half_window));
  }
  frames_.resize(static_cast<size_t>(window_size()));
}

int64_t FrameWindow::pending() const { return seen_ - emitted_; }

void FrameWindow::reset() {
  clear_stream();
  flushed_.clear();
  flushed_.shrink_to_fit();
}

void FrameWindow::clear_stream() {
  seen_ = emitted_ = 0;
  tokens_ = dim_ = 0;
  ring_.clear();
  ring_.shrink_to_fit();
  for (auto& f : frames_) f = WindowFrame{};
}

// Window centred on frame `centre` when frames [0, last] exist: index clamped to the stream.
WindowView FrameWindow::make_window(int64_t centre, int64_t last) const {
  WindowView v;
  const size_t frame_size = static_cast<size_t>(tokens_ * dim_);
  for (int64_t k = centre - T_; k <= centre + T_; ++k) {
    const int64_t f = std::clamp<int64_t>(k, 0, last);
    v.memories.push_back(ring_.data() + static_cast<size_t>(slot(f)) * frame_size);
    v.frame_indices.push_back(frames_[static_cast<size_t>(slot(f))].frame_index);
  }
  v.centre = frames_[static_cast<size_t>(slot(centre))];
  return v;
}

std::vector<WindowView> FrameWindow::push(const float* memory, int64_t tokens, int64_t dim,
                                          int64_t frame_index, double timestamp) {
  if (tokens < 1 || dim < 1) {
    throw std::invalid_argument("FrameWindow.push: memory must be (N, D) with N, D >= 1, got (" +
                                std::to_string(tokens) + ", " + std::to_string(dim) + ")");
  }
  if (seen_ == 0) {
    tokens_ = tokens;
    dim_ = dim;
    ring_.assign(static_cast<size_t>(window_size() * tokens * dim), 0.0f);
  } else if (tokens != tokens_ || dim != dim_) {
    throw std::invalid_argument(
        "FrameWindow.push: memory is (" + std::to_string(tokens) + ", " + std::to_string(dim) +
        ") but this stream's earlier frames are (" + std::to_string(tokens_) + ", " +
        std::to_string(dim_) + "); call reset() before changing the input size");
  }
  const int64_t f = seen_;
  const size_t frame_size = static_cast<size_t>(tokens_ * dim_);
  std::copy(memory, memory + frame_size, ring_.begin() + static_cast<long>(slot(f) * frame_size));
  WindowFrame& info = frames_[static_cast<size_t>(slot(f))];
  info.frame_index = frame_index;
  info.timestamp = timestamp;
  ++seen_;

  std::vector<WindowView> ready;
  if (f - T_ >= 0) {  // frame f completes the window centred T frames ago
    ready.push_back(make_window(f - T_, f));
    ++emitted_;
  }
  return ready;
}

std::vector<WindowView> FrameWindow::flush() {
  std::vector<WindowView> ready;
  const int64_t last = seen_ - 1;
  for (int64_t c = emitted_; c <= last; ++c) ready.push_back(make_window(c, last));
  // The views point into the ring: swapping keeps that allocation alive in flushed_.
  flushed_.swap(ring_);
  clear_stream();
  return ready;
}

}  // namespace pavenet
