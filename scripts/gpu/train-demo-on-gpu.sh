#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs on the GPU machine from the repository root (called by .gpu/run-on-gpu.sh, or alone), after
# scripts/gpu-check.sh bundled the training demo into .gpu/train-demo.mjs: first tvdcn's GPU suite
# (.gpu/tvdcn-cuda-tests.mjs: SGD/Adam/AdamW steps, loadStateDict, init and a training step of a layer on
# CUDA against the CPU; log in $OUT/demo/tvdcn-tests.log), then the same training (same data,
# seed and steps) on the CPU and on CUDA, with the per-step losses as JSON, then compares the curves
# (relative difference per step against the CPU's). CUDA runs: float32 matmul 'tf32x3' (the default),
# 'float32' (IEEE), and 'tf32' (one TF32 product). Each run uses --check (the loss must fall by 10x, beat the
# warped input, and the sampling must follow the inverse warp). Output in $OUT/demo/.
#   DEMO_STEPS=400 (default)  DEMO_MODES="tf32x3 float32 tf32" (default)
# Time limits (40 s for the suite, 45 s a run: at most 220 s) keep tests + bench + demo within one device
# call of 600 s.
# Exit status: 0 when every run finished and passed its check.
set -uo pipefail
OUT=${OUT:-$PWD/.gpu/out}
dir="$OUT/demo"
mkdir -p "$dir"
export TVDCN_NATIVE_PATH=${TVDCN_NATIVE_PATH:-$PWD/.gpu/tvdcn_cuda.node}
steps=${DEMO_STEPS:-400}
modes=${DEMO_MODES:-tf32x3 float32 tf32}
status=0

run() { # name, args...
  local name=$1
  shift
  echo "--- demo: $name ($steps steps)"
  timeout 45 node .gpu/train-demo.mjs --steps "$steps" --check --out "$dir/$name" --losses "$dir/losses-$name.json" "$@" \
    > "$dir/$name.log" 2>&1
  local rc=$?
  grep -v '^training |' "$dir/$name.log" | sed 's/^/    /'
  [ "$rc" = 0 ] || { echo "    exit status $rc"; status=1; }
}

echo "--- tvdcn GPU suite: optimizers, loadStateDict, init, a training step (CUDA against the CPU)"
timeout 40 node --test --test-reporter=spec .gpu/tvdcn-cuda-tests.mjs > "$dir/tvdcn-tests.log" 2>&1 || status=1
grep -E '^ *(✔|✖)|^  [A-Za-z].*: [0-9.]+e[-+][0-9]+|^ℹ (tests|pass|fail)' "$dir/tvdcn-tests.log" | sed 's/^/    /' | head -40

run cpu --device cpu
curves=("$dir/losses-cpu.json")
for mode in $modes; do
  run "cuda-$mode" --device cuda --fp32-matmul "$mode"
  [ -f "$dir/losses-cuda-$mode.json" ] && curves+=("$dir/losses-cuda-$mode.json")
done

echo "=== demo: loss curves, CUDA against the CPU (relative difference per step)"
if [ -f "$dir/losses-cpu.json" ] && [ "${#curves[@]}" -gt 1 ]; then
  node .gpu/compare-losses.mjs "${curves[@]}" --json "$dir/compare.json" | tee "$dir/compare.txt"
else
  echo "missing loss files (see $dir/*.log)"
  status=1
fi
echo "demo exit status: $status"
exit $status
