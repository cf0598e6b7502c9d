#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Nsight Compute readings of chosen kernels of the forward (issue 12; session 28 first: the im2col kernels of
# edvr-64 and r50-c4). Runs on the device from the repository root, carry [".device", "<staged dir>"] where the staged
# dir (NCU_DIR, default .gpu-stage) is what scripts/gpu/stage-compact.sh makes. NCU_CASES lists the readings, each
# name:shape:variant:kernel-regex:skip:count (one bench process each, --quick --forward-only); the summary lines are
# printed, the reports' details and everything else come back packed in $OUT/ncu.tar.xz.
set -u
source .device/setup.sh >/dev/null
G=${NCU_DIR:-$PWD/.gpu-stage}
rm -rf .gpu && mkdir -p .gpu && cp $G/*.mjs $G/suite.json $G/commit.txt .gpu/ && xz -dc $G/tvdcn_cuda.node.xz > .gpu/tvdcn_cuda.node
export TVDCN_NATIVE_PATH=$PWD/.gpu/tvdcn_cuda.node
NCU=$(command -v ncu || ls /usr/local/cuda/bin/ncu /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
R=/tmp/ncu-kernels; rm -rf $R; mkdir -p $R
{ echo "commit: $(head -1 .gpu/commit.txt)"; echo "ncu: $NCU"; $NCU --version | tail -1
  nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader; } | tee $R/gpu.txt
SECS="--section SpeedOfLight --section MemoryWorkloadAnalysis --section MemoryWorkloadAnalysis_Tables --section ComputeWorkloadAnalysis --section WarpStateStats --section SchedulerStats --section Occupancy --section LaunchStats --section InstructionStats"
for c in ${NCU_CASES:-edvr16:edvr-64:fp16:im2col:2:1 edvr32:edvr-64:tf32:im2col:2:1 r50c4:r50-c4:fp16:im2col:2:1}; do
  IFS=: read -r name shape variant regex skip count <<< "$c"
  mkdir -p $R/$name-bench
  OUT=$R/$name-bench timeout ${NCU_LIMIT:-120} $NCU --clock-control none -k "regex:$regex" -s $skip -c $count $SECS \
    --export $R/$name --force-overwrite node .gpu/cuda-bench.mjs --quick --forward-only --only $shape --variants "$variant" > $R/$name.log 2>&1
  echo "== $name ($shape $variant, /$regex/) rc=$?"
  $NCU --import $R/$name.ncu-rep --print-details all > $R/$name.txt 2>&1
  grep -E '^  [a-zA-Z_].*(im2col|gemm|kernel)|Duration|Registers Per Thread|Achieved Occupancy|Theoretical Occupancy|Warp Cycles Per Issued|Compute \(SM\) Throughput|Memory Throughput|L1/TEX Cache Throughput|L2 Cache Throughput|DRAM Throughput|L1/TEX Hit|L2 Hit|Issue Slots Busy|No Eligible|Executed Ipc A|Executed Instructions  ' $R/$name.txt | head -30
done
tar -C /tmp -cJf $OUT/ncu.tar.xz ncu-kernels
