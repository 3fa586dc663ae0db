#!/usr/bin/env bash
# Cross-compiles the native core's C++ tests for aarch64 (NEON kernel) and runs them under
# qemu-user: every compiled MSDA kernel (neon, scalar) is checked against a double-precision
# oracle, plus window, letterbox, decode and tracker tests. No Python needed.
# Installs the Debian cross toolchain and qemu when missing (CI runs as root on a fresh
# machine). Usage: bash .ci/aarch64.sh [output-log]; exits non-zero on any failure.
# Environment: PAVENET_AARCH64_BUILD_DIR (keep the build there), PAVENET_AARCH64_BUILD_TYPE
# (default Release).
set -euo pipefail
cd "$(dirname "$0")/.."
log="${1:-}"
sysroot=/usr/aarch64-linux-gnu

need=()
command -v aarch64-linux-gnu-g++ >/dev/null || need+=(g++-aarch64-linux-gnu)
command -v qemu-aarch64 >/dev/null || need+=(qemu-user)
command -v cmake >/dev/null || need+=(cmake)
command -v make >/dev/null || need+=(make)
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "aarch64: missing ${need[*]}; run as root or install them (apt-get install ${need[*]})" >&2
    exit 2
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

build="${PAVENET_AARCH64_BUILD_DIR:-$(mktemp -d /tmp/pavenet-aarch64.XXXXXX)}"
[ -n "${PAVENET_AARCH64_BUILD_DIR:-}" ] || trap 'rm -rf "$build"' EXIT
# Release = the flags a wheel is built with (-O3), so the tested code is the shipped code.
build_type="${PAVENET_AARCH64_BUILD_TYPE:-Release}"
cmake -S . -B "$build" -DCMAKE_TOOLCHAIN_FILE=cpp/cmake/aarch64-linux-gnu.cmake \
  -DCMAKE_BUILD_TYPE="$build_type" -DPAVENET_PYTHON=OFF -DPAVENET_BUILD_TESTS=ON \
  -DPAVENET_CUDA=OFF -DPAVENET_WERROR=ON >/dev/null
cmake --build "$build" --parallel 2

exe="$build/pavenet_core_tests"
if ! aarch64-linux-gnu-readelf -h "$exe" | grep -q "AArch64"; then
  echo "aarch64: $exe is not an aarch64 executable" >&2
  exit 1
fi
out="${log:-$build/aarch64-test-output.txt}"
run() { qemu-aarch64 -L "$sysroot" "$exe"; }

set +e
(
  echo "# pavenet native core tests on aarch64, run under $(qemu-aarch64 --version | head -1)"
  echo "# compiler: $(aarch64-linux-gnu-g++ --version | head -1), CMAKE_BUILD_TYPE=$build_type"
  echo "## default dispatch (the test loops over every kernel this CPU supports)"
  run; failed=$?
  # Pinning the kernel through the environment exercises run-time selection on this target.
  for isa in neon scalar; do
    echo "## PAVENET_FORCE_ISA=$isa"
    PAVENET_FORCE_ISA=$isa run || failed=1
  done
  exit "$failed"
) >"$out" 2>&1
status=$?
set -e
cat "$out"
if [ "$status" -ne 0 ]; then
  echo "aarch64: C++ tests FAILED" >&2
  exit 1
fi
if ! grep -q "^kernels tested: neon scalar$" "$out"; then
  echo "aarch64: the NEON kernel was not among the tested kernels" >&2
  exit 1
fi
echo "aarch64: C++ tests passed (neon and scalar kernels equal the double oracle within 1e-5)"
