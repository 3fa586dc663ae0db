// C++ tests of the native core without Python (cross-compilable): every compiled MSDA kernel
// against a double-precision oracle, plus window, pre/post-processing and tracking.
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "pavenet/msda.h"
#include "pavenet/postprocess.h"
#include "pavenet/preprocess.h"
#include "pavenet/tracker.h"
#include "pavenet/window.h"

namespace {

int g_failures = 0;

#define CHECK(cond)                                                   \
  do {                                                                \
    if (!(cond)) {                                                    \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++g_failures;                                                   \
    }                                                                 \
  } while (0)
#define CHECK_NEAR(a, b, tol) CHECK(std::fabs((a) - (b)) <= (tol))

template <class Fn>
bool throws_invalid(Fn fn) {
  try {
    fn();
  } catch (const std::invalid_argument&) {
    return true;
  }
  return false;
}

// ---- deformable attention ----

struct Msda {
  std::vector<int64_t> shapes, starts;
  std::vector<float> value, loc, attn, out;
  pavenet::MsdaProblem p;
};

Msda make_msda(int64_t B, int64_t Q, int64_t H, int64_t Dh, int64_t P,
               const std::vector<int64_t>& shapes, std::mt19937& rng) {
  Msda m;
  m.shapes = shapes;
  const int64_t L = static_cast<int64_t>(shapes.size() / 2);
  int64_t S = 0;
  for (int64_t l = 0; l < L; ++l) m.starts.push_back(S), S += shapes[2 * l] * shapes[2 * l + 1];
  std::normal_distribution<float> normal;
  std::uniform_real_distribution<float> loc(-0.3f, 1.3f), unit(0.0f, 1.0f);
  m.value.resize(static_cast<size_t>(B * S * H * Dh));
  for (auto& v : m.value) v = normal(rng);
  m.loc.resize(static_cast<size_t>(B * Q * H * L * P * 2));
  for (auto& v : m.loc) v = loc(rng);
  m.attn.resize(static_cast<size_t>(B * Q * H * L * P));
  for (auto& v : m.attn) v = unit(rng);
  m.out.assign(static_cast<size_t>(B * Q * H * Dh), -1.0f);
  m.p = pavenet::MsdaProblem{m.value.data(), m.shapes.data(), m.starts.data(), m.loc.data(),
                             m.attn.data(), m.out.data(), B, S, H, Dh, L, Q, P};
  return m;
}

// Independent oracle in double: bilinear over the four neighbours with explicit bounds.
std::vector<double> msda_oracle(const Msda& m) {
  const auto& p = m.p;
  std::vector<double> out(static_cast<size_t>(p.batch * p.queries * p.heads * p.head_dim), 0.0);
  for (int64_t b = 0; b < p.batch; ++b)
    for (int64_t q = 0; q < p.queries; ++q)
      for (int64_t h = 0; h < p.heads; ++h)
        for (int64_t l = 0; l < p.levels; ++l)
          for (int64_t k = 0; k < p.points; ++k) {
            const int64_t s = (((b * p.queries + q) * p.heads + h) * p.levels + l) * p.points + k;
            const int64_t lh = m.shapes[2 * l], lw = m.shapes[2 * l + 1];
            const double x = m.loc[2 * s] * static_cast<double>(lw) - 0.5;
            const double y = m.loc[2 * s + 1] * static_cast<double>(lh) - 0.5;
            const double fx = std::floor(x), fy = std::floor(y);
            for (int dy = 0; dy < 2; ++dy)
              for (int dx = 0; dx < 2; ++dx) {
                const int64_t xi = static_cast<int64_t>(fx) + dx;
                const int64_t yi = static_cast<int64_t>(fy) + dy;
                if (xi < 0 || yi < 0 || xi >= lw || yi >= lh) continue;
                const double w = (dx ? x - fx : 1 - (x - fx)) * (dy ? y - fy : 1 - (y - fy));
                const int64_t token = m.starts[static_cast<size_t>(l)] + yi * lw + xi;
                for (int64_t c = 0; c < p.head_dim; ++c) {
                  const size_t vi = static_cast<size_t>(((b * p.num_values + token) * p.heads + h) *
                                                            p.head_dim + c);
                  out[static_cast<size_t>(((b * p.queries + q) * p.heads + h) * p.head_dim + c)] +=
                      m.attn[static_cast<size_t>(s)] * w * m.value[vi];
                }
              }
          }
  return out;
}

// NaN counts as an infinite error. (Written as a plain loop with a NaN-aware compare: GCC 12
// for aarch64 crashes vectorising an fmax reduction here.)
double max_abs_diff(const std::vector<float>& got, const std::vector<double>& want) {
  double err = 0.0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double d = std::fabs(static_cast<double>(got[i]) - want[i]);
    if (!(d <= err)) err = std::isnan(d) ? INFINITY : d;
  }
  return err;
}

