#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs on the GPU machine from the repository root, after scripts/gpu-check.sh prepared .gpu/ and
# .device/ here: the GPU test suite (node:test), then our benchmark and PyTorch's on the same suite, then
# the merged table. Everything lands in $OUT (the device tool brings it back); a short summary is
# printed last. Exit status: the tests'.
#   SKIP_TESTS=1  SKIP_BENCH=1  BENCH_ARGS="--quick --only r50-c3,edvr-64"
set -uo pipefail
OUT=${OUT:-$PWD/.gpu/out}
mkdir -p "$OUT"
export OUT TVDCN_NATIVE_PATH="$PWD/.gpu/tvdcn_cuda.node" PYTHONUNBUFFERED=1
BENCH_ARGS=${BENCH_ARGS:-}

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
  timeout 120 node --test --test-reporter=spec .gpu/cuda-tests.mjs > "$OUT/tests.log" 2>&1
  status=$?
  grep -E '^(ℹ|✖)|worst norm-wise|^  (float|bfloat)' "$OUT/tests.log" | head -60
fi
if [ "${SKIP_BENCH:-0}" != 1 ]; then
  echo "=== benchmark: ours"
  timeout 140 node .gpu/cuda-bench.mjs $BENCH_ARGS 2>&1 | tee "$OUT/bench-ours.log"
  echo "=== benchmark: torchvision and cuDNN"
  timeout 110 python3 .gpu/torch_bench.py $BENCH_ARGS 2>&1 | tee "$OUT/bench-torch.log"
  echo "=== table"
  python3 .gpu/report.py
fi
if [ "${SKIP_TESTS:-0}" != 1 ]; then
  echo "=== test summary (full log: tests.log)"
  grep -E '^ℹ (tests|pass|fail|duration)' "$OUT/tests.log"
  grep -B2 -A12 -m 8 '^✖\|not ok' "$OUT/tests.log" | head -80
fi
echo "tests exit status: $status"
exit $status
