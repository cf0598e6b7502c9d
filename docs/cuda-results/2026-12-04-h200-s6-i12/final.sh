#!/usr/bin/env bash
# Issue 12, sixth session (helper i12), the final run: the GPU suite (full list) and memcheck (quick list)
# on the new addon, then the whole benchmark with each addon (new, base, new: a same-machine A/B of every
# shape) and torch_bench (torchvision, cuDNN) once; report.py makes the table of the first new run.
# Staged like ab.sh (.gpu-i12: tvdcn_cuda.node.xz = new, base.node.xz = main afad651); logs to $OUT.
set -u
source .device/setup.sh >/dev/null
rm -rf .gpu && cp -r .gpu-i12 .gpu
for f in .gpu/*.node.xz; do xz -d "$f"; done
export PYTHONUNBUFFERED=1
REAL_OUT=$OUT; export OUT=/tmp/o; mkdir -p $OUT
ROOT=$PWD; t0=$SECONDS
GPU_ONLY=tests TESTS_TIMEOUT=200 bash .gpu/run-on-gpu.sh > $OUT/run.log 2>&1
cp $OUT/gpu.txt $REAL_OUT/
grep -E '^ℹ (tests|pass|fail)|✖' $OUT/run.log | head -12
echo "tests done at $((SECONDS - t0)) s"
SANITIZE_TOOLS=memcheck SANITIZE_BUDGET=${MEMCHECK_S:-140} SANITIZE_TOOL_LIMIT=${MEMCHECK_S:-140} bash scripts/gpu/sanitize-on-gpu.sh > $OUT/sanitize.txt 2>&1
tail -4 $OUT/sanitize.txt
echo "memcheck done at $((SECONDS - t0)) s"
bench() { # tag, addon
  mkdir -p $OUT/$1
  TVDCN_NATIVE_PATH=$ROOT/.gpu/$2 OUT=$OUT/$1 timeout 150 node .gpu/cuda-bench.mjs > $OUT/bench-$1.log 2>&1
  echo "$1 rc=$? at $((SECONDS - t0)) s"
}
bench B1 tvdcn_cuda.node
bench A1 base.node
bench B2 tvdcn_cuda.node
timeout 170 python3 .gpu/torch_bench.py > $OUT/bench-torch.log 2>&1; echo "torch rc=$? at $((SECONDS - t0)) s"
cp $OUT/B1/bench-ours.json $OUT/bench-ours.json
(cd $OUT && python3 $ROOT/.gpu/report.py > $OUT/report.log 2>&1) || true
python3 .gpu/ab.py $OUT/bench-A1.log $OUT/bench-B1.log,$OUT/bench-B2.log > $OUT/ab.md 2>&1
cd $OUT && tar -cJf $REAL_OUT/final.tar.xz *.log *.txt */bench-ours.json bench-ours.json bench-torch.json bench.md ab.md sanitizer-* 2>/dev/null
cp $OUT/bench.md $OUT/ab.md $OUT/tests.log $REAL_OUT/ 2>/dev/null
head -14 $OUT/bench.md
echo "all done at $((SECONDS - t0)) s"
