#!/usr/bin/env bash
# Issue 12, sixth session (helper i12): the windowed col2im (NOTE [ Windowed col2im ]). Checks CUDA against
# the CPU float64 on shapes that take the windowed path (wcheck.mjs, bundled from wcheck.ts) with the
# window and with TVDCN_CUDA_COL2IM=atomic, memcheck and racecheck of that check, the GPU suite, then a
# same-binary A/B of the whole benchmark (atomic, window, atomic, window) and torch_bench once.
set -u
source .device/setup.sh >/dev/null
rm -rf .gpu && cp -r .gpu-i12 .gpu
for f in .gpu/*.node.xz; do xz -d "$f"; done
export PYTHONUNBUFFERED=1 TVDCN_NATIVE_PATH=$PWD/.gpu/tvdcn_cuda.node
REAL_OUT=$OUT; export OUT=/tmp/o; mkdir -p $OUT
ROOT=$PWD; t0=$SECONDS
echo "== window"; node .gpu/wcheck.mjs 2>&1 | tee $OUT/wcheck-window.log
echo "== atomic"; TVDCN_CUDA_COL2IM=atomic node .gpu/wcheck.mjs 2>&1 | tee $OUT/wcheck-atomic.log
CS=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null | head -1)
for tool in memcheck racecheck; do
  TVDCN_CUDA_ALLOCATOR=direct timeout 90 $CS --tool $tool --error-exitcode 1 node .gpu/wcheck.mjs > $OUT/wcheck-$tool.log 2>&1
  echo "$tool rc=$? $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' $OUT/wcheck-$tool.log | tail -1) at $((SECONDS - t0)) s"
done
GPU_ONLY=tests TESTS_TIMEOUT=200 bash .gpu/run-on-gpu.sh > $OUT/run.log 2>&1
grep -E '^ℹ (tests|pass|fail)|✖' $OUT/run.log | head -6
bench() { # tag, env
  mkdir -p $OUT/$1
  env $2 OUT=$OUT/$1 timeout 150 node .gpu/cuda-bench.mjs > $OUT/bench-$1.log 2>&1
  echo "$1 rc=$? at $((SECONDS - t0)) s"
}
bench A1 TVDCN_CUDA_COL2IM=atomic
bench B1 X=1
bench A2 TVDCN_CUDA_COL2IM=atomic
bench B2 X=1
timeout 170 python3 .gpu/torch_bench.py > $OUT/bench-torch.log 2>&1; echo "torch rc=$? at $((SECONDS - t0)) s"
cp $OUT/B1/bench-ours.json $OUT/bench-ours.json
(cd $OUT && python3 $ROOT/.gpu/report.py > $OUT/report.log 2>&1) || true
python3 .gpu/ab.py $OUT/bench-A1.log,$OUT/bench-A2.log $OUT/bench-B1.log,$OUT/bench-B2.log > $OUT/ab.md 2>&1
cd $OUT && tar -cJf $REAL_OUT/window.tar.xz *.log */bench-ours.json bench-ours.json bench-torch.json bench.md ab.md 2>/dev/null
cp $OUT/ab.md $OUT/bench.md $REAL_OUT/ 2>/dev/null
grep -E '\| (fwd|bwd|fwd:col2im|bwd:col2im) \|' $OUT/ab.md | grep -E 'fp16|tf32' | head -40
echo "all done at $((SECONDS - t0)) s"
