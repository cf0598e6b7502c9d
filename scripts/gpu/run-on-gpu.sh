#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs on the GPU machine from the repository root, after scripts/gpu-check.sh prepared .gpu/ and
# .device/ here: the GPU test suite (node:test), then our benchmark and PyTorch's on the same suite, then
# the merged table, then the training demo on the CPU and on CUDA with its loss curves compared
# (.gpu/train-demo-on-gpu.sh). Everything lands in $OUT (the device tool brings it back); a short summary
# is printed last. Exit status: the tests' (and 1 when the demo failed).
#   GPU_ONLY=demo (or tests, bench, or a comma list: tests,demo) runs only those parts
#   SKIP_TESTS=1  SKIP_BENCH=1  SKIP_DEMO=1  BENCH_ARGS="--quick --only r50-c3,edvr-64"
#   DEMO_STEPS=400  DEMO_MODES="tf32x3 float32 tf32"
#   TESTS_TIMEOUT=150  BENCH_TIMEOUT=240  TORCH_TIMEOUT=150 (seconds)
set -uo pipefail
OUT=${OUT:-$PWD/.gpu/out}
mkdir -p "$OUT"
export OUT TVDCN_NATIVE_PATH="$PWD/.gpu/tvdcn_cuda.node" PYTHONUNBUFFERED=1
BENCH_ARGS=${BENCH_ARGS:-}
if [ -n "${GPU_ONLY:-}" ]; then
  case ",$GPU_ONLY," in *,tests,*) ;; *) SKIP_TESTS=1 ;; esac
  case ",$GPU_ONLY," in *,bench,*) ;; *) SKIP_BENCH=1 ;; esac
  case ",$GPU_ONLY," in *,demo,*) ;; *) SKIP_DEMO=1 ;; esac
fi

{
  echo "commit: $(head -1 .gpu/commit.txt 2>/dev/null)"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,temperature.gpu,power.draw \
    --format=csv 2>&1
  node --version
  python3 -c 'import torch, torchvision; print("torch", torch.__version__, "torchvision", torchvision.__version__)' 2>&1
} | tee "$OUT/gpu.txt"

status=0
if [ "${SKIP_TESTS:-0}" != 1 ]; then
  echo "=== GPU tests"
  timeout "${TESTS_TIMEOUT:-150}" node --test --test-reporter=spec .gpu/cuda-tests.mjs > "$OUT/tests.log" 2>&1
  status=$?
  grep -E '^(ℹ|✖)|worst norm-wise|^  (float|bfloat)' "$OUT/tests.log" | head -60
fi
if [ "${SKIP_BENCH:-0}" != 1 ]; then
  echo "=== benchmark: ours"
  timeout "${BENCH_TIMEOUT:-240}" node .gpu/cuda-bench.mjs $BENCH_ARGS 2>&1 | tee "$OUT/bench-ours.log"
  echo "=== benchmark: torchvision and cuDNN"
  timeout "${TORCH_TIMEOUT:-150}" python3 .gpu/torch_bench.py $BENCH_ARGS 2>&1 | tee "$OUT/bench-torch.log"
  echo "=== table"
  python3 .gpu/report.py
fi
demo_status=0
if [ "${SKIP_DEMO:-0}" != 1 ]; then
  echo "=== training demo: CPU and CUDA (logs, PNGs, losses: demo/)"
  bash .gpu/train-demo-on-gpu.sh
  demo_status=$?
fi
if [ "${SKIP_TESTS:-0}" != 1 ]; then
  echo "=== test summary (full log: tests.log)"
  grep -E '^ℹ (tests|pass|fail|duration)' "$OUT/tests.log"
  grep -B2 -A12 -m 8 '^✖\|not ok' "$OUT/tests.log" | head -80
  echo "tests exit status: $status"
fi
[ "${SKIP_DEMO:-0}" != 1 ] && echo "demo exit status: $demo_status"
[ "$status" = 0 ] && status=$demo_status
exit $status
