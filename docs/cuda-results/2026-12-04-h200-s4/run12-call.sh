#!/usr/bin/env bash
# Issue 12 session 4, device call: tests + benchmarks + memcheck + racecheck (col2im) + ncu of the
# changed kernels; the details pages of run 11's ncu reports printed. Everything packed into few files.
set -u
rm -rf .gpu && mkdir .gpu && cp -r .gpu-i12/bundle/. .gpu/ && xz -d .gpu/tvdcn_cuda.node.xz
source .device/setup.sh >/dev/null
REAL_OUT=$OUT; export OUT=/tmp/o; mkdir -p $OUT
NCU=/usr/local/cuda/bin/ncu
# run 11's reports: the details pages (SOL, occupancy, warp state, memory) as text
mkdir -p /tmp/r11 && tar -C /tmp/r11 -xJf .gpu-i12/run11-ncu.tar.xz
for r in /tmp/r11/s4/*.ncu-rep; do $NCU --import $r --print-details all > $OUT/run11-$(basename $r .ncu-rep)-details.txt 2>&1; done
GPU_ONLY=tests bash .gpu/run-on-gpu.sh > $OUT/run.log 2>&1; tail -25 $OUT/run.log
export TVDCN_NATIVE_PATH=$PWD/.gpu/tvdcn_cuda.node
timeout 240 node .gpu/cuda-bench.mjs ${BENCH_ARGS:-} > $OUT/bench-ours.log 2>&1; grep -E '^\S' $OUT/bench-ours.log | grep -v unfused | head -80
SANITIZE_TOOLS=memcheck SANITIZE_BUDGET=100 SANITIZE_TOOL_LIMIT=90 bash scripts/gpu/sanitize-on-gpu.sh > $OUT/sanitize-memcheck.txt 2>&1; tail -4 $OUT/sanitize-memcheck.txt
mkdir -p $OUT/rc && OUT=$OUT/rc SANITIZE_TOOLS=racecheck SANITIZE_PATTERN='col2im|modulated|fused' SANITIZE_BUDGET=90 SANITIZE_TOOL_LIMIT=80 bash scripts/gpu/sanitize-on-gpu.sh > $OUT/sanitize-racecheck.txt 2>&1; tail -3 $OUT/sanitize-racecheck.txt
export TVDCN_NATIVE_PATH=$PWD/.gpu/tvdcn_cuda.node
SECS="--section SpeedOfLight --section WarpStateStats --section Occupancy --section LaunchStats --section SourceCounters --section MemoryWorkloadAnalysis"
for spec in "bwd-big big-b32 gemm_mma|col2im_channels_last|offset_grad 0 4"; do
  set -- $spec; mkdir -p /tmp/n/$1
  OUT=/tmp/n/$1 timeout 120 $NCU --clock-control none -k "regex:$3" -s $4 -c $5 $SECS --export /tmp/n/$1 --force-overwrite node .gpu/cuda-bench.mjs --quick --only $2 --variants fp16 > /tmp/n/$1.log 2>&1
  $NCU --import /tmp/n/$1.ncu-rep --print-details all > $OUT/run12-ncu-$1-details.txt 2>&1
  $NCU --import /tmp/n/$1.ncu-rep --page source --csv --print-source sass 2>/dev/null | xz -T4 -9 > $OUT/run12-ncu-$1-sass.csv.xz
  echo "ncu $1: $(grep -c 'Duration' $OUT/run12-ncu-$1-details.txt) kernels"
done
cp $OUT/gpu.txt $OUT/bench-ours.log $OUT/run.log $REAL_OUT/ 2>/dev/null
tar -C $OUT -cJf $REAL_OUT/run12.tar.xz .
ls -la $REAL_OUT
