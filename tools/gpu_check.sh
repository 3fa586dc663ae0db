#!/usr/bin/env bash
# GPU check for a machine with an NVIDIA GPU: builds pavenet-sdk with PAVENET_CUDA=ON, runs the
# CUDA kernel tests against the CPU kernel, the CUDA kernel benchmark and a short training run
# on the GPU, then prints a summary (GPU, result and time per stage, timings) and writes it to
# SUMMARY. Every stage runs even when an earlier one failed; the exit status is 0 only when all
# passed. The time limits of build, kernel, bench and train add up to 7 minutes, so the check
# ends within 8 (a fresh venv's setup comes on top). Usage and the options: docs/gpu.md.
#
#   bash tools/gpu_check.sh [--venv DIR] [--skip-build] [--cpu] [--dry-run] [SUMMARY]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SELF="$ROOT/tools/gpu_check.sh"
TRAIN_CONFIG="configs/ci-smoke.toml"
TRAIN_STEPS=10
# time limit of each stage, s (setup: a fresh venv's downloads, not in the 8 minutes)
declare -A LIMIT=([setup]=1800 [build]=210 [kernel]=90 [bench]=60 [train]=60)

usage() {
  cat <<'EOF'
usage: bash tools/gpu_check.sh [--venv DIR] [--skip-build] [--cpu] [--dry-run] [SUMMARY]

  SUMMARY       summary file to write (default gpu-check.txt); stage logs, the benchmark
                JSON and the training run go to the folder SUMMARY without .txt + "-logs"
  --venv DIR    build into the virtual environment DIR (created with --system-site-packages
                when missing, so an installed CUDA PyTorch is reused; else pip installs torch)
                instead of the current Python ($PYTHON, default python3)
  --skip-build  test the installed package as it is
  --cpu         check this script on a machine without a GPU: no CUDA required, CUDA tests
                may skip, training on the CPU
  --dry-run     print the commands of every stage, run nothing
EOF
}

# ---- stages: each runs in its own bash (set -euo pipefail) under a time limit --------

run() {  # a command, or in a dry run its printout
  if [[ "$GPU_CHECK_DRY" == 1 ]]; then
    printf '+'
    printf ' %q' "$@"
    printf '\n'
  else
    "$@"
  fi
}

stage_setup() {
  local venv="$GPU_CHECK_VENV"
  if [[ ! -x "$venv/bin/python" ]]; then
    run python3 -m venv --system-site-packages "$venv"
  fi
  if [[ "$GPU_CHECK_DRY" == 1 ]] || ! "$venv/bin/python" -c "import torch" 2>/dev/null; then
    run "$venv/bin/python" -m pip install torch  # on Linux the default wheel is the CUDA build
  fi
  # the dependencies (and a CPU build, replaced by the build stage)
  run env PAVENET_CUDA=OFF "$venv/bin/python" -m pip install "${ROOT}[train,test]"
}

stage_build() {
  local cuda=ON
  [[ "$GPU_CHECK_CPU" == 1 ]] && cuda=AUTO
  if [[ -z "${CUDACXX:-}" ]] && ! command -v nvcc >/dev/null && [[ -x /usr/local/cuda/bin/nvcc ]]
  then
    export CUDACXX=/usr/local/cuda/bin/nvcc  # CMake finds nvcc through CUDACXX or PATH
  fi
  echo "PAVENET_CUDA=$cuda CUDACXX=${CUDACXX:-} nvcc=$(command -v nvcc || echo none)"
  local isolation=()
  if "$GPU_CHECK_PY" -c "import scikit_build_core, pybind11" 2>/dev/null; then
    isolation=(--no-build-isolation)  # the build tools are installed: no download
  fi
  run env PAVENET_CUDA="$cuda" "$GPU_CHECK_PY" -m pip install --no-deps "${isolation[@]}" \
    -e "$ROOT"
  run "$GPU_CHECK_PY" tools/gpu_check_verify.py build "${cpu_flag[@]}"
}

stage_kernel() {
  local junit="$GPU_CHECK_LOGS/kernel-junit.xml"
  # every native-core test in the CUDA build: the CUDA ones against the CPU kernel
  run "$GPU_CHECK_PY" -m pytest -q -p no:cacheprovider -rs tests/cpp --junitxml="$junit"
  run "$GPU_CHECK_PY" tools/gpu_check_verify.py kernel "$junit" "${cpu_flag[@]}"
}

stage_bench() {
  local require=(--require-cuda)
  [[ "$GPU_CHECK_CPU" == 1 ]] && require=()
  run "$GPU_CHECK_PY" tools/gpu_bench.py "${require[@]}" --out "$GPU_CHECK_LOGS/gpu_bench.json"
}

stage_train() {
  local device=cuda out="$GPU_CHECK_LOGS/train-run"
  [[ "$GPU_CHECK_CPU" == 1 ]] && device=cpu
  run rm -rf "$out"
  run "$GPU_CHECK_PY" -m pavenet_sdk.cli train "$TRAIN_CONFIG" --device "$device" \
    --max-steps "$TRAIN_STEPS" --out "$out" --no-progress
  run "$GPU_CHECK_PY" tools/gpu_check_verify.py train "$out" "$TRAIN_STEPS" "$device"
}

if [[ "${1:-}" == "--stage" ]]; then  # one stage, in the child bash the loop below starts
  cd "$ROOT"
  cpu_flag=()
  [[ "$GPU_CHECK_CPU" == 1 ]] && cpu_flag=(--cpu)
  "stage_$2"
  exit 0
fi

# ---- the check --------------------------------------------------------------------------

