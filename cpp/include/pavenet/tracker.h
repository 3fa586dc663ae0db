// Per-stream tracking: OKS-based greedy assignment with time-based track expiry, and a
// timestamp-aware One-Euro smoother bank keyed by track id.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace pavenet {

struct TrackerOptions {
  double oks_threshold = 0.3;     // a detection continues a track only if OKS >= this
  double max_age_seconds = 1.0;   // a track unmatched for longer than this is dropped
  double min_new_score = 0.0;     // detections below this score start no track (id -1)
  std::vector<float> sigmas;      // (K,) per-joint OKS sigmas; empty: 0.1 for every joint
};

class Tracker {
 public:
  explicit Tracker(TrackerOptions options);

  // keypoints (N, K, 2) px, scores (N,), areas (N,) px^2 or nullptr (area of the keypoint
  // extent). Timestamps (s) must not decrease (std::invalid_argument). Returns ids (N,).
  // Matching: all (detection, track) pairs with OKS >= threshold, sorted by OKS (ties: higher
  // score first), assigned greedily; unmatched detections get new ids (from 1).
  std::vector<int64_t> update(double timestamp, const float* keypoints, const float* scores,
                              const float* areas, int64_t count, int64_t joints);
  std::vector<int64_t> active_ids() const;
  void reset();

 private:
  struct Track {
    int64_t id;
    double last_seen;
    float area;
    std::vector<float> keypoints;  // (K, 2) at the last match
  };
  TrackerOptions opt_;
  std::vector<Track> tracks_;
  int64_t next_id_ = 1;
  double last_time_ = 0.0;
  bool has_time_ = false;
  int64_t joints_ = 0;
};

// One-Euro filter (Casiez et al. 2012) on every coordinate of every track's keypoints.
class OneEuroSmoother {
 public:
  OneEuroSmoother(double min_cutoff, double beta, double d_cutoff);

  // ids (N,), keypoints (N, K, 2) -> out (N, K, 2). A new id starts from its raw value; an
  // update at the same timestamp as the previous one returns the previous output; ids < 0
  // (untracked) pass through unchanged.
  // Timestamps of an id must not decrease (std::invalid_argument).
  void smooth(double timestamp, const int64_t* ids, const float* keypoints, int64_t count,
              int64_t joints, float* out);
  // Drops the state of every id not in `ids` (call with the tracker's active ids).
  void retain(const int64_t* ids, int64_t count);
  void reset() { states_.clear(); }
  int64_t size() const { return static_cast<int64_t>(states_.size()); }

 private:
  struct State {
    double time;
    std::vector<double> value, derivative;
  };
  double min_cutoff_, beta_, d_cutoff_;
  std::unordered_map<int64_t, State> states_;
};

}  // namespace pavenet
