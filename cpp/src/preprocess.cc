#include "pavenet/preprocess.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace pavenet {
namespace {

// Source taps of one output coordinate, as cv2.resize(INTER_LINEAR) picks them: half-pixel
// centres, and positions before the first / after the last pixel clamp to the edge pixel.
struct Tap {
  int64_t i0, i1;
  float w1;  // weight of i1; i0 gets 1 - w1
};

std::vector<Tap> linear_taps(int64_t src, int64_t dst) {
  std::vector<Tap> taps(static_cast<size_t>(dst));
  const double ratio = static_cast<double>(src) / static_cast<double>(dst);
  for (int64_t d = 0; d < dst; ++d) {
    const double pos = (static_cast<double>(d) + 0.5) * ratio - 0.5;
    int64_t i0 = static_cast<int64_t>(std::floor(pos));
    double w1 = pos - static_cast<double>(i0);
    if (i0 < 0) i0 = 0, w1 = 0.0;
    if (i0 >= src - 1) i0 = src - 1, w1 = 0.0;
    taps[static_cast<size_t>(d)] = {i0, std::min(i0 + 1, src - 1), static_cast<float>(w1)};
  }
  return taps;
}

}  // namespace

Letterbox letterbox_normalize(const ImageU8& image, int64_t in_h, int64_t in_w, bool bgr_to_rgb,
                              const float mean[3], const float std[3], float* out) {
  if (image.height < 1 || image.width < 1 || image.data == nullptr) {
    throw std::invalid_argument("letterbox: image is empty (" + std::to_string(image.height) +
                                " x " + std::to_string(image.width) + ")");
  }
  if (in_h < 1 || in_w < 1) {
    throw std::invalid_argument("letterbox: output size must be >= 1, got " +
                                std::to_string(in_h) + " x " + std::to_string(in_w));
  }
  float inv_std[3], offset[3];
  for (int c = 0; c < 3; ++c) {
    if (!(std::isfinite(std[c]) && std[c] != 0.0f && std::isfinite(mean[c]))) {
      throw std::invalid_argument("letterbox: mean must be finite and std finite and non-zero");
    }
    inv_std[c] = 1.0f / std[c];
    offset[c] = -mean[c] * inv_std[c];
  }
  Letterbox lb;
  lb.in_w = in_w, lb.in_h = in_h, lb.orig_w = image.width, lb.orig_h = image.height;
  lb.scale = std::min(static_cast<double>(in_w) / static_cast<double>(image.width),
                      static_cast<double>(in_h) / static_cast<double>(image.height));
  const auto resized = [&](int64_t size, int64_t limit) {
    return std::clamp<int64_t>(std::llround(static_cast<double>(size) * lb.scale), 1, limit);
  };
  const int64_t new_w = resized(image.width, in_w), new_h = resized(image.height, in_h);
  lb.scale_x = static_cast<double>(new_w) / static_cast<double>(image.width);
  lb.scale_y = static_cast<double>(new_h) / static_cast<double>(image.height);
  const std::vector<Tap> xs = linear_taps(image.width, new_w);
  const std::vector<Tap> ys = linear_taps(image.height, new_h);

  const int64_t plane = in_h * in_w;
  for (int c = 0; c < 3; ++c) {
    const int64_t src_c = bgr_to_rgb ? 2 - c : c;
    const uint8_t* src = image.data + src_c * image.stride_c;
    float* dst = out + c * plane;
    for (int64_t y = 0; y < in_h; ++y) {
      float* row = dst + y * in_w;
      if (y >= new_h) {
        std::fill(row, row + in_w, 0.0f);  // padding = the mean, i.e. 0 once normalised
        continue;
      }
      const Tap ty = ys[static_cast<size_t>(y)];
      const uint8_t* r0 = src + ty.i0 * image.stride_y;
      const uint8_t* r1 = src + ty.i1 * image.stride_y;
      for (int64_t x = 0; x < new_w; ++x) {
        const Tap tx = xs[static_cast<size_t>(x)];
        const int64_t o0 = tx.i0 * image.stride_x, o1 = tx.i1 * image.stride_x;
        const float top = static_cast<float>(r0[o0]) +
                          tx.w1 * (static_cast<float>(r0[o1]) - static_cast<float>(r0[o0]));
        const float bottom = static_cast<float>(r1[o0]) +
                             tx.w1 * (static_cast<float>(r1[o1]) - static_cast<float>(r1[o0]));
        row[x] = (top + ty.w1 * (bottom - top)) * inv_std[c] + offset[c];
      }
      std::fill(row + new_w, row + in_w, 0.0f);
    }
  }
  return lb;
}

}  // namespace pavenet
