// Post-processing of raw model outputs: sigmoid, threshold, top-k, joint confidence from the
// predicted sigmas, un-letterbox to original pixels, boxes from the keypoint extent and an
// optional OKS non-maximum suppression.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "pavenet/preprocess.h"

namespace pavenet {

struct DecodedPoses {
  int64_t count = 0, joints = 0;
  std::vector<float> keypoints;        // (N, K, 2) original px, clamped to the image (NaN: 0)
  std::vector<float> keypoint_scores;  // (N, K) in [0, 1]
  std::vector<float> scores;           // (N,) sigmoid(logit), descending
  std::vector<float> boxes;            // (N, 4) x1, y1, x2, y2 original px
  std::vector<int64_t> indices;        // (N,) selected query index in [0, M)
};

struct DecodeOptions {
  int64_t top_k = -1;           // keep at most this many people (< 0: no limit)
  float score_threshold = 0.0f;  // keep people with sigmoid(logit) >= this
  // OKS-NMS threshold (empty: off). Among the kept people, best first, a person whose OKS
  // with an already kept one exceeds it is dropped. OKS as the authors' oks_nms: per joint
  // exp(-d^2 / ((2 sigma)^2 * 2 * (a + b) / 2)), averaged over the K joints, where a and b
  // are the areas (w * h) of the two people's keypoint boxes in original px.
  std::optional<double> nms_oks;
  std::vector<float> oks_sigmas;  // (K,) per-joint OKS sigmas; required with nms_oks
};

// poses (M, K, 2) (x, y) in [0, 1] of the whole model input; logits (M,); sigmas (M, K, 2) in
// the same normalised units. Keeps queries with sigmoid(logit) >= score_threshold (NaN scores
// never), the top_k best, sorted by descending score (stable: ties keep query order), then
// applies OKS-NMS if asked. Pixels: x = (p_x * in_w - pad_x) / scale_x, y likewise with
// scale_y, clamped to the original image.
// keypoint score = score * 0.7 * (1 - exp(-0.2 / sx)) * (1 - exp(-0.2 / sy)); each factor is
// clamped to [0, 1] (sigma 0 gives 1, a negative or NaN sigma gives 0).
// Throws std::invalid_argument on bad sizes, a bad letterbox or bad NMS options.
DecodedPoses decode_poses(const float* poses, const float* logits, const float* sigmas,
                          int64_t queries, int64_t joints, const Letterbox& letterbox,
                          const DecodeOptions& options);

}  // namespace pavenet
