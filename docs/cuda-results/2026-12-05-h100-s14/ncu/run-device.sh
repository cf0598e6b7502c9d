#!/usr/bin/env bash
# Session 14: ncu of im2col_kernel (thread) against im2col_warp_kernel on r50-c3 (2D: warp slower) and 3d-c64 (warp faster), fp16 forward unfused.
set -u
source .device/setup.sh >/dev/null
rm -rf .gpu && mkdir -p .gpu && cp .gpu-s14/*.mjs .gpu-s14/suite.json .gpu-s14/commit.txt .gpu/ && xz -dc .gpu-s14/tvdcn_cuda.node.xz > .gpu/tvdcn_cuda.node
export TVDCN_NATIVE_PATH=$PWD/.gpu/tvdcn_cuda.node
NCU=$(command -v ncu || ls /usr/local/cuda/bin/ncu /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
SECS="--section SpeedOfLight --section MemoryWorkloadAnalysis --section WarpStateStats --section Occupancy --section LaunchStats --section SchedulerStats"
R=/tmp/n14; mkdir -p $R
for shape in r50-c3 3d-c64; do for mode in thread warp; do
  TVDCN_CUDA_IM2COL=$mode OUT=$R/b timeout 100 $NCU --clock-control none -k "regex:im2col_(warp_)?kernel" -s 2 -c 1 $SECS \
    node .gpu/cuda-bench.mjs --quick --all --only $shape --variants "fp16 unfused" --forward-only > $R/$shape-$mode.txt 2>&1
  echo "== $shape $mode rc=$?"
  grep -E '^  [a-z_]*im2col|Duration|Memory Throughput|DRAM Throughput|L1/TEX Cache Throughput|L2 Cache Throughput|L1/TEX Hit|L2 Hit|Achieved Occupancy|Theoretical Occupancy|Registers Per|Warp Cycles Per Issued|Issue Slots Busy|No Eligible|Mem Busy|Max Bandwidth|Block Limit' $R/$shape-$mode.txt | head -30
done; done
cd $R && tar -cJf $OUT/ncu-im2col.tar.xz *.txt