venv="" skip_build=0 cpu=0 dry=0 summary="gpu-check.txt"
while (($#)); do
  case "$1" in
    --venv)
      [[ $# -ge 2 ]] || { echo "gpu_check: --venv needs a folder" >&2; exit 2; }
      venv="$2"
      shift 2
      ;;
    --skip-build) skip_build=1; shift ;;
    --cpu) cpu=1; shift ;;
    --dry-run) dry=1; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "gpu_check: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) summary="$1"; shift ;;
  esac
done

absolute() { if [[ "$1" == /* ]]; then echo "$1"; else echo "$PWD/$1"; fi; }
summary="$(absolute "$summary")"
logs="${summary%.txt}-logs"
if [[ -n "$venv" ]]; then
  venv="$(absolute "$venv")"
  python_bin="$venv/bin/python"
else
  python_bin="$(command -v "${PYTHON:-python3}")" || {
    echo "gpu_check: no ${PYTHON:-python3} found (set PYTHON)" >&2
    exit 2
  }
fi
export GPU_CHECK_PY="$python_bin" GPU_CHECK_LOGS="$logs" GPU_CHECK_VENV="$venv"
export GPU_CHECK_CPU="$cpu" GPU_CHECK_DRY="$dry"
export PYTHONUNBUFFERED=1  # stage logs stay complete up to a timeout
[[ "$dry" == 1 ]] || mkdir -p "$logs"  # and the summary's folder

stages=()
if [[ "$skip_build" == 0 ]]; then
  [[ -n "$venv" ]] && stages+=(setup)
  stages+=(build)
fi
stages+=(kernel bench train)

declare -A result seconds
failed=()
total_start=$SECONDS
for stage in "${stages[@]}"; do
  echo "=== gpu_check: $stage (limit ${LIMIT[$stage]} s)"
  start=$SECONDS
  set +e
  if [[ "$dry" == 1 ]]; then
    bash "$SELF" --stage "$stage"
    status=$?
  else
    timeout --kill-after=10 "${LIMIT[$stage]}" bash "$SELF" --stage "$stage" 2>&1 \
      | tee "$logs/$stage.log"
    status=${PIPESTATUS[0]}
  fi
  set -e
  seconds[$stage]=$((SECONDS - start))
  case "$status" in
    0) result[$stage]=PASS ;;
    124 | 137) result[$stage]=TIMEOUT; failed+=("$stage") ;;
    *) result[$stage]="FAIL ($status)"; failed+=("$stage") ;;
  esac
  echo "=== gpu_check: $stage ${result[$stage]} in ${seconds[$stage]} s"
done

if [[ "$dry" == 1 ]]; then
  echo "gpu_check: dry run, nothing was executed (stages: ${stages[*]})"
  exit 0
fi

# ---- summary ----------------------------------------------------------------------------

gpu="$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader \
  2>/dev/null | head -n 1)" || true
torch_facts="$("$python_bin" -c '
import platform, torch
device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no CUDA device"
print(f"torch {torch.__version__} (CUDA {torch.version.cuda}, sees: {device}), "
      f"Python {platform.python_version()}")' 2>/dev/null)" || torch_facts="torch not importable"
nvcc_version="$( (nvcc --version || "${CUDACXX:-/usr/local/cuda/bin/nvcc}" --version) \
  2>/dev/null | grep -o 'release [0-9.]*' )" || nvcc_version="not found"
commit="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)" || commit="unknown"
if [[ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ]]; then
  commit+=" with local changes"
fi

stage_note() {  # the line of a stage's log worth quoting in the summary
  local log="$logs/$1.log"
  [[ -f "$log" ]] || return 0
  case "$1" in
    kernel) grep -E 'CUDA tests:|[0-9]+ (passed|failed)' "$log" | tail -n 2 | paste -sd '|' \
      | sed 's/|/; /' ;;
    train) grep -E '^training:' "$log" | tail -n 1 ;;
    build) grep -E '^native core:' "$log" | tail -n 1 ;;
  esac
}

{
  echo "pavenet-sdk GPU check, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit"
  echo "GPU:    ${gpu:-none found by nvidia-smi}"
  echo "torch:  $torch_facts"
  echo "nvcc:   $nvcc_version"
  echo "python: $python_bin${venv:+ (venv $venv)}$([[ $cpu == 1 ]] && echo ', --cpu mode')"
  echo
  printf '%-8s %-10s %6s  %s\n' stage result time note
  for stage in "${stages[@]}"; do
    printf '%-8s %-10s %5ss  %s\n' "$stage" "${result[$stage]}" "${seconds[$stage]}" \
      "$(stage_note "$stage" | cut -c1-120 || true)"
  done
  printf '%-8s %-10s %5ss\n' total "" "$((SECONDS - total_start))"
  if [[ -f "$logs/bench.log" ]] && grep -q 'tokens)' "$logs/bench.log"; then
    echo
    echo "deformable attention, paper encoder layer, median ms per call (tools/gpu_bench.py):"
    grep 'tokens)' "$logs/bench.log" | sed 's/^/  /'
  fi
  echo
  if ((${#failed[@]})); then
    echo "FAILED: ${failed[*]} (logs in $logs)"
    for stage in "${failed[@]}"; do
      echo
      echo "--- last lines of $stage.log"
      tail -n 15 "$logs/$stage.log"
    done
  else
    echo "all ${#stages[@]} stages passed (logs in $logs)"
  fi
} >"$summary"

echo
cat "$summary"
echo "gpu_check: summary written to $summary"
((${#failed[@]} == 0))
