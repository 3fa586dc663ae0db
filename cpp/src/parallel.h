// Internal: a minimal parallel-for on std::thread (no global pool to tear down at exit).
#pragma once

#include <algorithm>
#include <cstdint>
#include <thread>
#include <vector>

namespace pavenet {
namespace {

// Splits [0, n) into `threads` contiguous chunks; the caller's thread runs the first one.
// `fn(begin, end)` must not throw.
template <class Fn>
void parallel_for(int64_t n, int threads, Fn fn) {
  const int64_t t = std::max<int64_t>(1, std::min<int64_t>(threads, n));
  if (t <= 1) {
    if (n > 0) fn(int64_t{0}, n);
    return;
  }
  std::vector<std::thread> workers;
  workers.reserve(static_cast<size_t>(t - 1));
  for (int64_t i = 1; i < t; ++i) {
    workers.emplace_back([=] { fn(n * i / t, n * (i + 1) / t); });
  }
  fn(int64_t{0}, n / t);
  for (auto& w : workers) w.join();
}

}  // namespace
}  // namespace pavenet
