#!/usr/bin/env bash
# Issue 12, session 7 (helper k12b): one device call. Staged in the lead's checkout under .gpu-k12b/ (the
# device tool sends that checkout): tvdcn_cuda.node.xz = this branch's CUDA addon (sm_90), cuda-bench.mjs /
# cuda-tests.mjs = this branch's bundles (scripts/gpu-check.sh), torch_bench.py, ab.py, sanitize-on-gpu.sh.
# One binary, sides by TVDCN_CUDA_TF32_SPLIT: O = off (the old fragment-path conversion), S = on (split at
# staging), W = wide (run 1's binary: 3xTF32 at 128 x 256 with a 2-stage ring), N = narrow (run 2's binary:
# TF32 at 128 x 128 too), A = auto (run 3's binary: the default), F = the final tree (run 4), X = F with
# TVDCN_CUDA_GEMM_X3_TILES=wide (main's tile choice). Tests and memcheck run with K12B_TEST_SPLIT (default on).
# carry [".device", ".gpu-k12b"]; command: bash .gpu-k12b/run.sh
#   K12B_PARTS=tests,bench,torch,memcheck  K12B_SIDES="O S W O S"  K12B_ONLY=<shapes>  K12B_VARIANTS=fp32,tf32
set -u
source .device/setup.sh >/dev/null
G=$PWD/.gpu-k12b
xz -dkf $G/tvdcn_cuda.node.xz
export PYTHONUNBUFFERED=1 TVDCN_NATIVE_PATH=$G/tvdcn_cuda.node
R=$OUT; T=/tmp/o; mkdir -p $T; t0=$SECONDS
PARTS=${K12B_PARTS:-tests,bench,torch}
ONLY=${K12B_ONLY:-r50-c3,r50-c4,r50-c5,edvr-64,big-b32,tr2d-256,tr3d-64}
VARS=${K12B_VARIANTS:-fp32,tf32}
SIDES=${K12B_SIDES:-O S W O S}
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,temperature.gpu,power.draw --format=csv > $R/gpu.txt 2>&1
if [[ ,$PARTS, == *,tests,* ]]; then
  echo "== GPU tests, split on ($((SECONDS - t0)) s)"
  TVDCN_CUDA_TF32_SPLIT=${K12B_TEST_SPLIT:-on} timeout ${K12B_TESTS_LIMIT:-200} node --test --test-reporter=spec $G/cuda-tests.mjs > $T/tests.log 2>&1
  echo "tests rc=$? at $((SECONDS - t0)) s"; grep -E '^ℹ (tests|pass|fail)' $T/tests.log; grep -B2 -A12 -m 5 '^✖' $T/tests.log | head -40
  grep -E 'worst|float32' $T/tests.log | grep -iE 'worst' | head -20
  xz -c $T/tests.log > $R/tests.log.xz
fi
if [[ ,$PARTS, == *,bench,* ]]; then
  declare -A n
  for side in $SIDES; do
    n[$side]=$(( ${n[$side]:-0} + 1 )); tag=$side${n[$side]}
    x=default; case $side in O) m=off ;; S) m=on ;; W) m=wide ;; N) m=narrow ;; A) m=auto ;; F) m=off ;; X) m=off; x=wide ;; esac
    mkdir -p $T/$tag
    TVDCN_CUDA_GEMM_X3_TILES=$x TVDCN_CUDA_TF32_SPLIT=$m OUT=$T/$tag timeout ${K12B_BENCH_LIMIT:-100} node $G/cuda-bench.mjs --only "$ONLY" --variants "$VARS" ${K12B_BENCH_ARGS:-} > $T/bench-$tag.log 2>&1
    echo "bench $tag ($m) rc=$? at $((SECONDS - t0)) s"
  done
  list() { ls $T/bench-$1[0-9].log 2>/dev/null | paste -sd, ; }
  { echo "## O = split off (old kernel), S = split on (default)"; python3 $G/ab.py $(list O) $(list S)
    if [[ " $SIDES " == *" W "* ]]; then echo; echo "## O = split off, W = split wide"; python3 $G/ab.py $(list O) $(list W); fi
    if [[ " $SIDES " == *" A "* ]]; then echo; echo "## O = split off, A = auto (the default of run 3's binary)"; python3 $G/ab.py $(list O) $(list A); fi
    if [[ " $SIDES " == *" F "* ]]; then echo; echo "## X = final tree with TVDCN_CUDA_GEMM_X3_TILES=wide (main's tiles), F = final tree"; python3 $G/ab.py $(list X) $(list F); fi
    if [[ " $SIDES " == *" N "* ]]; then echo; echo "## O = split off, N = split narrow"; python3 $G/ab.py $(list O) $(list N); fi
  } > $R/ab.md 2>&1
  grep -E '\| fwd \||gemm' $R/ab.md | head -80
fi
if [[ ,$PARTS, == *,torch,* ]]; then
  (cd $T && OUT=$T timeout ${K12B_TORCH_LIMIT:-120} python3 $G/torch_bench.py --only "$ONLY" > $T/bench-torch.log 2>&1); echo "torch rc=$? at $((SECONDS - t0)) s"
  grep -E 'torchvision fp32|cuDNN (fp32|tf32)' $T/bench-torch.log | head -40
fi
(cd $T && tar -cJf $R/bench-logs.tar.xz bench-*.log */*.json *.json 2>/dev/null)
if [[ ,$PARTS, == *,memcheck,* ]]; then
  mkdir -p .gpu && cp $G/cuda-tests.mjs .gpu/ && cp $G/tvdcn_cuda.node .gpu/
  TVDCN_CUDA_TF32_SPLIT=${K12B_TEST_SPLIT:-on} SANITIZE_TOOLS=memcheck SANITIZE_TOOL_LIMIT=${K12B_MEMCHECK_LIMIT:-150} SANITIZE_BUDGET=200 OUT=$T/san bash $G/sanitize-on-gpu.sh 2>&1 | tail -15
  (cd $T/san && tar -cJf $R/sanitizer.tar.xz . 2>/dev/null)
fi
echo "all done at $((SECONDS - t0)) s"
