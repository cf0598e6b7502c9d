#!/usr/bin/env bash
# Issue 12, session 11 (helper k12f): int32 indices in the backward's offset/mask pass (branch s11-k12f).
# The whole GPU suite with this branch's addon, the new test again with the int64 pass forced, then a
# same-machine A/B of the benchmark: N = default (int32 pass where it fits), L = TVDCN_CUDA_OFFSET_INDEX=int64
# (the int64 pass of the same binary), alternated N L N L; ab.py L -> N (L / N > 1: int32 faster).
# Carry [".device", ".gpu-k12f"]; everything lands in $OUT. About 2-4 minutes.
#   K12F_ONLY=<shapes> K12F_VARIANTS=<variants> override the benchmark's rows; K12F_SIDES="N L N L" the order.
set -u
source .device/setup.sh >/dev/null
G=$PWD/.gpu-k12f
R=${OUT:-/tmp/k12f-out}; mkdir -p "$R"
W=/tmp/k12f; rm -rf $W; mkdir -p $W; t0=$SECONDS
log() { echo "[$((SECONDS - t0)) s] $*"; }
xz -dc $G/tvdcn_cuda.node.xz > $W/new.node || { echo "cannot decompress the addon"; exit 1; }
export TVDCN_NATIVE_PATH=$W/new.node
unset TVDCN_CUDA_OFFSET_INDEX
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,temperature.gpu --format=csv,noheader | tee $W/gpu.txt
T=$G/cuda-tests.mjs
log "whole GPU suite"
timeout 150 node --test --test-reporter=spec $T > $W/tests.log 2>&1
log "suite rc=$?"; grep -E '^ℹ (tests|pass|fail|skipped)|^✖' $W/tests.log | head -12
grep -E 'int32 and in int64' $W/tests.log | head -2
# The new test with the int64 pass forced in the process environment: the test sets the switch per side
# (unset, then int64) and puts the process's value back, so it must pass here too (rc 0), each side having
# run its own kernel (asserted from the phases).
TVDCN_CUDA_OFFSET_INDEX=int64 timeout 40 node --test --test-reporter=spec \
  --test-name-pattern='int32 and in int64' $T > $W/tests-int64-env.log 2>&1
rc=$?
log "new test under TVDCN_CUDA_OFFSET_INDEX=int64 rc=$rc (expected 0) $(grep -E '^ℹ (pass|fail)' $W/tests-int64-env.log | tr '\n' ' ')"
grep -m3 -E 'offset pass did not run|offset pass ran|differ|^✖' $W/tests-int64-env.log
ONLY=${K12F_ONLY:-r50-c3,r50-c4,edvr-64,big-b32,3d-c64}
VARS=${K12F_VARIANTS:-fp16,bf16,tf32}
declare -A n
for side in ${K12F_SIDES:-N L N L}; do
  n[$side]=$(( ${n[$side]:-0} + 1 )); tag=$side${n[$side]}; idx=
  [ $side = L ] && idx=int64
  mkdir -p $W/$tag
  TVDCN_CUDA_OFFSET_INDEX=$idx OUT=$W/$tag timeout 60 node $G/cuda-bench.mjs --only "$ONLY" --variants "$VARS" \
    > $W/bench-$tag.log 2>&1
  log "bench $tag rc=$?"
  [ $((SECONDS - t0)) -gt 270 ] && { log "time is short: no more bench sides"; break; }
done
list() { ls $W/bench-$1[0-9].log 2>/dev/null | paste -sd, ; }
python3 $G/ab.py "$(list L)" "$(list N)" > $W/ab.md 2>&1
echo "== L (int64) -> N (int32): A = L, B = N, A / B > 1: the int32 pass is faster"
grep -E '\| (fwd|bwd|bwd:offset_mask_grad) \|' $W/ab.md | head -60
# Which kernel each side ran (the inner phase of the offset pass).
echo "== phases seen: N $(grep -ho 'offset_pass_int[0-9]*' $W/bench-N*.log | sort | uniq -c | tr '\n' ' ')" \
  "L $(grep -ho 'offset_pass_int[0-9]*' $W/bench-L*.log | sort | uniq -c | tr '\n' ' ')"
cp $W/ab.md $W/gpu.txt $R/ 2>/dev/null
(cd $W && tar -cJf $R/k12f-logs.tar.xz *.log */*.json 2>/dev/null)
log "done"
