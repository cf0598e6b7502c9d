#!/usr/bin/env bash
# Session 11: the merged tree (main + s9-k12e + s9-k12d, branch s11-merged) on the GPU. carry [".device", ".gpu-s11"].
#   S11_PARTS=tests,memcheck,bench,demo (default tests,memcheck,bench)
set -u
source .device/setup.sh >/dev/null
G=$PWD/.gpu-s11; t0=$SECONDS
log() { echo "[$((SECONDS - t0)) s] $*"; }
rm -rf .gpu && mkdir -p .gpu && cp $G/*.mjs $G/*.py $G/*.sh $G/suite.json $G/commit.txt .gpu/ && xz -dc $G/tvdcn_cuda.node.xz > .gpu/tvdcn_cuda.node
PARTS=${S11_PARTS:-tests,memcheck,bench}
only=; for p in tests bench demo; do [[ ,$PARTS, == *,$p,* ]] && only=$only${only:+,}$p; done
if [ -n "$only" ]; then GPU_ONLY=$only bash .gpu/run-on-gpu.sh 2>&1 | grep -vE '^\s*$' | tail -120; log "run-on-gpu rc=${PIPESTATUS[0]}"; fi
if [[ ,$PARTS, == *,memcheck,* ]]; then
  SANITIZE_TOOLS=memcheck SANITIZE_TOOL_LIMIT=${S11_MEMCHECK_LIMIT:-170} SANITIZE_BUDGET=180 OUT=$OUT/san bash .gpu/sanitize-on-gpu.sh 2>&1 | tail -6
  log "memcheck done"
fi
if [[ ,$PARTS, == *,fwdab,* ]]; then
  # k12d's forward A/B on the merged addon: W = wide fused tile, N = narrow, V = narrow + vector copy.
  declare -A n; W2=/tmp/s11ab; mkdir -p $W2
  for side in ${S11_SIDES:-W N V W N V}; do
    n[$side]=$(( ${n[$side]:-0} + 1 )); tag=$side${n[$side]}; tile=; copy=
    case $side in W) tile=wide ;; N) tile=narrow ;; V) tile=narrow; copy=vector ;; C) tile=wide; copy=vector ;; esac
    mkdir -p $W2/$tag
    TVDCN_NATIVE_PATH=$PWD/.gpu/tvdcn_cuda.node TVDCN_CUDA_FUSED_TILE=$tile TVDCN_CUDA_FUSED_CL=$copy OUT=$W2/$tag timeout 100 node .gpu/cuda-bench.mjs --all --forward-only \
      --only "${S11_ONLY:-r50-c3,edvr-64,r50-c5,1d-c256}" --variants "bf16,tf32,bf16 fused,tf32 fused" > $W2/bench-$tag.log 2>&1
    log "fwd bench $tag rc=$?"
  done
  list() { ls $W2/bench-$1[0-9].log 2>/dev/null | paste -sd, ; }
  mkdir -p $OUT/fwdab; : > $OUT/fwdab/ab.md
  for pair in W:N W:V N:V; do a=${pair%:*}; b=${pair#*:}
    { echo "## $a -> $b (A / B > 1: B faster)"; python3 $G/ab.py $(list $a) $(list $b); echo; } >> $OUT/fwdab/ab.md 2>&1
  done
  grep -E '\| fwd \|' $OUT/fwdab/ab.md | head -60
  (cd $W2 && tar -cJf $OUT/fwdab/bench-logs.tar.xz bench-*.log */bench-ours.json 2>/dev/null)
fi
if [[ ,$PARTS, == *,oldtests,* ]]; then
  TVDCN_CUDA_BWD_COLS=im2col TVDCN_CUDA_BIAS_GRAD=sum timeout 60 node --test --test-reporter=spec \
    --test-name-pattern='offset pass|modulated|bias' .gpu/cuda-tests.mjs > $OUT/tests-old-paths.log 2>&1
  log "backward tests, old paths forced rc=$? $(grep -E '^ℹ (pass|fail)' $OUT/tests-old-paths.log | tr '\n' ' ')"
