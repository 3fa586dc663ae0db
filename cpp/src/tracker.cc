#include "pavenet/tracker.h"

#include "pavenet/oks.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <tuple>

namespace pavenet {
namespace {

constexpr double kPi = 3.14159265358979323846;

float extent_area(const float* kp, int64_t joints) {
  float x1 = kp[0], x2 = kp[0], y1 = kp[1], y2 = kp[1];
  for (int64_t j = 1; j < joints; ++j) {
    x1 = std::min(x1, kp[2 * j]), x2 = std::max(x2, kp[2 * j]);
    y1 = std::min(y1, kp[2 * j + 1]), y2 = std::max(y2, kp[2 * j + 1]);
  }
  return (x2 - x1) * (y2 - y1);
}

}  // namespace

Tracker::Tracker(TrackerOptions options) : opt_(std::move(options)) {
  if (!(opt_.oks_threshold >= 0.0 && opt_.oks_threshold <= 1.0)) {
    throw std::invalid_argument("Tracker: oks_threshold must be in [0, 1]");
  }
  if (!(opt_.max_age_seconds >= 0.0)) {
    throw std::invalid_argument("Tracker: max_age_seconds must be >= 0");
  }
  for (float s : opt_.sigmas) {
    if (!(s > 0.0f)) throw std::invalid_argument("Tracker: OKS sigmas must be > 0");
  }
}

void Tracker::reset() {
  tracks_.clear();
  next_id_ = 1;
  has_time_ = false;
  joints_ = 0;
}

std::vector<int64_t> Tracker::active_ids() const {
  std::vector<int64_t> ids;
  for (const auto& t : tracks_) ids.push_back(t.id);
  return ids;
}

std::vector<int64_t> Tracker::update(double timestamp, const float* keypoints,
                                     const float* scores, const float* areas, int64_t count,
                                     int64_t joints) {
  if (!std::isfinite(timestamp)) throw std::invalid_argument("Tracker.update: bad timestamp");
  if (has_time_ && timestamp < last_time_) {
    throw std::invalid_argument("Tracker.update: timestamp " + std::to_string(timestamp) +
                                " s is before the previous one (" + std::to_string(last_time_) +
                                " s); timestamps must not decrease");
  }
  if (count < 0 || joints < 1) throw std::invalid_argument("Tracker.update: need K >= 1");
  if (!opt_.sigmas.empty() && static_cast<int64_t>(opt_.sigmas.size()) != joints) {
    throw std::invalid_argument("Tracker.update: keypoints have K = " + std::to_string(joints) +
                                " joints but " + std::to_string(opt_.sigmas.size()) +
                                " OKS sigmas were given");
  }
  if (joints_ != 0 && joints != joints_) {
    throw std::invalid_argument("Tracker.update: K changed from " + std::to_string(joints_) +
                                " to " + std::to_string(joints) + "; call reset() first");
  }
  joints_ = joints;
  if (opt_.sigmas.empty()) opt_.sigmas.assign(static_cast<size_t>(joints), 0.1f);
  has_time_ = true;
  last_time_ = timestamp;

  // tracks unmatched for longer than max_age are gone before matching
  tracks_.erase(std::remove_if(tracks_.begin(), tracks_.end(),
                               [&](const Track& t) {
                                 return timestamp - t.last_seen > opt_.max_age_seconds;
                               }),
                tracks_.end());

  const size_t kk = static_cast<size_t>(joints) * 2;
  std::vector<float> area(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    area[static_cast<size_t>(i)] = areas ? areas[i] : extent_area(keypoints + i * joints * 2,
                                                                 joints);
  }
  // (oks, score, detection, track) of every pair over the threshold, best first
  std::vector<std::tuple<double, float, int64_t, size_t>> pairs;
  for (int64_t i = 0; i < count; ++i) {
    for (size_t t = 0; t < tracks_.size(); ++t) {
      // the mean of both areas keeps OKS symmetric when the person changes size
      const double s2 = 0.5 * (static_cast<double>(area[static_cast<size_t>(i)]) +
                               tracks_[t].area);
      // a degenerate (single-point) box still compares: scale at least 1 px^2
      const double o = oks(keypoints + i * joints * 2, tracks_[t].keypoints.data(),
                           opt_.sigmas, std::max(s2, 1.0));
      if (o >= opt_.oks_threshold) pairs.emplace_back(o, scores[i], i, t);
    }
  }
  std::sort(pairs.begin(), pairs.end(), [](const auto& a, const auto& b) {
    if (std::get<0>(a) != std::get<0>(b)) return std::get<0>(a) > std::get<0>(b);
    if (std::get<1>(a) != std::get<1>(b)) return std::get<1>(a) > std::get<1>(b);
    return std::tie(std::get<2>(a), std::get<3>(a)) < std::tie(std::get<2>(b), std::get<3>(b));
  });
  std::vector<int64_t> ids(static_cast<size_t>(count), -1);
  std::vector<bool> track_used(tracks_.size(), false);
  for (const auto& [o, s, i, t] : pairs) {
    if (ids[static_cast<size_t>(i)] >= 0 || track_used[t]) continue;
    ids[static_cast<size_t>(i)] = tracks_[t].id;
    track_used[t] = true;
  }
  for (int64_t i = 0; i < count; ++i) {
    const float* kp = keypoints + i * joints * 2;
    int64_t& id = ids[static_cast<size_t>(i)];
    if (id < 0) {
      if (!(scores[i] >= opt_.min_new_score)) continue;  // stays -1: too weak to start a track
      id = next_id_++;
      tracks_.push_back(Track{id, timestamp, area[static_cast<size_t>(i)],
                              std::vector<float>(kp, kp + kk)});
      continue;
    }
    for (auto& t : tracks_) {
      if (t.id == id) {
        t.last_seen = timestamp;
        t.area = area[static_cast<size_t>(i)];
        t.keypoints.assign(kp, kp + kk);
      }
    }
  }
  return ids;
}

OneEuroSmoother::OneEuroSmoother(double min_cutoff, double beta, double d_cutoff)
    : min_cutoff_(min_cutoff), beta_(beta), d_cutoff_(d_cutoff) {
  if (!(min_cutoff > 0.0) || !(beta >= 0.0) || !(d_cutoff > 0.0)) {
    throw std::invalid_argument("OneEuroSmoother: need min_cutoff > 0, beta >= 0, d_cutoff > 0");
  }
}

void OneEuroSmoother::smooth(double timestamp, const int64_t* ids, const float* keypoints,
                             int64_t count, int64_t joints, float* out) {
  if (!std::isfinite(timestamp)) throw std::invalid_argument("OneEuroSmoother: bad timestamp");
  const size_t n = static_cast<size_t>(joints) * 2;
  // smoothing factor of an exponential filter with this cutoff (Hz) over dt seconds
  auto alpha = [](double cutoff, double dt) {
    const double tau = 1.0 / (2.0 * kPi * cutoff);
    return 1.0 / (1.0 + tau / dt);
  };
  for (int64_t i = 0; i < count; ++i) {
    const float* x = keypoints + static_cast<size_t>(i) * n;
    float* y = out + static_cast<size_t>(i) * n;
    if (ids[i] < 0) {  // untracked detection: nothing to smooth against
      std::copy(x, x + n, y);
      continue;
    }
    auto it = states_.find(ids[i]);
    if (it == states_.end() || it->second.value.size() != n) {
      State s{timestamp, std::vector<double>(x, x + n), std::vector<double>(n, 0.0)};
      states_[ids[i]] = std::move(s);
      std::copy(x, x + n, y);
      continue;
    }
    State& s = it->second;
    const double dt = timestamp - s.time;
    if (dt < 0.0) {
      throw std::invalid_argument("OneEuroSmoother: timestamp went back for track " +
                                  std::to_string(ids[i]));
    }
    if (dt > 0.0) {
      const double a_d = alpha(d_cutoff_, dt);
      for (size_t j = 0; j < n; ++j) {
        const double dx = (static_cast<double>(x[j]) - s.value[j]) / dt;
        s.derivative[j] += a_d * (dx - s.derivative[j]);
        const double a = alpha(min_cutoff_ + beta_ * std::fabs(s.derivative[j]), dt);
        s.value[j] += a * (static_cast<double>(x[j]) - s.value[j]);
      }
      s.time = timestamp;
    }
    for (size_t j = 0; j < n; ++j) y[j] = static_cast<float>(s.value[j]);
  }
}

void OneEuroSmoother::retain(const int64_t* ids, int64_t count) {
  std::unordered_map<int64_t, State> kept;
  for (int64_t i = 0; i < count; ++i) {
    auto it = states_.find(ids[i]);
    if (it != states_.end()) kept.emplace(it->first, std::move(it->second));
  }
  states_.swap(kept);
}

}  // namespace pavenet
