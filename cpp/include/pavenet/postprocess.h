// Post-processing of raw model outputs: sigmoid, threshold, top-k, joint confidence from the
// predicted sigmas, un-letterbox to original pixels and boxes from the keypoint extent.
#pragma once

#include <cstdint>
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

// poses (M, K, 2) (x, y) in [0, 1] of the whole model input; logits (M,); sigmas (M, K, 2) in
// the same normalised units. Keeps queries with sigmoid(logit) >= score_threshold (NaN scores
// never), the top_k best (top_k < 0: no limit), sorted by descending score (stable).
// keypoint score = score * 0.7 * (1 - exp(-0.2 / sx)) * (1 - exp(-0.2 / sy)); each factor is
// clamped to [0, 1] (sigma 0 gives 1, a negative or NaN sigma gives 0).
DecodedPoses decode_poses(const float* poses, const float* logits, const float* sigmas,
                          int64_t queries, int64_t joints, const Letterbox& letterbox,
                          int64_t top_k, float score_threshold);

}  // namespace pavenet
