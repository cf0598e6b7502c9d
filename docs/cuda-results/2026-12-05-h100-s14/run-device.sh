#!/usr/bin/env bash
# Session 14: branch s14-gpu (main 7791fda + the warp im2col from a channels-last copy of X) on the GPU.
# carry [".device", ".gpu-s14"].  S14_PARTS=warptest,ab,tests,san,bench (comma list)
set -u
source .device/setup.sh >/dev/null
G=$PWD/.gpu-s14; t0=$SECONDS
log() { echo "[$((SECONDS - t0)) s] $*"; }
rm -rf .gpu && mkdir -p .gpu && cp $G/*.mjs $G/*.py $G/*.sh $G/suite.json $G/commit.txt .gpu/ && xz -dc $G/tvdcn_cuda.node.xz > .gpu/tvdcn_cuda.node
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader > $OUT/gpu.txt; cat $OUT/gpu.txt
export TVDCN_NATIVE_PATH=$PWD/.gpu/tvdcn_cuda.node
PARTS=${S14_PARTS:-warptest,ab}
if [[ ,$PARTS, == *,warptest,* ]]; then
  timeout 150 node --test --test-reporter=spec --test-name-pattern='warp kernel from a channels-last|bounded workspace|modulated, bias' .gpu/cuda-tests.mjs > $OUT/tests-warp.log 2>&1
  log "warp im2col test rc=$? $(grep -E '^ℹ (pass|fail)' $OUT/tests-warp.log | tr '\n' ' ')"
  grep -E '✖|not ok|Error|differ' $OUT/tests-warp.log | head -20
fi
if [[ ,$PARTS, == *,ab,* ]]; then
  # W = warp im2col (default), T = TVDCN_CUDA_IM2COL=thread; alternated; same binary.
  W2=/tmp/s14ab; mkdir -p $W2; declare -A n
  ARGS=(--all --only "${S14_ONLY:-r50-c3,r50-c4,r50-c5,edvr-64,big-b32,1d-c256,3d-c64,tr2d-256,tr3d-64}" --variants "${S14_VARIANTS:-fp16,tf32,fp32}")
  for side in ${S14_SIDES:-T W T W}; do
    n[$side]=$(( ${n[$side]:-0} + 1 )); tag=$side${n[$side]}; mode=; [ $side = T ] && mode=thread
    mkdir -p $W2/$tag
    TVDCN_CUDA_IM2COL=$mode OUT=$W2/$tag timeout ${S14_BENCH_LIMIT:-100} node .gpu/cuda-bench.mjs "${ARGS[@]}" > $W2/bench-$tag.log 2>&1
    log "bench $tag rc=$?"
  done
  lst() { ls $W2/bench-$1[0-9].log 2>/dev/null | paste -sd, ; }
  mkdir -p $OUT/ab; python3 $G/ab.py $(lst T) $(lst W) > $OUT/ab/ab-thread-warp.md 2>&1
  grep -E '\| (fwd|bwd|fwd:im2col|bwd:im2col|fwd:im2col_channels_last|bwd:im2col_channels_last) \|' $OUT/ab/ab-thread-warp.md | head -120
  (cd $W2 && tar -cJf $OUT/ab/bench-logs.tar.xz bench-*.log */bench-ours.json 2>/dev/null)
fi
if [[ ,$PARTS, == *,tests,* ]]; then
  GPU_ONLY=tests bash .gpu/run-on-gpu.sh 2>&1 | grep -vE '^\s*$' | tail -30; log "suite rc=${PIPESTATUS[0]}"
fi
if [[ ,$PARTS, == *,san,* ]]; then
  SANITIZE_TOOLS="memcheck racecheck" SANITIZE_PATTERN='warp kernel from a channels-last' SANITIZE_TOOL_LIMIT=${S14_SAN_LIMIT:-110} SANITIZE_BUDGET=230 OUT=$OUT/san bash .gpu/sanitize-on-gpu.sh 2>&1 | tail -8
  log "sanitizer done"
fi
if [[ ,$PARTS, == *,bench,* ]]; then
  BENCH_ARGS="${S14_BENCH_ARGS:-}" BENCH_TIMEOUT=${BENCH_TIMEOUT:-200} TORCH_TIMEOUT=${TORCH_TIMEOUT:-120} GPU_ONLY=bench bash .gpu/run-on-gpu.sh 2>&1 | grep -vE '^\s*$' | tail -40; log "bench rc=${PIPESTATUS[0]}"
fi
log "all done"
