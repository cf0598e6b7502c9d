#!/usr/bin/env bash
# Issue 12, session 8 (helper k12c): the windowed col2im (NOTE [ Windowed col2im, one thread per sample ]).
# One device call: SASS of the shared atomics, GPU tests with the window (and each forced width, and the
# atomic kernel), a same-binary A/B of the benchmark (atomic, window, atomic, window), ncu of the window
# kernel, cuDNN's transposed references. Carry [".device", ".gpu-k12c"].
set -u
source .device/setup.sh >/dev/null
G=$PWD/.gpu-k12c
R=$OUT; W=/tmp/k12c; mkdir -p $W; t0=$SECONDS
# K12C_NATIVE=<cpu addon> with TVDCN_GPU_TEST_DEVICE=cpu: a dry run on the development machine.
if [ -z "${K12C_NATIVE:-}" ]; then xz -dc $G/tvdcn_cuda.node.xz > $W/tvdcn_cuda.node; K12C_NATIVE=$W/tvdcn_cuda.node; fi
export TVDCN_NATIVE_PATH=$K12C_NATIVE PYTHONUNBUFFERED=1
log() { echo "[$((SECONDS - t0)) s] $*"; }
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader | tee $W/gpu.txt
CUOBJ=$(command -v cuobjdump || ls /usr/local/cuda/bin/cuobjdump 2>/dev/null | head -1)
{ echo "shared/global atomics in the window kernels (w.cubin, sm_90):"
  $CUOBJ -sass $G/w.cubin | grep -oE '\b(ATOMS|ATOMG|ATOM|REDG|RED)\.[A-Z0-9_.]+' | sort | uniq -c; } > $W/sass.txt 2>&1
cat $W/sass.txt
T=$G/cuda-tests.mjs
log "tests, window"
TVDCN_CUDA_COL2IM=window timeout 75 node --test --test-reporter=spec \
  --test-name-pattern='col2im|transposed|determinis|modulated' $T > $W/tests-window.log 2>&1
echo "rc=$?"; grep -E '^ℹ (tests|pass|fail)|✖' $W/tests-window.log | head -12
for cw in 32 16 8; do
  log "tests, window, CW=$cw"
  TVDCN_CUDA_COL2IM=window TVDCN_CUDA_COL2IM_CW=$cw timeout 30 node --test --test-reporter=spec \
    --test-name-pattern='col2im' $T > $W/tests-cw$cw.log 2>&1
  echo "rc=$?"; grep -E '^ℹ (tests|pass|fail)|✖' $W/tests-cw$cw.log | head -6
done
log "tests, atomic"
TVDCN_CUDA_COL2IM=atomic timeout 30 node --test --test-reporter=spec --test-name-pattern='col2im window' $T \
  > $W/tests-atomic.log 2>&1
echo "rc=$?"; grep -E '^ℹ (tests|pass|fail)|✖' $W/tests-atomic.log | head -6
SHAPES=${SHAPES:-tr3d-64,tr2d-256,r50-c3,big-b32,edvr-64,3d-c64}
bench() { # tag mode
  mkdir -p $W/$1
  TVDCN_CUDA_COL2IM=$2 OUT=$W/$1 timeout 45 node $G/cuda-bench.mjs --only $SHAPES --variants fp16 > $W/bench-$1.log 2>&1
  log "bench $1 ($2) rc=$?"
}
bench A1 atomic; bench B1 window; bench A2 atomic; bench B2 window
python3 $G/ab.py $W/bench-A1.log,$W/bench-A2.log $W/bench-B1.log,$W/bench-B2.log > $W/ab.md 2>&1
grep -E '\| (fwd|bwd|fwd:col2im|bwd:col2im) \|' $W/ab.md | head -30
NCU=$(command -v ncu || ls /usr/local/cuda/bin/ncu /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
SECS="--section SpeedOfLight --section MemoryWorkloadAnalysis --section WarpStateStats --section SchedulerStats --section Occupancy --section LaunchStats --section InstructionStats"
for sh in tr3d-64 r50-c3; do
  left=$((245 - (SECONDS - t0))); [ $left -lt 35 ] && { log "no time for ncu $sh"; break; }
  log "ncu $sh"
  mkdir -p $W/ncu-$sh
  TVDCN_CUDA_COL2IM=window OUT=$W/ncu-$sh timeout $((left < 60 ? left - 5 : 55)) $NCU --clock-control none \
    -k regex:col2im_window -c 1 $SECS node $G/cuda-bench.mjs --quick --only $sh --variants fp16 > $W/ncu-$sh.txt 2>&1
  echo "rc=$?"; grep -E 'Duration|Registers Per|Achieved Occ|Theoretical Occ|Memory Throughput|L2 Cache Throughput|Compute \(SM\) Th|Warp Cycles Per Issued|Issue Slots Busy|No Eligible|Shared Memory Configuration Size|Dynamic Shared' $W/ncu-$sh.txt | head -16
done
left=$((268 - (SECONDS - t0)))
if [ $left -gt 30 ]; then
  log "torch (cuDNN)"
  OUT=$W timeout $((left - 3)) python3 $G/torch_bench.py --only tr3d-64,tr2d-256 > $W/bench-torch.log 2>&1
  echo "rc=$?"; grep -E 'cuDNN fp16|cuDNN bf16|cuDNN tf32' $W/bench-torch.log | head -12
fi
cd $W && tar -cJf $R/k12c.tar.xz *.log *.txt *.md */bench-ours.json bench-torch.json 2>/dev/null
cp $W/ab.md $W/sass.txt $R/ 2>/dev/null
log "done"
