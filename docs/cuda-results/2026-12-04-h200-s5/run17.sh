#!/usr/bin/env bash
# Run 17 (issue 12, fifth session; the 16-bit products on 128 x 128 tiles only): the GPU suite (full list: the new 16-bit GEMM tile test and the
# >2^31-element test with its int64 index maps), memcheck on the quick list, then a same-binary A/B of the
# 16-bit GEMM (TVDCN_CUDA_GEMM16=regs: the register-staged kernel; unset: the cp.async ring), alternated
# regs, async, regs, async, and torch_bench (torchvision, cuDNN) once. Carry .device and .gpu (a stripped,
# xz-compressed addon from scripts/gpu-check.sh); logs to $OUT.
set -u
[ -f .gpu/tvdcn_cuda.node ] || xz -d .gpu/tvdcn_cuda.node.xz
source .device/setup.sh >/dev/null
export TVDCN_NATIVE_PATH=$PWD/.gpu/tvdcn_cuda.node PYTHONUNBUFFERED=1
REAL_OUT=$OUT; export OUT=/tmp/o; mkdir -p $OUT
t0=$SECONDS
CUOBJ=$(command -v cuobjdump || ls /usr/local/cuda/bin/cuobjdump 2>/dev/null | head -1)
$CUOBJ --dump-resource-usage .gpu/tvdcn_cuda.node 2>&1 | grep -A1 -E 'gemm_mma16_async_kernel|gemm_mma_kernel' \
  | grep -oE 'gemm_mma[a-z0-9_]*kernel[^(]*|REG:[0-9]+|STACK:[0-9]+|SHARED:[0-9]+|LOCAL:[0-9]+' | paste -d' ' - - - - - > $OUT/resource-usage.txt
grep mma16 $OUT/resource-usage.txt | head -4
GPU_ONLY=tests TESTS_TIMEOUT=150 bash .gpu/run-on-gpu.sh > $OUT/run.log 2>&1
grep -E '^ℹ (tests|pass|fail)|✖' $OUT/run.log | head -12
grep -E '2\^31|16-bit GEMM' $OUT/tests.log | head -6
echo "tests done at $((SECONDS - t0)) s"
SANITIZE_TOOLS=memcheck SANITIZE_BUDGET=75 SANITIZE_TOOL_LIMIT=70 bash scripts/gpu/sanitize-on-gpu.sh > $OUT/sanitize.txt 2>&1
tail -3 $OUT/sanitize.txt; grep -E '16-bit GEMM' $OUT/sanitizer-memcheck-tests.log | head -3
echo "memcheck done at $((SECONDS - t0)) s"
bench() { # tag, env, args...
  local tag=$1 env=$2; shift 2
  mkdir -p $OUT/$tag
  env $env OUT=$OUT/$tag timeout 150 node .gpu/cuda-bench.mjs "$@" > $OUT/bench-$tag.log 2>&1
  echo "$tag rc=$? at $((SECONDS - t0)) s"
}
bench regs1 TVDCN_CUDA_GEMM16=regs --variants fp16,bf16
bench async1 X=1
cp $OUT/async1/bench-ours.json $OUT/bench-ours.json
timeout 170 python3 .gpu/torch_bench.py > $OUT/bench-torch.log 2>&1; echo "torch rc=$? at $((SECONDS - t0)) s"
python3 .gpu/report.py > $OUT/report.log 2>&1; cp $OUT/bench.md $OUT/report.log $REAL_OUT/ 2>/dev/null
[ $((SECONDS - t0)) -lt 430 ] && bench regs2 TVDCN_CUDA_GEMM16=regs --variants fp16,bf16
[ $((SECONDS - t0)) -lt 470 ] && bench async2 X=1 --variants fp16,bf16
grep -E 'gemm' $OUT/bench-async1.log | head -3
cd $OUT && tar -cJf $REAL_OUT/run17.tar.xz *.log *.txt bench-*.log */bench-ours.json bench-ours.json bench-torch.json 2>/dev/null
cp $OUT/run.log $OUT/sanitize.txt $OUT/bench-async1.log $REAL_OUT/
echo "all done at $((SECONDS - t0)) s"
