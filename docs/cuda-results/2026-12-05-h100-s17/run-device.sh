#!/usr/bin/env bash
# Session 17: main 8592eab + the TF32 planes of A made once per product on the GPU.
# carry [".device", ".gpu-s17"].  S17_PARTS=wgtest,hash,ab,tests,san,bench (comma list)
set -u
source .device/setup.sh >/dev/null
G=${S17_DIR:-$PWD/.gpu-s17}; t0=$SECONDS
log() { echo "[$((SECONDS - t0)) s] $*"; }
rm -rf .gpu && mkdir -p .gpu && cp $G/*.mjs $G/*.py $G/*.sh $G/suite.json $G/commit.txt .gpu/ && xz -dc $G/tvdcn_cuda.node.xz > .gpu/tvdcn_cuda.node
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader > $OUT/gpu.txt; cat $OUT/gpu.txt
export TVDCN_NATIVE_PATH=$PWD/.gpu/tvdcn_cuda.node
PARTS=${S17_PARTS:-wgtest,ab}
if [[ ,$PARTS, == *,wgtest,* ]]; then
  timeout ${S17_WGTEST_LIMIT:-200} node --test --test-reporter=spec --test-name-pattern="${S17_WGTEST_PATTERN:-float32 GEMM}" .gpu/cuda-tests.mjs > $OUT/tests-wgmma.log 2>&1
  log "GEMM tests rc=$? $(grep -E '^ℹ (pass|fail|skipped)' $OUT/tests-wgmma.log | tr '\n' ' ')"
  grep -E '✖|not ok|Error|differ|max \|diff' $OUT/tests-wgmma.log | head -20
fi
if [[ ,$PARTS, == *,hash,* ]]; then
  (cd .gpu && timeout 120 node $G/hash-outputs.mjs > $OUT/hash.txt 2>&1)
  log "hash ($(cat .gpu/commit.txt | head -1)): $(wc -l < $OUT/hash.txt) lines"; cat $OUT/hash.txt
fi
# A same-binary A/B: sides (letters) alternated, each a bench run with its environment; minima per side.
# Q = TVDCN_CUDA_GEMM32=mma (the mma.sync float32 kernels); R = TVDCN_CUDA_GEMM32=raw (A converted in the kernel); N / V / T = TVDCN_CUDA_GEMM16=wgmma128 / wgmma256 /
# wgmma2 (16-bit tiles forced); W = the default.
ab() { # name, shapes, variants, sides, pairs
  local name=$1 only=$2 variants=$3 sides=$4 pairs=$5 W2=/tmp/s17$1; mkdir -p $W2; declare -A n
  for side in $sides; do
    n[$side]=$(( ${n[$side]:-0} + 1 )); tag=$side${n[$side]}
    m32=; m16=
    case $side in Q) m32=mma ;; R) m32=raw ;; N) m16=wgmma128 ;; V) m16=wgmma256 ;; T) m16=wgmma2 ;; esac
    mkdir -p $W2/$tag
    TVDCN_CUDA_GEMM32=$m32 TVDCN_CUDA_GEMM16=$m16 OUT=$W2/$tag timeout ${S17_BENCH_LIMIT:-120} node .gpu/cuda-bench.mjs --all --only "$only" --variants "$variants" > $W2/bench-$tag.log 2>&1
    log "bench $name $tag rc=$?"
  done
  lst() { ls $W2/bench-$1[0-9].log 2>/dev/null | paste -sd, ; }
  mkdir -p $OUT/$name
  for pair in $pairs; do
    a=${pair%%:*}; o=${pair##*:}
    python3 .gpu/ab.py $(lst $a) $(lst $o) > $OUT/$name/ab-$a-$o.md 2>&1
    echo "== $name $a -> $o"; grep -E '\| (fwd|bwd|fwd:gemm_forward|bwd:gemm_dcol|bwd:gemm_weight|bwd:gemm_forward) \|' $OUT/$name/ab-$a-$o.md | head -${S17_AB_LINES:-80}
  done
  (cd $W2 && tar -cJf $OUT/$name/bench-logs.tar.xz bench-*.log */bench-ours.json 2>/dev/null)
}
if [[ ,$PARTS, == *,ab,* ]]; then
  ab ab "${S17_ONLY:-r50-c3,r50-c4,r50-c5,edvr-64,big-b32,1d-c256,3d-c64,tr2d-256,tr3d-64}" "${S17_VARIANTS:-fp32,tf32}" "${S17_SIDES:-Q W Q W}" "${S17_PAIRS:-Q:W}"
fi
if [[ ,$PARTS, == *,ab2,* ]]; then
  ab ab2 "${S17_AB2_ONLY:-r50-c3}" "${S17_AB2_VARIANTS:-fp16}" "${S17_AB2_SIDES:-N T W N T W}" "${S17_AB2_PAIRS:-W:N W:T}"
fi
if [[ ,$PARTS, == *,tests,* ]]; then
  GPU_ONLY=tests bash .gpu/run-on-gpu.sh 2>&1 | grep -vE '^\s*$' | tail -30; log "suite rc=${PIPESTATUS[0]}"
fi
if [[ ,$PARTS, == *,san,* ]]; then
  SANITIZE_TOOLS="${S17_SAN_TOOLS:-memcheck racecheck}" SANITIZE_PATTERN="${S17_SAN_PATTERN:-float32 GEMM: the Hopper}" SANITIZE_TOOL_LIMIT=${S17_SAN_LIMIT:-110} SANITIZE_BUDGET=${S17_SAN_BUDGET:-230} OUT=$OUT/san bash .gpu/sanitize-on-gpu.sh 2>&1 | tail -8
  log "sanitizer done"
fi
if [[ ,$PARTS, == *,bench,* ]]; then
  BENCH_ARGS="${S17_BENCH_ARGS:-}" BENCH_TIMEOUT=${BENCH_TIMEOUT:-200} TORCH_TIMEOUT=${TORCH_TIMEOUT:-120} GPU_ONLY=bench bash .gpu/run-on-gpu.sh 2>&1 | grep -vE '^\s*$' | tail -40; log "bench rc=${PIPESTATUS[0]}"
fi
# The call returns at most 8 files: everything but bench.md and hash.txt packed into one archive.
(cd $OUT && tar -cJf results.tar.xz --exclude=results.tar.xz --exclude=bench.md --exclude=hash.txt . && find . -mindepth 1 ! -name results.tar.xz ! -name bench.md ! -name hash.txt -delete)
log "all done"
