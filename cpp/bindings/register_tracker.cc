// Tracker (OKS greedy assignment, time-based expiry) and OneEuroSmoother.
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "arrays.h"
#include "pavenet/tracker.h"

namespace pavenet::bindings {

void register_tracker(py::module_& m) {
  py::class_<Tracker>(m, "Tracker", "Per-stream OKS tracker with lifetimes in seconds.")
      .def(py::init([](double oks_threshold, double max_age_seconds, double min_new_score,
                       std::vector<float> sigmas) {
             return Tracker(TrackerOptions{oks_threshold, max_age_seconds, min_new_score,
                                           std::move(sigmas)});
           }),
           py::kw_only(), py::arg("oks_threshold") = 0.3, py::arg("max_age_seconds") = 1.0,
           py::arg("min_new_score") = 0.0, py::arg("sigmas") = std::vector<float>{})
      .def(
          "update",
          [](Tracker& t, double timestamp, const py::handle& kp_obj, const py::handle& sc_obj,
             const py::object& areas_obj) {
            auto kp = checked<float>(kp_obj, "keypoints", 3, "(N, K, 2)");
            auto sc = checked<float>(sc_obj, "scores", 1, "(N,)");
            const int64_t n = kp.shape(0), k = kp.shape(1);
            expect_dim(kp, 2, 2, "keypoints", "(N, K, 2)");
            expect_dim(sc, 0, n, "scores", "(N,) with N = len(keypoints)");
            py::array_t<float, py::array::c_style> areas;
            const float* areas_ptr = nullptr;
            if (!areas_obj.is_none()) {
              areas = checked<float>(areas_obj, "areas", 1, "(N,)");
              expect_dim(areas, 0, n, "areas", "(N,) with N = len(keypoints)");
              areas_ptr = areas.data();
            }
            // GIL held (light work): concurrent calls on one tracker cannot race on its tracks.
            const auto ids = t.update(timestamp, kp.data(), sc.data(), areas_ptr, n, k);
            return to_numpy(ids, {static_cast<py::ssize_t>(n)});
          },
          py::arg("timestamp"), py::arg("keypoints"), py::arg("scores"),
          py::arg("areas") = py::none(),
          "timestamp s, keypoints (N, K, 2) px, scores (N,), areas (N,) px^2 or None\n"
          "(keypoint extent) -> track ids (N,) int64 (-1: below min_new_score, untracked).")
      .def("active_ids",
           [](const Tracker& t) {
             auto ids = t.active_ids();
             return to_numpy(ids, {static_cast<py::ssize_t>(ids.size())});
           })
      .def("reset", &Tracker::reset);

  py::class_<OneEuroSmoother>(m, "OneEuroSmoother",
                              "Timestamp-aware One-Euro filters keyed by track id.")
      .def(py::init<double, double, double>(), py::kw_only(), py::arg("min_cutoff") = 1.0,
           py::arg("beta") = 0.0, py::arg("d_cutoff") = 1.0)
      .def(
          "smooth",
          [](OneEuroSmoother& s, double timestamp, const py::handle& ids_obj,
             const py::handle& kp_obj) {
            auto ids = checked<int64_t>(ids_obj, "track_ids", 1, "(N,)");
            auto kp = checked<float>(kp_obj, "keypoints", 3, "(N, K, 2)");
            const int64_t n = kp.shape(0), k = kp.shape(1);
            expect_dim(kp, 2, 2, "keypoints", "(N, K, 2)");
            expect_dim(ids, 0, n, "track_ids", "(N,) with N = len(keypoints)");
            py::array_t<float> out({static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(k),
                                    py::ssize_t{2}});
            // GIL held (light work): concurrent calls on one smoother cannot race on its state.
            s.smooth(timestamp, ids.data(), kp.data(), n, k, out.mutable_data());
            return out;
          },
          py::arg("timestamp"), py::arg("track_ids"), py::arg("keypoints"),
          "timestamp s, track_ids (N,) int64, keypoints (N, K, 2) -> smoothed (N, K, 2).")
      .def(
          "retain",
          [](OneEuroSmoother& s, const py::handle& ids_obj) {
            auto ids = checked<int64_t>(ids_obj, "track_ids", 1, "(N,)");
            s.retain(ids.data(), ids.shape(0));
          },
          py::arg("track_ids"), "Drop the state of every id not listed.")
      .def("reset", &OneEuroSmoother::reset)
      .def("__len__", &OneEuroSmoother::size);
}

}  // namespace pavenet::bindings
