// Letterbox pre-processing: uint8 HxWx3 image -> normalised float32 CHW model input.
#pragma once

#include <cstdint>

namespace pavenet {

// How a model input was made from an original image, so outputs can be mapped back:
// original_x = (input_x - pad_x) / scale_x and original_y = (input_y - pad_y) / scale_y.
// The resized size is rounded to whole pixels per axis, so scale_x = resized_w / orig_w and
// scale_y = resized_h / orig_h differ slightly from the nominal `scale` (and from each other).
struct Letterbox {
  double scale = 1.0;  // nominal ratio min(in_w / orig_w, in_h / orig_h)
  double pad_x = 0.0;  // px of padding left of the image in the model input (0: top-left)
  double pad_y = 0.0;  // px of padding above the image in the model input (0: top-left)
  int64_t in_w = 0, in_h = 0;      // model input size, px
  int64_t orig_w = 0, orig_h = 0;  // original image size, px
  double scale_x = 0.0;  // resized_w / orig_w: the x mapping (must be > 0)
  double scale_y = 0.0;  // resized_h / orig_h: the y mapping (must be > 0)
};

// A strided view of an 8-bit 3-channel image. Strides in bytes (may be any sign/order).
struct ImageU8 {
  const uint8_t* data = nullptr;
  int64_t height = 0, width = 0;
  int64_t stride_y = 0, stride_x = 0, stride_c = 0;
};

// Resizes (bilinear, half-pixel centres like cv2.resize INTER_LINEAR) to fit in_w x in_h
// keeping the aspect ratio (each side rounded to whole px), places the result at the top-left,
// pads right/bottom with the mean (0 after normalisation), optionally swaps BGR -> RGB, and
// writes (v - mean[c]) / std[c] into `out` (3, in_h, in_w). mean/std are in output channel
// order on the 0-255 scale. Throws std::invalid_argument on empty images, bad sizes or
// std == 0.
Letterbox letterbox_normalize(const ImageU8& image, int64_t in_h, int64_t in_w, bool bgr_to_rgb,
                              const float mean[3], const float std[3], float* out);

}  // namespace pavenet
