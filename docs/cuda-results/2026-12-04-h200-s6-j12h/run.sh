#!/usr/bin/env bash
# Issue 12, session 6, helper j12h: the host path per call, one device call. A = main's native sources
# (i12's final build of 48791f5; main 7c1ed5c has the same native tree), B = s6-j12h. The host probe
# (host-probe.ts of run 23, bundled probe.mjs) A B A B; the GPU test suite on B; the benchmark rows
# 1d-c256, 3d-c64, tr2d-256, tr3d-64 (fp16, bf16) A B, torch_bench (cuDNN) once, nsys (CUDA API summary)
# of the probe on A and B when nsys is there, then the benchmark A B again. Logs straight to $OUT.
set -u
source .device/setup.sh >/dev/null
rm -rf .gpu && cp -r .gpu-j12h .gpu
for f in .gpu/*.node.xz; do xz -d "$f"; done
export PYTHONUNBUFFERED=1
R=$OUT; export OUT=/tmp/o; mkdir -p $OUT
ROOT=$PWD; t0=$SECONDS
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,temperature.gpu,power.draw --format=csv > $R/gpu.txt 2>&1
NSYS=$(command -v nsys || ls /usr/local/cuda*/bin/nsys /opt/nvidia/nsight-systems/*/bin/nsys /usr/local/cuda*/nsight-systems*/bin/nsys 2>/dev/null | head -1)
echo "nsys: $NSYS" >> $R/gpu.txt; node --version >> $R/gpu.txt
probe() { echo "== $1" >> $R/probe.log; TVDCN_NATIVE_PATH=$ROOT/.gpu/$2 timeout 40 node .gpu/probe.mjs >> $R/probe.log 2>&1; echo "probe $1 rc=$? at $((SECONDS - t0)) s"; }
probe A1 base.node; probe B1 tvdcn_cuda.node; probe A2 base.node; probe B2 tvdcn_cuda.node
cat $R/probe.log
GPU_ONLY=tests TESTS_TIMEOUT=90 OUT=$OUT bash .gpu/run-on-gpu.sh > $OUT/run.log 2>&1
grep -E '^ℹ (tests|pass|fail)|✖' $OUT/run.log | head -12; cp $OUT/tests.log $R/ 2>/dev/null
echo "tests done at $((SECONDS - t0)) s"
ONLY=${AB_ONLY:-1d-c256,3d-c64,tr2d-256,tr3d-64}; V=${AB_VARIANTS:-fp16,bf16}
bench() { mkdir -p $OUT/$1
  TVDCN_NATIVE_PATH=$ROOT/.gpu/$2 OUT=$OUT/$1 timeout ${BENCH_T:-45} node .gpu/cuda-bench.mjs --all --only "$ONLY" --variants "$V" > $R/bench-$1.log 2>&1
  echo "$1 rc=$? at $((SECONDS - t0)) s"; }
bench A1 base.node; bench B1 tvdcn_cuda.node
timeout 60 python3 .gpu/torch_bench.py --only "$ONLY" > $R/bench-torch.log 2>&1; echo "torch rc=$? at $((SECONDS - t0)) s"
if [ -n "$NSYS" ]; then
  for s in A:base.node B:tvdcn_cuda.node; do
    t=${s%%:*}; a=${s#*:}
    TVDCN_NATIVE_PATH=$ROOT/.gpu/$a timeout 60 $NSYS profile --trace=cuda --sample=none --cpuctxsw=none -o $OUT/nsys-$t -f true node .gpu/probe.mjs > $R/nsys-$t.run.log 2>&1
    timeout 40 $NSYS stats -r cuda_api_sum -f csv -o $R/api-$t $OUT/nsys-$t.nsys-rep > /dev/null 2>&1
    echo "nsys $t at $((SECONDS - t0)) s"
  done
fi
bench A2 base.node; bench B2 tvdcn_cuda.node
python3 .gpu/ab.py $R/bench-A1.log,$R/bench-A2.log $R/bench-B1.log,$R/bench-B2.log > $R/ab.md 2>&1
python3 .gpu/ratios.py $R/bench-A1.log,$R/bench-A2.log $R/bench-B1.log,$R/bench-B2.log $R/bench-torch.log > $R/ratios.md 2>&1
grep -E 'host|\| fwd \|' $R/ab.md | head -40; cat $R/ratios.md
echo "all done at $((SECONDS - t0)) s"
