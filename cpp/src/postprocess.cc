#include "pavenet/postprocess.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

namespace pavenet {
namespace {

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// Joint confidence factor of one axis from its predicted sigma, clamped to [0, 1].
float sigma_factor(float s) {
  const float f = 1.0f - std::exp(-0.2f / s);
  return f >= 0.0f ? std::min(f, 1.0f) : 0.0f;  // NaN and negative sigmas -> 0
}

}  // namespace

DecodedPoses decode_poses(const float* poses, const float* logits, const float* sigmas,
                          int64_t queries, int64_t joints, const Letterbox& lb, int64_t top_k,
                          float score_threshold) {
  if (queries < 0 || joints < 1) {
    throw std::invalid_argument("decode_poses: need M >= 0 queries and K >= 1 joints");
  }
  if (!(lb.scale > 0.0) || lb.in_w < 1 || lb.in_h < 1 || lb.orig_w < 1 || lb.orig_h < 1) {
    throw std::invalid_argument("decode_poses: letterbox must have scale > 0 and sizes >= 1");
  }
  std::vector<float> score(static_cast<size_t>(queries));
  std::vector<int64_t> order;
  for (int64_t m = 0; m < queries; ++m) {
    score[static_cast<size_t>(m)] = sigmoid(logits[m]);
    if (score[static_cast<size_t>(m)] >= score_threshold) order.push_back(m);  // drops NaN
  }
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return score[static_cast<size_t>(a)] > score[static_cast<size_t>(b)];
  });
  if (top_k >= 0 && static_cast<int64_t>(order.size()) > top_k) {
    order.resize(static_cast<size_t>(top_k));
  }

  DecodedPoses d;
  d.count = static_cast<int64_t>(order.size());
  d.joints = joints;
  const size_t n = order.size(), k = static_cast<size_t>(joints);
  d.keypoints.resize(n * k * 2);
  d.keypoint_scores.resize(n * k);
  d.scores.resize(n);
  d.boxes.resize(n * 4);
  d.indices = order;
  const double max_x = static_cast<double>(lb.orig_w), max_y = static_cast<double>(lb.orig_h);
  for (size_t i = 0; i < n; ++i) {
    const int64_t m = order[i];
    const float s = score[static_cast<size_t>(m)];
    d.scores[i] = s;
    float x1 = INFINITY, y1 = INFINITY, x2 = -INFINITY, y2 = -INFINITY;
    for (size_t j = 0; j < k; ++j) {
      const float* p = poses + (static_cast<size_t>(m) * k + j) * 2;
      const float* sg = sigmas + (static_cast<size_t>(m) * k + j) * 2;
      // model input [0, 1] -> input px -> original px, clamped to the image (NaN -> 0)
      const double px = (static_cast<double>(p[0]) * static_cast<double>(lb.in_w) - lb.pad_x) /
                        lb.scale;
      const double py = (static_cast<double>(p[1]) * static_cast<double>(lb.in_h) - lb.pad_y) /
                        lb.scale;
      const float x = static_cast<float>(px >= 0.0 ? std::min(px, max_x) : 0.0);
      const float y = static_cast<float>(py >= 0.0 ? std::min(py, max_y) : 0.0);
      d.keypoints[(i * k + j) * 2] = x;
      d.keypoints[(i * k + j) * 2 + 1] = y;
      d.keypoint_scores[i * k + j] = s * 0.7f * sigma_factor(sg[0]) * sigma_factor(sg[1]);
      x1 = std::min(x1, x), y1 = std::min(y1, y), x2 = std::max(x2, x), y2 = std::max(y2, y);
    }
    d.boxes[i * 4] = x1, d.boxes[i * 4 + 1] = y1, d.boxes[i * 4 + 2] = x2, d.boxes[i * 4 + 3] = y2;
  }
  return d;
}

}  // namespace pavenet
