#include "pavenet/postprocess.h"

#include "pavenet/oks.h"

#include <algorithm>
#include <cmath>
#include <limits>
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

void check_inputs(int64_t queries, int64_t joints, const Letterbox& lb,
                  const DecodeOptions& opt) {
  if (queries < 0 || joints < 1) {
    throw std::invalid_argument("decode_poses: need M >= 0 queries and K >= 1 joints");
  }
  if (!(lb.scale > 0.0 && lb.scale_x > 0.0 && lb.scale_y > 0.0) || lb.in_w < 1 ||
      lb.in_h < 1 || lb.orig_w < 1 || lb.orig_h < 1) {
    throw std::invalid_argument(
        "decode_poses: letterbox must have scale, scale_x, scale_y > 0 and sizes >= 1");
  }
  if (!opt.nms_oks) return;
  if (!(*opt.nms_oks >= 0.0 && *opt.nms_oks <= 1.0)) {
    throw std::invalid_argument("decode_poses: nms_oks must be in [0, 1], got " +
                                std::to_string(*opt.nms_oks));
  }
  if (static_cast<int64_t>(opt.oks_sigmas.size()) != joints) {
    throw std::invalid_argument("decode_poses: nms_oks needs K = " + std::to_string(joints) +
                                " OKS sigmas, got " + std::to_string(opt.oks_sigmas.size()));
  }
  for (float s : opt.oks_sigmas) {
    if (!(s > 0.0f)) throw std::invalid_argument("decode_poses: OKS sigmas must be > 0");
  }
}

// Greedy OKS-NMS over people sorted best first: the kept rows of `d`, in order.
std::vector<size_t> oks_nms(const DecodedPoses& d, double threshold,
                            const std::vector<float>& sigmas) {
  const size_t n = static_cast<size_t>(d.count), k2 = static_cast<size_t>(d.joints) * 2;
  std::vector<double> area(n);
  for (size_t i = 0; i < n; ++i) {
    const float* b = d.boxes.data() + i * 4;
    area[i] = (static_cast<double>(b[2]) - b[0]) * (static_cast<double>(b[3]) - b[1]);
  }
  std::vector<bool> dropped(n, false);
  std::vector<size_t> kept;
  for (size_t i = 0; i < n; ++i) {
    if (dropped[i]) continue;
    kept.push_back(i);
    for (size_t j = i + 1; j < n; ++j) {
      // the authors' oks_iou: the mean of the two areas (plus epsilon) as the scale
      const double scale = 0.5 * (area[i] + area[j]) + std::numeric_limits<double>::epsilon();
      if (!dropped[j] &&
          oks(d.keypoints.data() + i * k2, d.keypoints.data() + j * k2, sigmas, scale) >
              threshold) {
        dropped[j] = true;
      }
    }
  }
  return kept;
}

// The rows `rows` of `d`, in that order.
DecodedPoses select(const DecodedPoses& d, const std::vector<size_t>& rows) {
  const size_t k = static_cast<size_t>(d.joints);
  DecodedPoses out;
  out.count = static_cast<int64_t>(rows.size());
  out.joints = d.joints;
  for (size_t r : rows) {
    out.keypoints.insert(out.keypoints.end(), d.keypoints.begin() + r * k * 2,
                         d.keypoints.begin() + (r + 1) * k * 2);
    out.keypoint_scores.insert(out.keypoint_scores.end(), d.keypoint_scores.begin() + r * k,
                               d.keypoint_scores.begin() + (r + 1) * k);
    out.scores.push_back(d.scores[r]);
    out.boxes.insert(out.boxes.end(), d.boxes.begin() + r * 4, d.boxes.begin() + (r + 1) * 4);
    out.indices.push_back(d.indices[r]);
  }
  return out;
}

}  // namespace

DecodedPoses decode_poses(const float* poses, const float* logits, const float* sigmas,
                          int64_t queries, int64_t joints, const Letterbox& lb,
                          const DecodeOptions& opt) {
  check_inputs(queries, joints, lb, opt);
  std::vector<float> score(static_cast<size_t>(queries));
  std::vector<int64_t> order;
  for (int64_t m = 0; m < queries; ++m) {
    score[static_cast<size_t>(m)] = sigmoid(logits[m]);
    if (score[static_cast<size_t>(m)] >= opt.score_threshold) order.push_back(m);  // drops NaN
  }
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return score[static_cast<size_t>(a)] > score[static_cast<size_t>(b)];
  });
  if (opt.top_k >= 0 && static_cast<int64_t>(order.size()) > opt.top_k) {
    order.resize(static_cast<size_t>(opt.top_k));
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
      // model input [0, 1] -> input px -> original px (each axis with its own resize
      // ratio), clamped to the image (NaN -> 0)
      const double px = (static_cast<double>(p[0]) * static_cast<double>(lb.in_w) - lb.pad_x) /
                        lb.scale_x;
      const double py = (static_cast<double>(p[1]) * static_cast<double>(lb.in_h) - lb.pad_y) /
                        lb.scale_y;
      const float x = static_cast<float>(px >= 0.0 ? std::min(px, max_x) : 0.0);
      const float y = static_cast<float>(py >= 0.0 ? std::min(py, max_y) : 0.0);
      d.keypoints[(i * k + j) * 2] = x;
      d.keypoints[(i * k + j) * 2 + 1] = y;
      d.keypoint_scores[i * k + j] = s * 0.7f * sigma_factor(sg[0]) * sigma_factor(sg[1]);
      x1 = std::min(x1, x), y1 = std::min(y1, y), x2 = std::max(x2, x), y2 = std::max(y2, y);
    }
    d.boxes[i * 4] = x1, d.boxes[i * 4 + 1] = y1, d.boxes[i * 4 + 2] = x2, d.boxes[i * 4 + 3] = y2;
  }
  if (opt.nms_oks && n > 1) {
    const std::vector<size_t> kept = oks_nms(d, *opt.nms_oks, opt.oks_sigmas);
    if (kept.size() < n) return select(d, kept);
  }
  return d;
}

}  // namespace pavenet
