#!/usr/bin/env bash
# Session 21: the backward's host time and gaps (buffer form against views, alternated), its JS profile, the binding test.
set -u
source .device/setup.sh >/dev/null
G=${S18_DIR:-$PWD/.gpu-s21}
rm -rf .gpu && mkdir -p .gpu && cp $G/*.mjs $G/*.py $G/*.sh $G/suite.json $G/commit.txt .gpu/ && xz -dc $G/tvdcn_cuda.node.xz > .gpu/tvdcn_cuda.node
export TVDCN_NATIVE_PATH=$PWD/.gpu/tvdcn_cuda.node CUDA_MODULE_LOADING=EAGER
(cd .gpu && for round in 1 2; do for v in 0 1; do echo "== round $round views=$v"; VIEWS=$v N=200 node hostloop-backward.mjs 2>&1; done; done) | tee $OUT/bwd-ab.txt
(cd .gpu && N=1000 SHAPES=r50-c5 node --cpu-prof --cpu-prof-dir=$OUT/prof --cpu-prof-interval 20 hostloop-backward.mjs > /dev/null 2>&1)
timeout 200 node --test --test-reporter=spec --test-name-pattern="binding: deform conv" .gpu/cuda-tests.mjs > $OUT/tests-binding.log 2>&1; echo "binding test rc=$?"
grep -E '✔ binding|✖|ℹ (pass|fail)' $OUT/tests-binding.log | head -5; grep -A8 'AssertionError' $OUT/tests-binding.log | head -20
