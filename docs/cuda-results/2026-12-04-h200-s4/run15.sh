#!/usr/bin/env bash
# Run 15: GPU suite (with the vector-vs-element GEMM loader test) and memcheck of the final tree.
set -u
rm -rf .gpu && mkdir .gpu && cp -r .gpu-i12/bundle15/. .gpu/ && xz -d .gpu/tvdcn_cuda.node.xz
source .device/setup.sh >/dev/null
REAL_OUT=$OUT; export OUT=/tmp/o; mkdir -p $OUT
GPU_ONLY=tests TESTS_TIMEOUT=120 bash .gpu/run-on-gpu.sh > $OUT/run.log 2>&1; grep -E '^ℹ (tests|pass|fail)|loads|✖' $OUT/run.log | head -12
grep -E "16-bit GEMM" $OUT/tests.log | head -3
SANITIZE_TOOLS=memcheck SANITIZE_BUDGET=60 SANITIZE_TOOL_LIMIT=55 bash scripts/gpu/sanitize-on-gpu.sh > $OUT/sanitize-memcheck.txt 2>&1; tail -3 $OUT/sanitize-memcheck.txt
grep -E "16-bit GEMM" $OUT/sanitizer-memcheck-tests.log | head -2
cp $OUT/run.log $OUT/tests.log $OUT/sanitize-memcheck.txt $REAL_OUT/
