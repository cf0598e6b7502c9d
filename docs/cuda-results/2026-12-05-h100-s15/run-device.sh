#!/usr/bin/env bash
# Session 15: branch s15-gpu (main f3da2a0 + the Hopper warpgroup 16-bit GEMM) on the GPU.
# carry [".device", ".gpu-s15"].  S15_PARTS=wgtest,ab,tests,san,bench (comma list)
set -u
source .device/setup.sh >/dev/null
G=${S15_DIR:-$PWD/.gpu-s15}; t0=$SECONDS
log() { echo "[$((SECONDS - t0)) s] $*"; }
rm -rf .gpu && mkdir -p .gpu && cp $G/*.mjs $G/*.py $G/*.sh $G/suite.json $G/commit.txt .gpu/ && xz -dc $G/tvdcn_cuda.node.xz > .gpu/tvdcn_cuda.node
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader > $OUT/gpu.txt; cat $OUT/gpu.txt
export TVDCN_NATIVE_PATH=$PWD/.gpu/tvdcn_cuda.node
[ -f $G/prev.node.xz ] && xz -dc $G/prev.node.xz > .gpu/prev.node
PARTS=${S15_PARTS:-wgtest,ab}
if [[ ,$PARTS, == *,wgtest,* ]]; then
  timeout ${S15_WGTEST_LIMIT:-150} node --test --test-reporter=spec --test-name-pattern='16-bit GEMM' .gpu/cuda-tests.mjs > $OUT/tests-wgmma.log 2>&1
  log "16-bit GEMM tests rc=$? $(grep -E '^ℹ (pass|fail|skipped)' $OUT/tests-wgmma.log | tr '\n' ' ')"
  grep -E '✖|not ok|Error|differ|max \|diff' $OUT/tests-wgmma.log | head -20
fi
if [[ ,$PARTS, == *,hash,* ]]; then
  (cd .gpu && timeout 120 node $G/hash-outputs.mjs > $OUT/hash.txt 2>&1)
  log "hash ($(cat .gpu/commit.txt | head -1)): $(wc -l < $OUT/hash.txt) lines"; cat $OUT/hash.txt
fi
if [[ ,$PARTS, == *,ab,* ]]; then
  # M = TVDCN_CUDA_GEMM16=mma, W = the default (warpgroup kernel, tiles by rule); alternated; same binary.
  W2=/tmp/s15ab; mkdir -p $W2; declare -A n
  ARGS=(--all --only "${S15_ONLY:-r50-c3,r50-c4,r50-c5,edvr-64,big-b32,1d-c256,3d-c64,tr2d-256,tr3d-64}" --variants "${S15_VARIANTS:-fp16,bf16,fp16 unfused}")
  for side in ${S15_SIDES:-M W M W}; do
    n[$side]=$(( ${n[$side]:-0} + 1 )); tag=$side${n[$side]}
    case $side in M) mode=mma ;; N) mode=wgmma128 ;; V) mode=wgmma256 ;; O) mode=wgmma1 ;; T) mode=wgmma2 ;; *) mode= ;; esac
    mkdir -p $W2/$tag; np=$PWD/.gpu/tvdcn_cuda.node; [ $side = P ] && np=$PWD/.gpu/prev.node
    TVDCN_NATIVE_PATH=$np TVDCN_CUDA_GEMM16=$mode OUT=$W2/$tag timeout ${S15_BENCH_LIMIT:-100} node .gpu/cuda-bench.mjs "${ARGS[@]}" > $W2/bench-$tag.log 2>&1
    log "bench $tag rc=$?"
  done
  lst() { ls $W2/bench-$1[0-9].log 2>/dev/null | paste -sd, ; }
  mkdir -p $OUT/ab
  for pair in ${S15_PAIRS:-M:W}; do
    a=${pair%%:*}; o=${pair##*:}
    python3 $G/ab.py $(lst $a) $(lst $o) > $OUT/ab/ab-$a-$o.md 2>&1
    echo "== $a -> $o"; grep -E '\| (fwd|bwd|fwd:gemm_forward|bwd:gemm_dcol|bwd:gemm_weight|bwd:gemm_forward) \|' $OUT/ab/ab-$a-$o.md | grep -v "fp16 unfused" | head -${S15_AB_LINES:-70}
  done
  (cd $W2 && tar -cJf $OUT/ab/bench-logs.tar.xz bench-*.log */bench-ours.json 2>/dev/null)
fi
if [[ ,$PARTS, == *,tests,* ]]; then
  GPU_ONLY=tests bash .gpu/run-on-gpu.sh 2>&1 | grep -vE '^\s*$' | tail -30; log "suite rc=${PIPESTATUS[0]}"
fi
if [[ ,$PARTS, == *,san,* ]]; then
  SANITIZE_TOOLS="memcheck racecheck" SANITIZE_PATTERN='Hopper warpgroup' SANITIZE_TOOL_LIMIT=${S15_SAN_LIMIT:-110} SANITIZE_BUDGET=230 OUT=$OUT/san bash .gpu/sanitize-on-gpu.sh 2>&1 | tail -8
  log "sanitizer done"
fi
if [[ ,$PARTS, == *,bench,* ]]; then
  BENCH_ARGS="${S15_BENCH_ARGS:-}" BENCH_TIMEOUT=${BENCH_TIMEOUT:-200} TORCH_TIMEOUT=${TORCH_TIMEOUT:-120} GPU_ONLY=bench bash .gpu/run-on-gpu.sh 2>&1 | grep -vE '^\s*$' | tail -40; log "bench rc=${PIPESTATUS[0]}"
fi
log "all done"
