#!/usr/bin/env bash
# Session 21: where the host time of one CUDA forward goes (r50-c5 float16).
set -u
source .device/setup.sh >/dev/null
G=${S18_DIR:-$PWD/.gpu-s21}
rm -rf .gpu && mkdir -p .gpu && cp $G/*.mjs .gpu/ && xz -dc $G/tvdcn_cuda.node.xz > .gpu/tvdcn_cuda.node
export TVDCN_NATIVE_PATH=$PWD/.gpu/tvdcn_cuda.node
nvidia-smi --query-gpu=name --format=csv,noheader
ls /usr/local/cuda/bin | tr '\n' ' '; echo; ls -d /opt/nvidia/* 2>/dev/null; command -v nsys perf strace ltrace gdb
NSYS=$(command -v nsys || ls /usr/local/cuda/bin/nsys /opt/nvidia/nsight-systems/*/bin/nsys /usr/local/cuda/nsight-systems*/bin/nsys 2>/dev/null | head -1)
echo "nsys: $NSYS"
cd .gpu
SHAPES=r50-c5,small DTYPES=float16,float32 node hostloop.mjs
SHAPES=r50-c5 DTYPES=float16 node --cpu-prof --cpu-prof-dir=$OUT/prof --cpu-prof-interval 25 hostloop.mjs
if [ -n "$NSYS" ]; then
  N=200 SHAPES=r50-c5 DTYPES=float16 timeout 200 $NSYS profile --trace=cuda,osrt --sample=none -o $OUT/host -f true node hostloop.mjs > $OUT/nsys.log 2>&1; echo "nsys rc=$?"
  timeout 120 $NSYS stats --report cuda_api_sum,cuda_api_trace --format csv -o $OUT/host $OUT/host.nsys-rep > $OUT/stats.log 2>&1; echo "stats rc=$?"
  ls $OUT; head -40 $OUT/host_cuda_api_sum.csv 2>/dev/null
fi
