#!/usr/bin/env bash
# Session 16: ncu of gemm_wgmma_tf32_kernel (the forward products of r50-c5 / big-b32, tf32 and fp32 = 3xTF32).
# carry [".device", ".gpu-s16"]; NCU_KERNEL (regex), NCU_CASES ("shape:variant ...").
set -u
source .device/setup.sh >/dev/null
rm -rf .gpu && mkdir -p .gpu && cp .gpu-s16/*.mjs .gpu-s16/suite.json .gpu-s16/commit.txt .gpu/ && xz -dc .gpu-s16/tvdcn_cuda.node.xz > .gpu/tvdcn_cuda.node
export TVDCN_NATIVE_PATH=$PWD/.gpu/tvdcn_cuda.node
NCU=$(command -v ncu || ls /usr/local/cuda/bin/ncu /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
SECS="--section SpeedOfLight --section MemoryWorkloadAnalysis --section ComputeWorkloadAnalysis --section WarpStateStats --section Occupancy --section LaunchStats --section SchedulerStats --section InstructionStats"
R=/tmp/n16; mkdir -p $R
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv > $R/gpu.txt
for c in ${NCU_CASES:-r50-c5:tf32 r50-c5:fp32}; do
  shape=${c%%:*}; v=${c##*:}
  OUT=$R/b timeout 120 $NCU --clock-control none -k "regex:${NCU_KERNEL:-gemm_wgmma_tf32}" -s 1 -c 1 $SECS \
    node .gpu/cuda-bench.mjs --quick --all --only $shape --variants "$v" --forward-only > $R/$shape-$v.txt 2>&1
  echo "== $shape $v rc=$?"
  grep -E '^  [a-z_]*gemm|Duration|Memory Throughput|DRAM Throughput|L1/TEX Cache Throughput|L2 Cache Throughput|Compute \(SM\) Throughput|Achieved Occupancy|Registers Per|Warp Cycles Per Issued|Issue Slots Busy|No Eligible|Shared Memory|Executed Ipc|Stall|Bank' $R/$shape-$v.txt | head -40
done
cd $R && tar -cJf $OUT/ncu-wgmma-tf32.tar.xz *.txt
