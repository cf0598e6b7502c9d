#!/usr/bin/env bash
# Session 21, run 6: a CPU profile of r50-c5's float16 forward loop (3000 calls, modules loaded eagerly), the
# host marks of the buffer form against the view form (the scratch build of runs 3 and 5), the binding test.
set -u
source .device/setup.sh >/dev/null
G=${S18_DIR:-$PWD/.gpu-s21}
rm -rf .gpu && mkdir -p .gpu && cp $G/*.mjs $G/*.py $G/*.sh $G/suite.json $G/commit.txt .gpu/ && xz -dc $G/tvdcn_cuda.node.xz > .gpu/tvdcn_cuda.node
export TVDCN_NATIVE_PATH=$PWD/.gpu/tvdcn_cuda.node CUDA_MODULE_LOADING=EAGER
(cd .gpu && N=3000 SHAPES=r50-c5 DTYPES=float16 node --cpu-prof --cpu-prof-dir=$OUT/prof --cpu-prof-interval 20 hostloop.mjs)
(cd .gpu && for v in 0 1 0 1; do VIEWS=$v TVDCN_HOSTT=1 N=2000 SHAPES=r50-c5 DTYPES=float16 node hostloop.mjs 2>&1 | grep -E 'median|args|checks|im2col|gemm' | tr '\n' ' '; echo " views=$v"; done)
timeout 200 node --test --test-reporter=spec --test-name-pattern="binding: deform conv" .gpu/cuda-tests.mjs > $OUT/tests-binding.log 2>&1; echo "binding test rc=$?"
