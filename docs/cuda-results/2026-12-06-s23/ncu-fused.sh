#!/usr/bin/env bash
# Session 23: Nsight Compute readings of the fused col2im and offset pass (col2im_offset_fused_kernel) in float16, on
# r50-c3 and 3d-c64 (what bounds it: session 22 left it unmeasured). Runs on the device from the repository root
# after scripts/gpu/ab-on-gpu.sh has unpacked the addon into .gpu/; writes ncu-<name>.txt (the sections' details) to $OUT/ncu.
set -u
source .device/setup.sh >/dev/null
export TVDCN_NATIVE_PATH=$PWD/.gpu/tvdcn_cuda.node
NCU=$(command -v ncu || ls /usr/local/cuda/bin/ncu /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
mkdir -p $OUT/ncu
SECS="--section SpeedOfLight --section MemoryWorkloadAnalysis --section MemoryWorkloadAnalysis_Tables --section WarpStateStats --section SchedulerStats --section Occupancy --section LaunchStats"
for spec in r50-c3 3d-c64; do
  OUT=/tmp/ncu-bench-$spec timeout ${NCU_LIMIT:-90} $NCU --clock-control none -k regex:col2im_offset_fused -s 1 -c 1 $SECS \
    --print-details all node .gpu/cuda-bench.mjs --quick --all --only $spec --variants fp16 > $OUT/ncu/ncu-$spec.txt 2>&1
  echo "== $spec rc=$?"
  grep -E 'Duration|Registers Per|Achieved Occ|Theoretical Occ|Compute \(SM\) Th|Memory Throughput|DRAM Throughput|L1/TEX Hit|L2 Hit|L1/TEX Cache Th|L2 Cache Th|Issue Slots Busy|No Eligible|Warp Cycles Per Issued|Stall|lts__|Mem Busy|Max Bandwidth|Mem Pipes' $OUT/ncu/ncu-$spec.txt | head -40
done
