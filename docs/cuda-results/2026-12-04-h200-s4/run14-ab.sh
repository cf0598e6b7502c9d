#!/usr/bin/env bash
# Run 14: GPU tests + memcheck of the new build, then A/B of run 12's addon (prev) against it (new),
# ABAB, fp16 and fp32 variants.
set -u
rm -rf .gpu && mkdir .gpu && cp -r .gpu-i12/bundle/. .gpu/ && rm -f .gpu/tvdcn_cuda.node.xz && xz -dc .gpu-i12/new.node.xz > .gpu/tvdcn_cuda.node
xz -dc .gpu-i12/bundle/tvdcn_cuda.node.xz > /tmp/prev.node
source .device/setup.sh >/dev/null
REAL_OUT=$OUT; export OUT=/tmp/o; mkdir -p $OUT
GPU_ONLY=tests bash .gpu/run-on-gpu.sh > $OUT/run.log 2>&1; grep -E '^ℹ (tests|pass|fail)' $OUT/run.log | head -3
SANITIZE_TOOLS=memcheck SANITIZE_BUDGET=60 SANITIZE_TOOL_LIMIT=55 bash scripts/gpu/sanitize-on-gpu.sh > $OUT/sanitize-memcheck.txt 2>&1; tail -3 $OUT/sanitize-memcheck.txt
for round in 1 2; do
  for v in prev new; do
    [ $v = prev ] && lib=/tmp/prev.node || lib=$PWD/.gpu/tvdcn_cuda.node
    mkdir -p $OUT/$v$round
    OUT=$OUT/$v$round TVDCN_NATIVE_PATH=$lib timeout 100 node .gpu/cuda-bench.mjs --variants fp16,fp32 > $OUT/$v$round.log 2>&1
    echo "$v$round rc=$?"
  done
done
cp $OUT/prev1.log $OUT/new1.log $OUT/prev2.log $OUT/new2.log $OUT/run.log $REAL_OUT/
tar -C $OUT -cJf $REAL_OUT/run14.tar.xz .
