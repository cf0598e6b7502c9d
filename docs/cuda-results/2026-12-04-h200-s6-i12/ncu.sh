#!/usr/bin/env bash
# Issue 12, sixth session (helper i12): ncu readings of the transposed forward's kernels (col2im,
# channels_first, the dcol product) on tr2d-256 and tr3d-64, one launch each, from the benchmark.
# Staged like ab.sh (.gpu-i12 with the xz-compressed addon, .device carried); text outputs to $OUT.
set -u
source .device/setup.sh >/dev/null
[ -d .gpu ] || { cp -r .gpu-i12 .gpu && for f in .gpu/*.node.xz; do xz -d "$f"; done; }
export TVDCN_NATIVE_PATH=$PWD/.gpu/tvdcn_cuda.node PYTHONUNBUFFERED=1
NCU=$(command -v ncu || ls /usr/local/cuda/bin/ncu /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
R=/tmp/ncu; mkdir -p $R
SECS="--section SpeedOfLight --section MemoryWorkloadAnalysis --section MemoryWorkloadAnalysis_Tables --section WarpStateStats --section Occupancy --section LaunchStats --section SchedulerStats"
prof() { # name shape variant kernel-regex skip count
  mkdir -p $R/$1-bench
  OUT=$R/$1-bench timeout ${T:-100} $NCU --clock-control none -k "regex:$4" -s $5 -c $6 $SECS --print-details all \
    node .gpu/cuda-bench.mjs --quick --only $2 --variants $3 > $R/$1.txt 2>&1
  echo "== $1 rc=$? $(grep -c 'Section: GPU Speed' $R/$1.txt) kernels"
  grep -E '^  [a-z_ ]*(void|gemm|col2im|channels)|Duration|Registers Per|Achieved Occ|Warp Cycles Per Issued|Compute \(SM\) Th|Memory Throughput  |L2 Hit|L1/TEX Hit|DRAM Throughput|Issue Slots Busy|No Eligible|Stall Long|Stall LG|lts__|L2 Cache Throughput|Max Bandwidth' $R/$1.txt | head -30
}
prof col2im-tr2d tr2d-256 fp16 col2im_channels_last 2 1
prof col2im-tr3d tr3d-64 fp16 col2im_channels_last 2 1
prof dcol-tr2d-tf32 tr2d-256 tf32 gemm_mma_async 2 1
cd $R && tar -cJf $OUT/ncu.tar.xz *.txt
