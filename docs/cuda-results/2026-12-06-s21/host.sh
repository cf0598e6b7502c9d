#!/usr/bin/env bash
# Session 21: host time of one CUDA forward, the buffer form against the view form (VIEWS=1), alternated;
# with the scratch TVDCN_HOSTT marks where the build has them.
set -u
source .device/setup.sh >/dev/null
G=${S18_DIR:-$PWD/.gpu-s21}
rm -rf .gpu && mkdir -p .gpu && cp $G/*.mjs $G/*.py $G/*.sh $G/suite.json $G/commit.txt .gpu/ && xz -dc $G/tvdcn_cuda.node.xz > .gpu/tvdcn_cuda.node
export TVDCN_NATIVE_PATH=$PWD/.gpu/tvdcn_cuda.node
nvidia-smi --query-gpu=name --format=csv,noheader
(cd .gpu
for round in 1 2; do for v in 0 1; do for s in ${HOST_SHAPES:-r50-c5:float16 r50-c5:float32 small:float16}; do
  echo "== round $round views=$v $s"; CUDA_MODULE_LOADING=EAGER VIEWS=$v TVDCN_HOSTT=${HOSTT:-1} N=${N:-2000} SHAPES=${s%%:*} DTYPES=${s##*:} node hostloop.mjs 2>&1 | grep -v ' x 2000$\| x 200[0-9]$' ; CUDA_MODULE_LOADING=EAGER VIEWS=$v TVDCN_HOSTT=1 N=${N:-2000} SHAPES=${s%%:*} DTYPES=${s##*:} node hostloop.mjs 2>&1 | grep -E 'args|checks' | tr '\n' ' '; echo
done; done; done)
