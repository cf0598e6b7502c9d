#!/usr/bin/env bash
# Issue 12, session 9 (helper k12d): one device call. Staged in the lead's checkout under .gpu-k12d/ (the
# device tool sends that checkout): tvdcn_cuda.node.xz = this branch's CUDA addon (sm_90), main.node.xz =
# main's (a67d9b4), cuda-bench.mjs / cuda-tests.mjs = this branch's bundles (scripts/gpu-check.sh),
# torch_bench.py, suite.json, ab.py. carry [".device", ".gpu-k12d"]; command: bash .gpu-k12d/run.sh
# Sides: M = main's addon, W = this branch with TVDCN_CUDA_FUSED_TILE=wide, N = =narrow, V = narrow with
# TVDCN_CUDA_FUSED_CL=vector, C = wide with the vector copy, B = this branch's defaults (both unset).
#   K12D_PARTS=tests,bench,torch,memcheck,ncu  K12D_SIDES="W N V W N V"  K12D_ONLY=<shapes>  K12D_VARIANTS=<labels>
set -u
source .device/setup.sh >/dev/null
G=$PWD/.gpu-k12d
R=$OUT; T=/tmp/k12d; mkdir -p $T; t0=$SECONDS
xz -dc $G/tvdcn_cuda.node.xz > $T/new.node
[ -f $G/main.node.xz ] && xz -dc $G/main.node.xz > $T/main.node
export PYTHONUNBUFFERED=1
log() { echo "[$((SECONDS - t0)) s] $*"; }
PARTS=${K12D_PARTS:-tests,bench,torch}
ONLY=${K12D_ONLY:-r50-c3,edvr-64,r50-c5,1d-c256}
VARS=${K12D_VARIANTS:-bf16,tf32,bf16 fused,tf32 fused}
SIDES=${K12D_SIDES:-W N V W N V}
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,temperature.gpu,power.draw --format=csv > $R/gpu.txt 2>&1
cat $R/gpu.txt
if [[ ,$PARTS, == *,tests,* ]]; then
  TVDCN_NATIVE_PATH=$T/new.node timeout ${K12D_TESTS_LIMIT:-200} node --test --test-reporter=spec \
    ${K12D_TEST_PATTERN:+--test-name-pattern="$K12D_TEST_PATTERN"} $G/cuda-tests.mjs > $T/tests.log 2>&1
  log "tests rc=$? $(grep -E '^ℹ (tests|pass|fail)' $T/tests.log | tr '\n' ' ')"
  grep -B2 -A12 -m 5 '^✖' $T/tests.log | head -40
  grep -iE 'fused vs unfused' $T/tests.log | head -8
  xz -c $T/tests.log > $R/tests.log.xz
fi
if [[ ,$PARTS, == *,bench,* ]]; then
  declare -A n
  for side in $SIDES; do
    n[$side]=$(( ${n[$side]:-0} + 1 )); tag=$side${n[$side]}
    node=$T/new.node; tile=; copy=
    case $side in M) node=$T/main.node ;; W) tile=wide ;; N) tile=narrow ;; V) tile=narrow; copy=vector ;;
      C) tile=wide; copy=vector ;; B) ;; esac
    mkdir -p $T/$tag
    TVDCN_CUDA_FUSED_TILE=$tile TVDCN_CUDA_FUSED_CL=$copy TVDCN_NATIVE_PATH=$node OUT=$T/$tag timeout ${K12D_BENCH_LIMIT:-100} \
      node $G/cuda-bench.mjs --all --forward-only --only "$ONLY" --variants "$VARS" ${K12D_BENCH_ARGS:-} > $T/bench-$tag.log 2>&1
    log "bench $tag (tile=${tile:-default} copy=${copy:-default}) rc=$?"
  done
  list() { ls $T/bench-$1[0-9].log 2>/dev/null | paste -sd, ; }
  : > $R/ab.md
  for pair in ${K12D_PAIRS:-W:N W:V N:V}; do
    a=${pair%:*}; b=${pair#*:}
    { echo "## $a -> $b (A / B > 1: B faster)"; python3 $G/ab.py $(list $a) $(list $b); echo; } >> $R/ab.md 2>&1
  done
  grep -E '\| fwd \|' $R/ab.md | head -80
  (cd $T && tar -cJf $R/bench-logs.tar.xz bench-*.log */bench-ours.json 2>/dev/null)
fi
if [[ ,$PARTS, == *,torch,* ]]; then
  (cd $T && OUT=$T timeout ${K12D_TORCH_LIMIT:-120} python3 $G/torch_bench.py --only "$ONLY" > $T/bench-torch.log 2>&1)
  log "torch rc=$?"
  grep -E 'cuDNN (fp16|bf16|tf32)' $T/bench-torch.log | head -40
  cp $T/bench-torch.log $R/ 2>/dev/null; cp $T/bench-torch.json $R/ 2>/dev/null
fi
if [[ ,$PARTS, == *,memcheck,* ]]; then
  mkdir -p .gpu && cp $G/cuda-tests.mjs .gpu/ && cp $T/new.node .gpu/tvdcn_cuda.node
  TVDCN_CUDA_FUSED_TILE=${K12D_SAN_TILE:-} SANITIZE_TOOLS=memcheck SANITIZE_TOOL_LIMIT=${K12D_MEMCHECK_LIMIT:-120} SANITIZE_BUDGET=150 \
    SANITIZE_PATTERN=${K12D_SAN_PATTERN:-fused} OUT=$T/san bash $G/sanitize-on-gpu.sh 2>&1 | tail -8
  (cd $T/san && tar -cJf $R/sanitizer.tar.xz . 2>/dev/null)
fi
if [[ ,$PARTS, == *,ncu,* ]]; then
  # One launch of the fused kernel per tile, r50-c3, bf16 and tf32 forced fused (stall reasons, occupancy).
  NCU=$(command -v ncu || ls /usr/local/cuda/bin/ncu /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
  for v in "bf16 fused" "tf32 fused"; do
    for tile in wide narrow; do
      tag=$(echo "$v-$tile" | tr ' ' '-')
      TVDCN_CUDA_FUSED_TILE=$tile TVDCN_NATIVE_PATH=$T/new.node OUT=$T timeout 60 $NCU --clock-control none \
        -k regex:fused_forward_kernel -c 1 --section SpeedOfLight --section WarpStateStats --section Occupancy \
        --section LaunchStats --section SchedulerStats node $G/cuda-bench.mjs --quick --all --forward-only \
        --only r50-c3 --variants "$v" > $T/ncu-$tag.txt 2>&1
      log "ncu $tag rc=$? $(grep -E 'Duration|Registers Per|Achieved Occupancy|Warp Cycles Per Issued' $T/ncu-$tag.txt | tr -s ' ' | tr '\n' ';')"
    done
  done
  cp $T/ncu-*.txt $R/ 2>/dev/null
fi
log "all done"
