#!/usr/bin/env bash
# Session 15: ncu of gemm_wgmma16_kernel (the forward products of big-b32, r50-c5, r50-c4, fp16, im2col + GEMM).
set -u
source .device/setup.sh >/dev/null
rm -rf .gpu && mkdir -p .gpu && cp .gpu-s15/*.mjs .gpu-s15/suite.json .gpu-s15/commit.txt .gpu/ && xz -dc .gpu-s15/tvdcn_cuda.node.xz > .gpu/tvdcn_cuda.node
export TVDCN_NATIVE_PATH=$PWD/.gpu/tvdcn_cuda.node
NCU=$(command -v ncu || ls /usr/local/cuda/bin/ncu /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
SECS="--section SpeedOfLight --section MemoryWorkloadAnalysis --section ComputeWorkloadAnalysis --section WarpStateStats --section Occupancy --section LaunchStats --section SchedulerStats"
R=/tmp/n15; mkdir -p $R
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv > $R/gpu.txt
for shape in big-b32 r50-c5 r50-c4; do
  OUT=$R/b timeout 120 $NCU --clock-control none -k "regex:gemm_wgmma16" -s 2 -c 1 $SECS \
    node .gpu/cuda-bench.mjs --quick --all --only $shape --variants "fp16 unfused" --forward-only > $R/$shape.txt 2>&1
  echo "== $shape rc=$?"
  grep -E '^  [a-z_]*gemm|Duration|Memory Throughput|DRAM Throughput|L1/TEX Cache Throughput|L2 Cache Throughput|Compute \(SM\) Throughput|L2 Hit|Achieved Occupancy|Registers Per|Warp Cycles Per Issued|Issue Slots Busy|No Eligible|Mem Busy|Max Bandwidth|Grid Size|Dynamic Shared|Waves Per SM|Tensor|Stall|Executed Ipc' $R/$shape.txt | head -40
done
cd $R && tar -cJf $OUT/ncu-wgmma.tar.xz *.txt