void test_msda_kernels() {
  std::mt19937 rng(1);
  const std::vector<std::vector<int64_t>> level_sets = {{1, 1}, {5, 7, 2, 3, 1, 1}, {6, 4}};
  for (const std::string& isa : pavenet::msda_supported_isas()) {
    for (int64_t dh : {1, 3, 4, 7, 8, 9, 16, 24, 31, 32, 33, 64}) {
      for (const auto& shapes : level_sets) {
        Msda m = make_msda(2, 5, 3, dh, 3, shapes, rng);
        pavenet::msda_f32_forward(m.p, isa);
        const std::vector<double> want = msda_oracle(m);
        const double err = max_abs_diff(m.out, want);
        if (err > 1e-5) std::fprintf(stderr, "isa %s Dh %lld: max err %g\n", isa.c_str(),
                                     static_cast<long long>(dh), err);
        CHECK(err <= 1e-5);
      }
    }
  }
}

void test_msda_threads_and_edges() {
  std::mt19937 rng(2);
  Msda m = make_msda(1, 3000, 4, 32, 4, {16, 16, 8, 8}, rng);
  pavenet::set_num_threads(1);
  pavenet::msda_f32_forward(m.p, "scalar");
  const std::vector<float> one = m.out;
  pavenet::set_num_threads(2);
  pavenet::msda_f32_forward(m.p, "scalar");
  CHECK(one == m.out);  // threads split rows only: bit-identical
  pavenet::set_num_threads(1);

  // NaN / inf / huge locations: no crash, no contribution
  Msda e = make_msda(1, 4, 1, 8, 1, {3, 3}, rng);
  const float bad[4] = {NAN, INFINITY, -INFINITY, 3e38f};
  for (int q = 0; q < 4; ++q) e.loc[static_cast<size_t>(2 * q)] = bad[q];
  for (const std::string& isa : pavenet::msda_supported_isas()) {
    pavenet::msda_f32_forward(e.p, isa);
    for (float v : e.out) CHECK(v == 0.0f);
  }
  // inconsistent level bookkeeping is rejected before any read
  Msda bad_start = make_msda(1, 2, 1, 4, 1, {2, 2, 1, 1}, rng);
  bad_start.starts[1] = 1000;
  CHECK(throws_invalid([&] { pavenet::msda_f32_forward(bad_start.p); }));
  Msda bad_shape = make_msda(1, 2, 1, 4, 1, {2, 2}, rng);
  bad_shape.shapes[0] = 3;
  CHECK(throws_invalid([&] { pavenet::msda_f32_forward(bad_shape.p); }));
  bad_shape.shapes[0] = -1;
  CHECK(throws_invalid([&] { pavenet::msda_f32_forward(bad_shape.p); }));
  bad_shape.shapes[0] = int64_t{1} << 62;
  CHECK(throws_invalid([&] { pavenet::msda_f32_forward(bad_shape.p); }));
  CHECK(throws_invalid([&] { pavenet::msda_f32_forward(m.p, "no-such-isa"); }));
}

// ---- window ----

