#!/usr/bin/env bash
# Builds the native core with AddressSanitizer + UndefinedBehaviorSanitizer and runs the C++
# tests (no Python needed). Any sanitizer report fails the run (-fno-sanitize-recover=all).
set -euo pipefail
cd "$(dirname "$0")/.."
build="${PAVENET_SAN_BUILD_DIR:-$(mktemp -d /tmp/pavenet-san.XXXXXX)}"
trap 'rm -rf "$build"' EXIT
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPAVENET_PYTHON=OFF \
  -DPAVENET_BUILD_TESTS=ON -DPAVENET_SANITIZERS=ON -DPAVENET_CUDA=OFF -DPAVENET_WERROR=ON
cmake --build "$build" --parallel 2
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# every compiled kernel, through the normal dispatch and pinned
(cd "$build" && ctest --output-on-failure)
PAVENET_FORCE_ISA=scalar "$build/pavenet_core_tests"
echo "sanitizers: clean"
