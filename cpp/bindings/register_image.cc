// Pre-processing (letterbox) and post-processing (decode_poses).
#include <pybind11/stl.h>

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "arrays.h"
#include "pavenet/postprocess.h"
#include "pavenet/preprocess.h"

namespace pavenet::bindings {
namespace {

std::string repr(const Letterbox& lb) {
  return "Letterbox(scale=" + std::to_string(lb.scale) + ", pad_x=" + std::to_string(lb.pad_x) +
         ", pad_y=" + std::to_string(lb.pad_y) + ", in_w=" + std::to_string(lb.in_w) +
         ", in_h=" + std::to_string(lb.in_h) + ", orig_w=" + std::to_string(lb.orig_w) +
         ", orig_h=" + std::to_string(lb.orig_h) + ", scale_x=" + std::to_string(lb.scale_x) +
         ", scale_y=" + std::to_string(lb.scale_y) + ")";
}

// scale_x / scale_y left out (records made by hand, pickles of older versions): `scale`.
Letterbox make_letterbox(double scale, double pad_x, double pad_y, int64_t in_w, int64_t in_h,
                         int64_t orig_w, int64_t orig_h, std::optional<double> scale_x,
                         std::optional<double> scale_y) {
  return Letterbox{scale,  pad_x,  pad_y, in_w, in_h, orig_w, orig_h, scale_x.value_or(scale),
                   scale_y.value_or(scale)};
}

py::tuple letterbox(const py::handle& image_obj, int64_t out_h, int64_t out_w, bool bgr_to_rgb,
                    const std::array<float, 3>& mean, const std::array<float, 3>& std) {
  py::array image = as_array(image_obj, "image");
  if (!image.dtype().is(py::dtype::of<uint8_t>())) {
    throw py::type_error("image must have dtype uint8, got " + std::string(py::str(image.dtype())));
  }
  if (image.ndim() != 3 || image.shape(2) != 3) {
    throw py::value_error("image must be (H, W, 3) uint8, got shape " + shape_of(image));
  }
  if (image.shape(0) < 1 || image.shape(1) < 1) {
    throw py::value_error("image is empty: shape " + shape_of(image));
  }
  // a cap keeps the size arithmetic far from overflow and the allocation sane
  constexpr int64_t kMaxSide = 16384;
  if (out_h < 1 || out_w < 1 || out_h > kMaxSide || out_w > kMaxSide) {
    throw py::value_error("output size must be in [1, " + std::to_string(kMaxSide) + "], got " +
                          std::to_string(out_h) + " x " + std::to_string(out_w));
  }
  ImageU8 view;
  view.data = static_cast<const uint8_t*>(image.data());
  view.height = image.shape(0), view.width = image.shape(1);
  view.stride_y = image.strides(0), view.stride_x = image.strides(1);
  view.stride_c = image.strides(2);
  py::array_t<float> out({py::ssize_t{3}, static_cast<py::ssize_t>(out_h),
                          static_cast<py::ssize_t>(out_w)});
  float* dst = out.mutable_data();
  Letterbox lb;
  {
    py::gil_scoped_release release;
    lb = letterbox_normalize(view, out_h, out_w, bgr_to_rgb, mean.data(), std.data(), dst);
  }
  return py::make_tuple(out, lb);
}

py::tuple decode(const py::handle& poses_obj, const py::handle& logits_obj,
                 const py::handle& sigmas_obj, const Letterbox& lb, int64_t top_k,
                 float score_threshold, std::optional<double> nms_oks,
                 std::vector<float> oks_sigmas) {
  auto poses = checked<float>(poses_obj, "poses", 3, "(M, K, 2)");
  auto logits = checked<float>(logits_obj, "logits", 1, "(M,)");
  auto sigmas = checked<float>(sigmas_obj, "sigmas", 3, "(M, K, 2)");
  const int64_t M = poses.shape(0), K = poses.shape(1);
  expect_dim(poses, 2, 2, "poses", "(M, K, 2)");
  expect_dim(logits, 0, M, "logits", "(M,) with M = len(poses)");
  for (py::ssize_t d = 0; d < 3; ++d) {
    expect_dim(sigmas, d, poses.shape(d), "sigmas", "(M, K, 2) like poses");
  }
  DecodeOptions options{top_k, score_threshold, nms_oks, std::move(oks_sigmas)};
  DecodedPoses r;
  {
    py::gil_scoped_release release;
    r = decode_poses(poses.data(), logits.data(), sigmas.data(), M, K, lb, options);
  }
  const py::ssize_t n = r.count, k = K;
  return py::make_tuple(to_numpy(r.keypoints, {n, k, 2}), to_numpy(r.keypoint_scores, {n, k}),
                        to_numpy(r.scores, {n}), to_numpy(r.boxes, {n, 4}),
                        to_numpy(r.indices, {n}));
}

}  // namespace

void register_image(py::module_& m) {
  py::class_<Letterbox>(m, "Letterbox",
                        "How a model input was made: original_x = (input_x - pad_x) / scale_x,\n"
                        "original_y = (input_y - pad_y) / scale_y (scale: the nominal ratio).")
      .def(py::init(&make_letterbox), py::kw_only(), py::arg("scale"), py::arg("pad_x") = 0.0,
           py::arg("pad_y") = 0.0, py::arg("in_w"), py::arg("in_h"), py::arg("orig_w"),
           py::arg("orig_h"), py::arg("scale_x") = py::none(), py::arg("scale_y") = py::none())
      .def_readonly("scale", &Letterbox::scale)
      .def_readonly("pad_x", &Letterbox::pad_x)
      .def_readonly("pad_y", &Letterbox::pad_y)
      .def_readonly("in_w", &Letterbox::in_w)
      .def_readonly("in_h", &Letterbox::in_h)
      .def_readonly("orig_w", &Letterbox::orig_w)
      .def_readonly("orig_h", &Letterbox::orig_h)
      .def_readonly("scale_x", &Letterbox::scale_x)
      .def_readonly("scale_y", &Letterbox::scale_y)
      .def("__repr__", &repr)
      .def(py::pickle(
          [](const Letterbox& lb) {
            return py::make_tuple(lb.scale, lb.pad_x, lb.pad_y, lb.in_w, lb.in_h, lb.orig_w,
                                  lb.orig_h, lb.scale_x, lb.scale_y);
          },
          [](const py::tuple& t) {
            if (t.size() != 7 && t.size() != 9) {
              throw py::value_error("Letterbox: cannot unpickle a state of " +
                                    std::to_string(t.size()) + " fields");
            }
            std::optional<double> sx, sy;  // 7 fields: pickled before scale_x / scale_y
            if (t.size() == 9) sx = t[7].cast<double>(), sy = t[8].cast<double>();
            return make_letterbox(t[0].cast<double>(), t[1].cast<double>(), t[2].cast<double>(),
                                  t[3].cast<int64_t>(), t[4].cast<int64_t>(),
                                  t[5].cast<int64_t>(), t[6].cast<int64_t>(), sx, sy);
          }));

  m.def("letterbox", &letterbox, py::arg("image"), py::arg("out_h"), py::arg("out_w"),
        py::kw_only(), py::arg("bgr_to_rgb"), py::arg("mean"), py::arg("std"),
        "uint8 (H, W, 3) image (any strides) -> (float32 (3, out_h, out_w), Letterbox).\n"
        "Aspect-preserving bilinear resize at the top-left, padding = mean (0 once normalised).");
  m.def("decode_poses", &decode, py::arg("poses"), py::arg("logits"), py::arg("sigmas"),
        py::arg("letterbox"), py::kw_only(), py::arg("top_k") = -1,
        py::arg("score_threshold") = 0.0f, py::arg("nms_oks") = py::none(),
        py::arg("oks_sigmas") = std::vector<float>{},
        "poses (M, K, 2) in [0, 1] of the model input, logits (M,), sigmas (M, K, 2) ->\n"
        "(keypoints (N, K, 2) px, keypoint_scores (N, K), scores (N,), boxes (N, 4),\n"
        "indices (N,)). nms_oks (with oks_sigmas (K,)): OKS-NMS threshold, None: off.");
}

}  // namespace pavenet::bindings