void test_window() {
  const int64_t N = 3, D = 2;
  auto frame = [&](int v) { return std::vector<float>(N * D, static_cast<float>(v)); };
  auto slots = [&](const pavenet::WindowView& w) {
    std::vector<int> s;
    for (const float* m : w.memories) s.push_back(static_cast<int>(m[N * D - 1]));
    return s;
  };
  pavenet::FrameWindow win(1);
  CHECK(win.push(frame(0).data(), N, D, 100, 0.0).empty());
  auto r = win.push(frame(1).data(), N, D, 101, 0.1);
  CHECK(r.size() == 1 && slots(r[0]) == (std::vector<int>{0, 0, 1}));
  CHECK(r[0].centre.frame_index == 100 && r[0].centre.timestamp == 0.0);
  CHECK(r[0].frame_indices == (std::vector<int64_t>{100, 100, 101}));
  r = win.push(frame(2).data(), N, D, 102, 0.2);
  CHECK(r.size() == 1 && slots(r[0]) == (std::vector<int>{0, 1, 2}));
  r = win.push(frame(3).data(), N, D, 103, 0.3);
  CHECK(slots(r[0]) == (std::vector<int>{1, 2, 3}) && r[0].centre.frame_index == 102);
  CHECK(win.pending() == 1);
  CHECK(throws_invalid([&] { win.push(frame(4).data(), N + 1, D, 104, 0.4); }));
  r = win.flush();
  CHECK(r.size() == 1 && slots(r[0]) == (std::vector<int>{2, 3, 3}));
  CHECK(r[0].centre.timestamp == 0.3);
  CHECK(win.frames_seen() == 0);

  pavenet::FrameWindow two(2);  // a stream shorter than the window
  CHECK(two.push(frame(9).data(), N, D, 0, 0.0).empty());
  r = two.flush();
  CHECK(r.size() == 1 && slots(r[0]) == (std::vector<int>(5, 9)));
  pavenet::FrameWindow zero(0);
  r = zero.push(frame(5).data(), N, D, 0, 0.0);
  CHECK(r.size() == 1 && slots(r[0]) == (std::vector<int>{5}));
  CHECK(zero.flush().empty());
}

// ---- pre/post-processing ----

void test_letterbox() {
  // 2 x 4 BGR image into 4 x 4: scale 1, rows 2..3 padded
  std::vector<uint8_t> img(2 * 4 * 3);
  for (size_t i = 0; i < img.size(); ++i) img[i] = static_cast<uint8_t>(10 * i);
  pavenet::ImageU8 view{img.data(), 2, 4, 12, 3, 1};
  const float mean[3] = {1.0f, 2.0f, 3.0f}, std3[3] = {2.0f, 4.0f, 8.0f};
  std::vector<float> out(3 * 4 * 4, -99.0f);
  const auto lb = pavenet::letterbox_normalize(view, 4, 4, true, mean, std3, out.data());
  CHECK(lb.scale == 1.0 && lb.orig_w == 4 && lb.orig_h == 2 && lb.in_w == 4 && lb.pad_x == 0.0);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 4; ++x) {
        const float got = out[static_cast<size_t>((c * 4 + y) * 4 + x)];
        const size_t src = static_cast<size_t>(y * 12 + x * 3 + (2 - c));  // BGR -> RGB
        const float want = y < 2 ? (img[src] - mean[c]) / std3[c] : 0.0f;
        CHECK_NEAR(got, want, 1e-5);
      }
  // 4x downscale of a constant image stays constant; the scale is the smaller ratio
  std::vector<uint8_t> flat(8 * 16 * 3, 200);
  pavenet::ImageU8 fv{flat.data(), 8, 16, 48, 3, 1};
  std::vector<float> o2(3 * 4 * 4);
  const auto lb2 = pavenet::letterbox_normalize(fv, 4, 4, false, mean, std3, o2.data());
  CHECK(lb2.scale == 0.25 && lb2.scale_x == 0.25 && lb2.scale_y == 0.25);
  CHECK_NEAR(o2[0], (200 - 1.0f) / 2.0f, 1e-4);
  CHECK_NEAR(o2[2 * 4], 0.0f, 0.0f);  // row 2 is padding (image is 2 rows high)
  // 5 x 7 into 4 x 4: scale 4/7, resized 4 x round(2.857) = 3 px high, so the axes differ
  std::vector<uint8_t> odd(5 * 7 * 3, 9);
  pavenet::ImageU8 ov{odd.data(), 5, 7, 21, 3, 1};
  const auto lb3 = pavenet::letterbox_normalize(ov, 4, 4, false, mean, std3, o2.data());
  CHECK_NEAR(lb3.scale_x, 4.0 / 7.0, 1e-12);
  CHECK_NEAR(lb3.scale_y, 3.0 / 5.0, 1e-12);
  CHECK(throws_invalid([&] {
    pavenet::ImageU8 empty{flat.data(), 0, 16, 48, 3, 1};
    pavenet::letterbox_normalize(empty, 4, 4, false, mean, std3, o2.data());
  }));
}

