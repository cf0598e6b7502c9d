#!/usr/bin/env bash
# Session 21: host and GPU time of one forward, the buffer form (VIEWS=0) against the view form (VIEWS=1),
# alternated, 3 rounds (no scratch marks). Then the suite, the hashes and the bench (run-device.sh).
set -u
source .device/setup.sh >/dev/null
G=${S18_DIR:-$PWD/.gpu-s21}
rm -rf .gpu && mkdir -p .gpu && cp $G/*.mjs $G/*.py $G/*.sh $G/suite.json $G/commit.txt .gpu/ && xz -dc $G/tvdcn_cuda.node.xz > .gpu/tvdcn_cuda.node
export TVDCN_NATIVE_PATH=$PWD/.gpu/tvdcn_cuda.node
(cd .gpu && for round in 1 2 3; do for v in 0 1; do for s in r50-c5:float16 small:float16 r50-c4:float16; do
  echo "round $round views=$v $(CUDA_MODULE_LOADING=EAGER VIEWS=$v N=2000 SHAPES=${s%%:*} DTYPES=${s##*:} node hostloop.mjs 2>&1)"
done; done; done) | tee $OUT/host-ab.txt
