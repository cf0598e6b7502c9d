#!/usr/bin/env bash
# A/B on one machine: main's addon (run 9's kernels) against this branch's, the benchmark alternated
# twice (ABAB), plus racecheck on the col2im cases with more time.
set -u
rm -rf .gpu && mkdir .gpu && cp -r .gpu-i12/bundle/. .gpu/ && xz -d .gpu/tvdcn_cuda.node.xz
xz -dc .gpu-i12/main-tvdcn_cuda.node.xz > /tmp/main.node
source .device/setup.sh >/dev/null
REAL_OUT=$OUT; export OUT=/tmp/o; mkdir -p $OUT
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv > $OUT/gpu.txt
for round in 1 2; do
  for v in main branch; do
    [ $v = main ] && lib=/tmp/main.node || lib=$PWD/.gpu/tvdcn_cuda.node
    mkdir -p $OUT/$v$round
    OUT=$OUT/$v$round TVDCN_NATIVE_PATH=$lib timeout 200 node .gpu/cuda-bench.mjs ${BENCH_ARGS:-} > $OUT/$v$round.log 2>&1
    echo "$v$round rc=$?"
  done
done
mkdir -p $OUT/rc && OUT=$OUT/rc SANITIZE_TOOLS=racecheck SANITIZE_PATTERN='col2im' SANITIZE_BUDGET=100 SANITIZE_TOOL_LIMIT=95 bash scripts/gpu/sanitize-on-gpu.sh > $OUT/sanitize-racecheck.txt 2>&1; tail -3 $OUT/sanitize-racecheck.txt
cp $OUT/*.log $REAL_OUT/
tar -C $OUT -cJf $REAL_OUT/ab.tar.xz .