void test_decode_poses() {
  // M = 3, K = 2; input 100 x 50 made from a 200 x 100 image (scale 0.5)
  const float poses[12] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.5f, 2.0f, 2.0f, 0.0f, 0.0f, 1.0f, 1.0f};
  const float logits[3] = {0.0f, 2.0f, -3.0f};
  const float sigmas[12] = {0.1f, 0.1f, 0.1f, 0.1f, 0.2f, 0.2f,
                            0.0f, -1.0f, 0.1f, 0.1f, 0.1f, 0.1f};
  pavenet::Letterbox lb{0.5, 0.0, 0.0, 100, 50, 200, 100, 0.5, 0.5};
  pavenet::DecodeOptions opt;
  opt.top_k = 2, opt.score_threshold = 0.1f;
  auto d = pavenet::decode_poses(poses, logits, sigmas, 3, 2, lb, opt);
  CHECK(d.count == 2 && d.indices[0] == 1 && d.indices[1] == 0);
  const float s1 = 1.0f / (1.0f + std::exp(-2.0f));
  CHECK_NEAR(d.scores[0], s1, 1e-6);
  CHECK_NEAR(d.keypoints[0], 100.0f, 1e-4);  // 0.5 * 100 / 0.5
  CHECK_NEAR(d.keypoints[1], 50.0f, 1e-4);
  CHECK_NEAR(d.keypoints[2], 200.0f, 1e-4);  // clamped to orig_w
  CHECK_NEAR(d.keypoints[3], 100.0f, 1e-4);  // clamped to orig_h
  const float f = 1.0f - std::exp(-1.0f);
  CHECK_NEAR(d.keypoint_scores[0], s1 * 0.7f * f * f, 1e-6);
  CHECK_NEAR(d.keypoint_scores[1], 0.0f, 0.0f);  // negative sigma: no confidence
  CHECK_NEAR(d.boxes[0], 100.0f, 1e-4);
  CHECK_NEAR(d.boxes[2], 200.0f, 1e-4);
  opt = pavenet::DecodeOptions{};
  CHECK(pavenet::decode_poses(poses, logits, sigmas, 3, 2, lb, opt).count == 3);
  opt.top_k = 0;
  CHECK(pavenet::decode_poses(poses, logits, sigmas, 3, 2, lb, opt).count == 0);

  // each axis maps back with its own ratio
  pavenet::Letterbox axes{0.5, 0.0, 0.0, 100, 50, 200, 100, 0.5, 0.25};
  d = pavenet::decode_poses(poses, logits, sigmas, 3, 2, axes, pavenet::DecodeOptions{});
  CHECK_NEAR(d.keypoints[0], 100.0f, 1e-4);  // x: 0.5 * 100 / 0.5
  CHECK_NEAR(d.keypoints[1], 100.0f, 1e-4);  // y: 0.5 * 50 / 0.25
  CHECK(throws_invalid([&] {
    pavenet::Letterbox unset{0.5, 0.0, 0.0, 100, 50, 200, 100};  // scale_x, scale_y left 0
    pavenet::decode_poses(poses, logits, sigmas, 3, 2, unset, pavenet::DecodeOptions{});
  }));
}

