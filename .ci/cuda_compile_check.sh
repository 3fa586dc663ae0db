#!/usr/bin/env bash
# Configures and builds the native core with PAVENET_CUDA=ON (nvcc required, no GPU needed):
# the CUDA kernel must compile and link. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

nvcc_path="${CUDACXX:-}"
if [ -z "$nvcc_path" ]; then
  for candidate in /usr/local/cuda/bin/nvcc /usr/local/cuda-*/bin/nvcc \
      "$(command -v nvcc || true)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then nvcc_path="$candidate"; break; fi
  done
fi
if [ -z "$nvcc_path" ]; then
  echo "cuda_compile_check: no nvcc found (set CUDACXX)" >&2
  exit 1
fi
echo "cuda_compile_check: using $nvcc_path"

build="$(mktemp -d /tmp/pavenet-cuda.XXXXXX)"
trap 'rm -rf "$build"' EXIT
python_bin="${PYTHON:-python3}"
# Build the Python module too when pybind11 is importable; the C++ tests link the kernel anyway.
with_python=OFF
if "$python_bin" -c "import pybind11" 2>/dev/null; then with_python=ON; fi
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DPAVENET_CUDA=ON \
  -DCMAKE_CUDA_COMPILER="$nvcc_path" -DPAVENET_BUILD_TESTS=ON -DPAVENET_PYTHON="$with_python" \
  -DPython_EXECUTABLE="$(command -v "$python_bin")"
cmake --build "$build" --parallel 2
# The CPU kernels still pass in the CUDA build (no GPU needed for these tests).
"$build/pavenet_core_tests"
echo "cuda_compile_check: CUDA build OK"
