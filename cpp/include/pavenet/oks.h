// Object keypoint similarity (COCO), shared by the tracker and OKS-NMS.
#pragma once

#include <cmath>
#include <cstddef>
#include <vector>

namespace pavenet {

// OKS of two (K, 2) poses: mean over joints of exp(-d^2 / (2 s^2 (2 sigma)^2)), where
// `area` = s^2 is the object scale in px^2 and K = sigmas.size().
inline double oks(const float* p, const float* q, const std::vector<float>& sigmas,
                  double area) {
  double sum = 0.0;
  for (size_t j = 0; j < sigmas.size(); ++j) {
    const double dx = static_cast<double>(p[2 * j]) - q[2 * j];
    const double dy = static_cast<double>(p[2 * j + 1]) - q[2 * j + 1];
    const double var = 4.0 * static_cast<double>(sigmas[j]) * sigmas[j];  // (2 sigma)^2
    sum += std::exp(-(dx * dx + dy * dy) / (2.0 * area * var));
  }
  return sum / static_cast<double>(sigmas.size());
}

}  // namespace pavenet