void test_oks_nms() {
  // three people (K = 2) in a 100 x 100 image: 0 and 1 nearly coincide, 2 is elsewhere
  const float poses[12] = {0.20f, 0.20f, 0.40f, 0.60f, 0.201f, 0.20f, 0.40f, 0.601f,
                           0.70f, 0.20f, 0.90f, 0.60f};
  const float logits[3] = {1.0f, 2.0f, 0.5f};
  std::vector<float> sigmas(12, 0.1f);
  pavenet::Letterbox lb{1.0, 0.0, 0.0, 100, 100, 100, 100, 1.0, 1.0};
  pavenet::DecodeOptions opt;
  opt.nms_oks = 0.45;
  opt.oks_sigmas = {0.079f, 0.079f};
  auto d = pavenet::decode_poses(poses, logits, sigmas.data(), 3, 2, lb, opt);
  CHECK(d.count == 2 && d.indices[0] == 1 && d.indices[1] == 2);  // 0 is 1's duplicate
  CHECK(d.keypoints.size() == 8 && d.boxes.size() == 8 && d.keypoint_scores.size() == 4);
  CHECK_NEAR(d.keypoints[4], 70.0f, 1e-4);
  opt.nms_oks = 1.0;  // OKS never exceeds 1: nothing is dropped
  CHECK(pavenet::decode_poses(poses, logits, sigmas.data(), 3, 2, lb, opt).count == 3);
  opt.nms_oks = 1.5;
  CHECK(throws_invalid([&] { pavenet::decode_poses(poses, logits, sigmas.data(), 3, 2, lb, opt); }));
  opt.nms_oks = 0.45;
  opt.oks_sigmas = {0.079f};  // K = 2 needs two sigmas
  CHECK(throws_invalid([&] { pavenet::decode_poses(poses, logits, sigmas.data(), 3, 2, lb, opt); }));
}

// ---- tracking ----

void test_tracker() {
  pavenet::Tracker tr(pavenet::TrackerOptions{0.5, 1.0, 0.0, {}});
  auto person = [](float x, float y) {
    return std::vector<float>{x, y, x + 20, y, x, y + 40, x + 20, y + 40};
  };
  std::vector<float> kp = person(0, 0), kp2 = person(200, 0);
  kp.insert(kp.end(), kp2.begin(), kp2.end());
  const float scores[2] = {0.9f, 0.8f};
  auto ids = tr.update(0.0, kp.data(), scores, nullptr, 2, 4);
  CHECK(ids[0] == 1 && ids[1] == 2);
  // both move 2 px, and swap order in the input
  std::vector<float> moved = person(202, 1), other = person(2, 1);
  moved.insert(moved.end(), other.begin(), other.end());
  ids = tr.update(0.1, moved.data(), scores, nullptr, 2, 4);
  CHECK(ids[0] == 2 && ids[1] == 1);
  // 1.5 s later both tracks have expired: new ids
  ids = tr.update(1.6, moved.data(), scores, nullptr, 2, 4);
  CHECK(ids[0] == 3 && ids[1] == 4);
  CHECK(throws_invalid([&] { tr.update(1.0, moved.data(), scores, nullptr, 2, 4); }));

  pavenet::OneEuroSmoother sm(1.0, 0.0, 1.0);
  const int64_t id = 7;
  float x[2] = {10.0f, 10.0f}, y[2];
  sm.smooth(0.0, &id, x, 1, 1, y);
  CHECK(y[0] == 10.0f);
  x[0] = 20.0f;
  sm.smooth(0.1, &id, x, 1, 1, y);
  CHECK(y[0] > 10.0f && y[0] < 20.0f);  // low-pass: moves part of the way
  const float first = y[0];
  sm.smooth(0.1, &id, x, 1, 1, y);
  CHECK(y[0] == first);  // same timestamp: unchanged
  sm.retain(nullptr, 0);
  CHECK(sm.size() == 0);
}

}  // namespace

int main() {
  const std::vector<std::pair<const char*, std::function<void()>>> tests = {
      {"msda_kernels", test_msda_kernels},
      {"msda_threads_and_edges", test_msda_threads_and_edges},
      {"window", test_window},
      {"letterbox", test_letterbox},
      {"decode_poses", test_decode_poses},
      {"oks_nms", test_oks_nms},
      {"tracker", test_tracker},
  };
  for (const auto& [name, fn] : tests) {
    const int before = g_failures;
    fn();
    std::printf("%s %s\n", g_failures == before ? "ok  " : "FAIL", name);
  }
  std::string isas;
  for (const auto& s : pavenet::msda_supported_isas()) isas += " " + s;
  std::printf("kernels tested:%s\n", isas.c_str());
  return g_failures == 0 ? 0 : 1;
}
