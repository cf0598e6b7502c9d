#!/usr/bin/env bash
# Issue 12, session 4: ncu readings of the fused forward, col2im, offset/mask-gradient and GEMM kernels.
# Runs on the device from the repository root with .device, .gpu (a built addon, scripts/gpu-check.sh) and
# this script carried; writes the text outputs and a tarball of the reports and source pages to $OUT.
set -u
source .device/setup.sh >/dev/null
[ -f .gpu/tvdcn_cuda.node ] || xz -d .gpu/tvdcn_cuda.node.xz
export TVDCN_NATIVE_PATH=$PWD/.gpu/tvdcn_cuda.node PYTHONUNBUFFERED=1
NCU=$(command -v ncu || ls /usr/local/cuda/bin/ncu /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
R=/tmp/s4; mkdir -p $R
{ echo "commit: $(head -1 .gpu/commit.txt)"; echo "ncu: $NCU"; $NCU --version | tail -1
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv; } > $R/gpu.txt 2>&1
cat $R/gpu.txt
CUOBJ=$(command -v cuobjdump || ls /usr/local/cuda/bin/cuobjdump 2>/dev/null | head -1)
$CUOBJ --dump-resource-usage .gpu/tvdcn_cuda.node 2>&1 | grep -A1 -E 'fused_forward_kernel|col2im_channels_last|offset_grad_kernel|gemm_mma|im2col_kernel' > $R/resource-usage.txt
grep -c Function $R/resource-usage.txt
SECS="--section SpeedOfLight --section MemoryWorkloadAnalysis --section MemoryWorkloadAnalysis_Tables --section ComputeWorkloadAnalysis --section WarpStateStats --section SchedulerStats --section Occupancy --section LaunchStats --section InstructionStats --section SourceCounters"
prof() { # name shape kernel-regex skip count
  mkdir -p $R/$1-bench
  OUT=$R/$1-bench timeout ${T:-150} $NCU --clock-control none -k "regex:$3" -s $4 -c $5 $SECS --print-details all \
    --export $R/$1 --force-overwrite node .gpu/cuda-bench.mjs --quick --only $2 --variants fp16 > $R/$1.txt 2>&1
  rc=$?
  if ! grep -q 'Section: GPU Speed' $R/$1.txt; then
    echo "== $1 failed (rc $rc), retrying with fewer sections"; tail -5 $R/$1.txt
    OUT=$R/$1-bench timeout ${T:-150} $NCU --clock-control none -k "regex:$3" -s $4 -c $5 --set full \
      --export $R/$1 --force-overwrite node .gpu/cuda-bench.mjs --quick --only $2 --variants fp16 > $R/$1.txt 2>&1
    rc=$?
  fi
  echo "== $1 rc=$rc $(grep -c 'Section: GPU Speed' $R/$1.txt) kernels"
  grep -E '^  [a-z_ ]*(void|fused|gemm|col2im|offset)|Duration|Registers Per|Achieved Occ|Warp Cycles Per Issued|Compute \(SM\) Th|Memory Throughput  |Local Memory Spill|L1/TEX Hit|L2 Hit|Issue Slots Busy|No Eligible|Executed Ipc A' $R/$1.txt | head -40
  # with --export ncu prints nothing: the details pages come from the report
  $NCU --import $R/$1.ncu-rep --print-details all > $R/$1-details.txt 2>&1 || true
  $NCU --import $R/$1.ncu-rep --page source --csv --print-source sass > $R/$1-sass.csv 2>&1 || true
}
prof fwd-r50c4 r50-c4 fused_forward_kernel 2 1
prof fwd-r50c3 r50-c3 fused_forward_kernel 2 1
prof fwd-3d 3d-c64 fused_forward_kernel 2 1
prof bwd-big big-b32 'gemm_mma|col2im_channels_last|offset_grad' 0 4
prof bwd-3d 3d-c64 'col2im_channels_last|offset_grad' 0 2
ls -la $R
tar -C /tmp -cJf $OUT/ncu-s4.tar.xz s4
cp $R/*.txt $OUT/ 2>/dev/null; ls $OUT | head
