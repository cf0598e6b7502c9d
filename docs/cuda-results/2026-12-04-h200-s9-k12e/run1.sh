#!/usr/bin/env bash
# Issue 12, session 9 (helper k12e), run 1: columns from the offset pass + the bias-gradient kernels.
# The whole GPU suite with the new addon (N), the new test with the old order forced, memcheck of the
# backward tests, and a same-machine A/B of the benchmark: M = main's addon, N = this branch's, O = this
# branch's with TVDCN_CUDA_BWD_COLS=im2col TVDCN_CUDA_BIAS_GRAD=sum (the old paths of one binary);
# M N O M N O; then PyTorch/cuDNN on the same shapes. Carry [".device", ".gpu-k12e"].
set -u
source .device/setup.sh >/dev/null
G=$PWD/.gpu-k12e
R=$OUT; W=/tmp/k12e; mkdir -p $W; t0=$SECONDS
xz -dc $G/tvdcn_cuda.node.xz > $W/new.node; xz -dc $G/main.node.xz > $W/main.node
export PYTHONUNBUFFERED=1
log() { echo "[$((SECONDS - t0)) s] $*"; }
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,temperature.gpu --format=csv,noheader | tee $W/gpu.txt
T=$G/cuda-tests.mjs
log "whole GPU suite, new addon"
TVDCN_NATIVE_PATH=$W/new.node timeout 150 node --test --test-reporter=spec $T > $W/tests-new.log 2>&1
echo "rc=$?"; grep -E '^ℹ (tests|pass|fail|skipped)|^✖' $W/tests-new.log | head -12
TVDCN_NATIVE_PATH=$W/new.node TVDCN_CUDA_BWD_COLS=im2col TVDCN_CUDA_BIAS_GRAD=sum timeout 60 node --test \
  --test-reporter=spec --test-name-pattern='offset pass|modulated|bias' $T > $W/tests-old-paths.log 2>&1
log "backward tests, old paths forced rc=$? $(grep -E '^ℹ (pass|fail)' $W/tests-old-paths.log | tr '\n' ' ')"
CS=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null | head -1)
TVDCN_NATIVE_PATH=$W/new.node TVDCN_CUDA_ALLOCATOR=direct TVDCN_GPU_TESTS=quick timeout 100 $CS --tool memcheck \
  --leak-check full --error-exitcode 1 node --test --test-name-pattern='offset pass|modulated|transposed' $T \
  > $W/memcheck.log 2>&1
log "memcheck rc=$? $(grep -E 'ERROR SUMMARY' $W/memcheck.log | tail -1) $(grep -E '^ℹ (pass|fail)' $W/memcheck.log | tr '\n' ' ')"
ARGS="--only r50-c3,r50-c4,r50-c5,edvr-64,big-b32 --variants fp16,bf16,tf32"
bench() { # tag node [env...]
  local tag=$1 node=$2; shift 2
  mkdir -p $W/$tag
  env "$@" TVDCN_NATIVE_PATH=$node OUT=$W/$tag timeout 60 node $G/cuda-bench.mjs $ARGS > $W/bench-$tag.log 2>&1
  log "bench $tag rc=$?"
}
bench M1 $W/main.node; bench N1 $W/new.node; bench O1 $W/new.node TVDCN_CUDA_BWD_COLS=im2col TVDCN_CUDA_BIAS_GRAD=sum
bench M2 $W/main.node; bench N2 $W/new.node; bench O2 $W/new.node TVDCN_CUDA_BWD_COLS=im2col TVDCN_CUDA_BIAS_GRAD=sum
python3 $G/ab.py $W/bench-M1.log,$W/bench-M2.log $W/bench-N1.log,$W/bench-N2.log > $W/ab-main-new.md 2>&1
python3 $G/ab.py $W/bench-O1.log,$W/bench-O2.log $W/bench-N1.log,$W/bench-N2.log > $W/ab-old-new.md 2>&1
echo "== main -> new"; grep -E '\| (fwd|bwd|bwd:im2col|bwd:offset_mask_grad|bwd:grad_bias|bwd:gemm_weight) \|' $W/ab-main-new.md | head -80
left=$((280 - (SECONDS - t0)))
if [ $left -gt 40 ]; then
  log "torch / cuDNN"
  cp $G/suite.json $W/ 2>/dev/null
  (cd $G && OUT=$W timeout $((left - 5)) python3 torch_bench.py $ARGS > $W/bench-torch.log 2>&1)
  log "torch rc=$?"; grep -E 'cuDNN (fp16|bf16|tf32)' $W/bench-torch.log | head -20
fi
cd $W && tar -cJf $R/k12e-run1.tar.xz *.log *.txt *.md */*.json 2>/dev/null
cp $W/ab-main-new.md $W/ab-old-new.md $R/ 2>/dev/null
log "done"
