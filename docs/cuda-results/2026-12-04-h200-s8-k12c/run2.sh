#!/usr/bin/env bash
# Issue 12, session 8 (helper k12c), run 2: the windowed col2im by default only in 2D with <= 16 channels
# per offset group. The whole GPU suite with the default, the window cases at each forced width, memcheck
# and racecheck of the window cases, and a same-binary A/B (atomic, default, window) on shapes with few
# channels per offset group (k12c-bench.mjs: the benchmark with an extended suite). Carry [".device", ".gpu-k12c"].
set -u
source .device/setup.sh >/dev/null
G=$PWD/.gpu-k12c
R=$OUT; W=/tmp/k12c; mkdir -p $W; t0=$SECONDS
if [ -z "${K12C_NATIVE:-}" ]; then xz -dc $G/tvdcn_cuda.node.xz > $W/tvdcn_cuda.node; K12C_NATIVE=$W/tvdcn_cuda.node; fi
export TVDCN_NATIVE_PATH=$K12C_NATIVE PYTHONUNBUFFERED=1
log() { echo "[$((SECONDS - t0)) s] $*"; }
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader | tee $W/gpu.txt
T=$G/cuda-tests.mjs
log "whole GPU suite, default"
timeout 150 node --test --test-reporter=spec $T > $W/tests-default.log 2>&1
echo "rc=$?"; grep -E '^ℹ (tests|pass|fail|skipped)|^✖' $W/tests-default.log | head -12
for cw in 32 16 8; do
  TVDCN_CUDA_COL2IM=window TVDCN_CUDA_COL2IM_CW=$cw timeout 30 node --test --test-reporter=spec \
    --test-name-pattern='col2im' $T > $W/tests-cw$cw.log 2>&1
  log "col2im tests, window, CW=$cw rc=$? $(grep -E '^ℹ (pass|fail)' $W/tests-cw$cw.log | tr '\n' ' ')"
done
TVDCN_CUDA_COL2IM=atomic timeout 30 node --test --test-reporter=spec --test-name-pattern='col2im' $T \
  > $W/tests-atomic.log 2>&1
log "col2im tests, atomic rc=$? $(grep -E '^ℹ (pass|fail)' $W/tests-atomic.log | tr '\n' ' ')"
CS=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null | head -1)
for tool in memcheck racecheck; do
  TVDCN_CUDA_COL2IM=window TVDCN_CUDA_ALLOCATOR=direct timeout 60 $CS --tool $tool --error-exitcode 1 \
    node --test --test-name-pattern='col2im window' $T > $W/sanitize-$tool.log 2>&1
  log "$tool rc=$? $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' $W/sanitize-$tool.log | tail -1) $(grep -E '^ℹ (pass|fail)' $W/sanitize-$tool.log | tr '\n' ' ')"
done
bench() { # tag mode
  mkdir -p $W/$1
  TVDCN_CUDA_COL2IM=$2 OUT=$W/$1 timeout 40 node $G/k12c-bench.mjs --variants fp16,tf32 > $W/bench-$1.log 2>&1
  log "bench $1 ($2) rc=$?"
}
bench A1 atomic; bench B1 auto; bench W1 window; bench A2 atomic; bench B2 auto; bench W2 window
python3 $G/ab.py $W/bench-A1.log,$W/bench-A2.log $W/bench-B1.log,$W/bench-B2.log > $W/ab-default.md 2>&1
python3 $G/ab.py $W/bench-A1.log,$W/bench-A2.log $W/bench-W1.log,$W/bench-W2.log > $W/ab-window.md 2>&1
echo "== atomic -> default"; grep -E '\| (fwd|bwd|fwd:col2im|bwd:col2im) \|' $W/ab-default.md | head -40
echo "== atomic -> window"; grep -E '\| (fwd:col2im|bwd:col2im) \|' $W/ab-window.md | head -20
NCU=$(command -v ncu || ls /usr/local/cuda/bin/ncu /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
left=$((250 - (SECONDS - t0)))
if [ $left -gt 30 ]; then
  log "ncu edvr-64 (window, source counters)"
  TVDCN_CUDA_COL2IM=window OUT=$W timeout $((left - 5)) $NCU --clock-control none -k regex:col2im_window -c 1 \
    --section SpeedOfLight --section WarpStateStats --section MemoryWorkloadAnalysis --section InstructionStats \
    --section SourceCounters --print-details all node $G/cuda-bench.mjs --quick --only edvr-64 --variants fp16 > $W/ncu-edvr.txt 2>&1
  echo "rc=$?"; grep -E 'Duration|Warp Cycles Per Issued|Executed Instructions  |Memory Throughput|L2 Cache Throughput|Compute \(SM\)' $W/ncu-edvr.txt | head -8
fi
cd $W && tar -cJf $R/k12c2.tar.xz *.log *.txt *.md */bench-ours.json 2>/dev/null
cp $W/ab-default.md $W/ab-window.md $R/ 2>/dev/null
log "done"
