// Per-stream ring buffer of per-frame encoder memories (N x D float32) for temporal windows.
//
// A window of F = 2T + 1 frames centred on frame t is ready once frame t + T has arrived.
// Boundary policy: at the start of a stream missing past frames are the first frame repeated;
// at flush() missing future frames are the last frame repeated. Memory: 2T + 1 frames.
#pragma once

#include <cstdint>
#include <vector>

namespace pavenet {

struct WindowFrame {
  int64_t frame_index = 0;
  double timestamp = 0.0;
};

// A ready window. `memories` are F pointers into the ring (temporal order, repeats allowed),
// valid until the next push/flush/reset; `centre` describes the centre frame.
struct WindowView {
  std::vector<const float*> memories;
  std::vector<int64_t> frame_indices;  // frame index of each slot, in temporal order
  WindowFrame centre;
};

class FrameWindow {
 public:
  explicit FrameWindow(int64_t half_window);

  // Copies `memory` (tokens x dim floats) into the ring. Throws std::invalid_argument when the
  // size differs from earlier frames of the stream. Returns 0 or 1 ready windows. Per-frame
  // state other than the memory (letterbox, image, timings) stays with the caller, keyed by
  // frame_index.
  std::vector<WindowView> push(const float* memory, int64_t tokens, int64_t dim,
                               int64_t frame_index, double timestamp);
  // End of stream: the remaining windows (their future frames repeat the last frame), then
  // the stream is reset.
  std::vector<WindowView> flush();
  void reset();

  int64_t half_window() const { return T_; }
  int64_t window_size() const { return 2 * T_ + 1; }
  int64_t tokens() const { return tokens_; }
  int64_t dim() const { return dim_; }
  int64_t frames_seen() const { return seen_; }
  // Frames pushed whose window has not been emitted yet.
  int64_t pending() const;

 private:
  WindowView make_window(int64_t centre, int64_t last) const;
  void clear_stream();
  int64_t slot(int64_t frame) const { return frame % window_size(); }

  int64_t T_;
  int64_t tokens_ = 0, dim_ = 0;
  int64_t seen_ = 0;     // frames pushed since the last reset
  int64_t emitted_ = 0;  // windows emitted since the last reset
  std::vector<float> ring_;
  std::vector<WindowFrame> frames_;
  std::vector<float> flushed_;  // keeps flush() views alive after the ring is reset
};

}  // namespace pavenet