fi
if [[ ,$PARTS, == *,abm,* ]]; then
  # k12e's A/B on the merged addon: M = main's addon, N = merged (defaults), O = merged with k12e's old backward paths.
  W3=/tmp/s11abm; mkdir -p $W3; xz -dc $G/main.node.xz > $W3/main.node
  ARGS="--only r50-c3,r50-c4,r50-c5,edvr-64,big-b32 --variants fp16,bf16,tf32"
  benchm() { local tag=$1 node=$2; shift 2; mkdir -p $W3/$tag
    env "$@" TVDCN_NATIVE_PATH=$node OUT=$W3/$tag timeout 60 node .gpu/cuda-bench.mjs $ARGS > $W3/bench-$tag.log 2>&1; log "bench $tag rc=$?"; }
  for r in ${S11_ABM_ROUNDS:-1 2}; do
    benchm M$r $W3/main.node; benchm N$r $PWD/.gpu/tvdcn_cuda.node; benchm O$r $PWD/.gpu/tvdcn_cuda.node TVDCN_CUDA_BWD_COLS=im2col TVDCN_CUDA_BIAS_GRAD=sum
  done
  lst() { ls $W3/bench-$1[0-9].log 2>/dev/null | paste -sd, ; }
  mkdir -p $OUT/abm
  python3 $G/ab.py $(lst M) $(lst N) > $OUT/abm/ab-main-merged.md 2>&1
  python3 $G/ab.py $(lst O) $(lst N) > $OUT/abm/ab-old-new.md 2>&1
  echo "== main -> merged"; grep -E '\| (fwd|bwd|bwd:im2col|bwd:offset_mask_grad|bwd:grad_bias|bwd:gemm_weight) \|' $OUT/abm/ab-main-merged.md | head -90
  echo "== old backward paths -> merged"; grep -E '\| (bwd|bwd:offset_mask_grad|bwd:grad_bias) \|' $OUT/abm/ab-old-new.md | head -50
  (cd $W3 && tar -cJf $OUT/abm/bench-logs.tar.xz bench-*.log */bench-ours.json 2>/dev/null)
fi
if [[ ,$PARTS, == *,abx,* ]]; then
  # Session 13: k12e's two switches apart on the merged addon: N = defaults, C = TVDCN_CUDA_BWD_COLS=im2col only, S = TVDCN_CUDA_BIAS_GRAD=sum only.
  W4=/tmp/s11abx; mkdir -p $W4
  ARGS="--only r50-c3,r50-c4,r50-c5,edvr-64,big-b32,3d-c64,1d-c256 --variants fp16,bf16,tf32"
  benchx() { local tag=$1; shift; mkdir -p $W4/$tag
    env "$@" TVDCN_NATIVE_PATH=$PWD/.gpu/tvdcn_cuda.node OUT=$W4/$tag timeout 80 node .gpu/cuda-bench.mjs $ARGS > $W4/bench-$tag.log 2>&1; log "bench $tag rc=$?"; }
  for r in 1 2; do benchx N$r X=1; benchx C$r TVDCN_CUDA_BWD_COLS=im2col; benchx S$r TVDCN_CUDA_BIAS_GRAD=sum; done
  lsx() { ls $W4/bench-$1[0-9].log 2>/dev/null | paste -sd, ; }
  mkdir -p $OUT/abx
  python3 $G/ab.py $(lsx C) $(lsx N) > $OUT/abx/ab-cols.md 2>&1
  python3 $G/ab.py $(lsx S) $(lsx N) > $OUT/abx/ab-bias.md 2>&1
  echo "== cols: im2col (A) -> offset pass writes the columns (B)"; grep -E '\| (bwd|bwd:im2col|bwd:offset_mask_grad) \|' $OUT/abx/ab-cols.md | head -70
  echo "== bias: sum (A) -> rows (B)"; grep -E '\| (bwd|bwd:grad_bias) \|' $OUT/abx/ab-bias.md | head -50
  (cd $W4 && tar -cJf $OUT/abx/bench-logs.tar.xz bench-*.log */bench-ours.json 2>/dev/null)
fi
if [[ ,$PARTS, == *,torch,* ]]; then
  (cd .gpu && OUT=$OUT timeout ${S11_TORCH_LIMIT:-150} python3 torch_bench.py --only r50-c3,r50-c4,r50-c5,edvr-64,big-b32 --variants fp16,bf16,tf32 > $OUT/bench-torch.log 2>&1)
  log "torch rc=$?"; grep -E 'cuDNN (fp16|bf16|tf32)' $OUT/bench-torch.log | head -20
fi
log "all done"
