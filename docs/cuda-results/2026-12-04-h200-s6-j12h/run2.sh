#!/usr/bin/env bash
# Issue 12, session 6, helper j12h, second call: run 1's A (.gpu-i12's addon) was not main's build, so
# A = main 7c1ed5c built here with the same toolchain as B (main.node.xz), B = s6-j12h, the .gpu-i12 addon
# kept as C. Probe: (A, B, C) x 3; benchmark rows (A, B) x 3, torch_bench once. Logs straight to $OUT.
set -u
source .device/setup.sh >/dev/null
rm -rf .gpu && cp -r .gpu-j12h .gpu
for f in .gpu/*.node.xz; do xz -d "$f"; done
export PYTHONUNBUFFERED=1
R=$OUT; export OUT=/tmp/o; mkdir -p $OUT
ROOT=$PWD; t0=$SECONDS
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,temperature.gpu,power.draw --format=csv > $R/gpu.txt 2>&1
probe() { echo "== $1" >> $R/probe.log; TVDCN_NATIVE_PATH=$ROOT/.gpu/$2 timeout 40 node .gpu/probe.mjs >> $R/probe.log 2>&1; echo "probe $1 rc=$? at $((SECONDS - t0)) s"; }
for i in 1 2 3; do probe A$i main.node; probe B$i tvdcn_cuda.node; probe C$i base.node; done
cat $R/probe.log
ONLY=${AB_ONLY:-1d-c256,3d-c64,tr2d-256,tr3d-64}; V=${AB_VARIANTS:-fp16,bf16}
bench() { mkdir -p $OUT/$1
  TVDCN_NATIVE_PATH=$ROOT/.gpu/$2 OUT=$OUT/$1 timeout 45 node .gpu/cuda-bench.mjs --all --only "$ONLY" --variants "$V" > $R/bench-$1.log 2>&1
  echo "$1 rc=$? at $((SECONDS - t0)) s"; }
for i in 1 2 3; do bench A$i main.node; bench B$i tvdcn_cuda.node; done
timeout 60 python3 .gpu/torch_bench.py --only "$ONLY" > $R/bench-torch.log 2>&1; echo "torch rc=$? at $((SECONDS - t0)) s"
python3 .gpu/ab.py $R/bench-A1.log,$R/bench-A2.log,$R/bench-A3.log $R/bench-B1.log,$R/bench-B2.log,$R/bench-B3.log > $R/ab.md 2>&1
python3 .gpu/ratios.py $R/bench-A1.log,$R/bench-A2.log,$R/bench-A3.log $R/bench-B1.log,$R/bench-B2.log,$R/bench-B3.log $R/bench-torch.log > $R/ratios.txt 2>&1
grep -E 'host|\| fwd \|' $R/ab.md | head -40; cat $R/ratios.txt
echo "all done at $((SECONDS - t0)) s"
