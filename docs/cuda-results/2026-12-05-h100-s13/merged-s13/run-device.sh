#!/usr/bin/env bash
# Session 13: branch s13-gpu (s11-merged + main dcbb645 + the 1D-only default for the offset pass's columns) on
# the GPU. carry [".device", ".gpu-s13", ".lt-s11"].  S13_PARTS=tests,offset,memcheck,bench,lt (default all five)
set -u
source .device/setup.sh >/dev/null
G=$PWD/.gpu-s13; t0=$SECONDS
log() { echo "[$((SECONDS - t0)) s] $*"; }
rm -rf .gpu && mkdir -p .gpu && cp $G/*.mjs $G/*.py $G/*.sh $G/suite.json $G/commit.txt .gpu/ && xz -dc $G/tvdcn_cuda.node.xz > .gpu/tvdcn_cuda.node
PARTS=${S13_PARTS:-tests,offset,memcheck,bench,lt}
only=; for p in tests bench demo; do [[ ,$PARTS, == *,$p,* ]] && only=$only${only:+,}$p; done
if [[ ,$PARTS, == *,offset,* ]]; then
  # The bitwise test of the offset pass's columns in 2D and 3D too (by default only 1D takes that path).
  TVDCN_NATIVE_PATH=$PWD/.gpu/tvdcn_cuda.node TVDCN_CUDA_BWD_COLS=offset timeout 90 node --test --test-reporter=spec \
    --test-name-pattern='columns written by the offset pass' .gpu/cuda-tests.mjs > $OUT/tests-offset-forced.log 2>&1
  log "offset-pass columns test with TVDCN_CUDA_BWD_COLS=offset rc=$? $(grep -E '^ℹ (pass|fail)' $OUT/tests-offset-forced.log | tr '\n' ' ')"
fi
if [[ ,$PARTS, == *,memcheck,* ]]; then
  SANITIZE_TOOLS=memcheck SANITIZE_TOOL_LIMIT=${S13_MEMCHECK_LIMIT:-120} SANITIZE_BUDGET=130 OUT=$OUT/san bash .gpu/sanitize-on-gpu.sh 2>&1 | tail -4
  log "memcheck done"
fi
if [[ ,$PARTS, == *,lt,* ]] && [ -d .lt-s11 ]; then
  # Issue 10: more rounds of the 4-connection row, server on CPUs 0-3 (4 threads), then 0-1 (2 threads), autocannon on 8-9.
  mkdir -p $OUT/lt && OUT=$OUT/lt LT_CONFIGS=${LT_CONFIGS:-0-3:4 0-1:2} LT_CONN=${LT_CONN:-4} LT_ROUNDS=${LT_ROUNDS:-4} bash .lt-s11/run.sh 2>&1 | tail -30
  log "load test done"
fi
if [ -n "$only" ]; then BENCH_TIMEOUT=${BENCH_TIMEOUT:-200} TORCH_TIMEOUT=${TORCH_TIMEOUT:-120} GPU_ONLY=$only bash .gpu/run-on-gpu.sh 2>&1 | grep -vE '^\s*$' | tail -150; log "run-on-gpu rc=${PIPESTATUS[0]}"; fi
log "all done"
