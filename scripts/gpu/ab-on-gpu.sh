#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs on the device (from the repository root, carry [".device", "<staged dir>"]) what a session measures there, in
# parts named by S18_PARTS (comma list): torchhost (PyTorch's host share: torch_bench.py with and without --hide-host), hostcost (a forward's host time in pieces: bench/cuda/host-cost.ts), ab (a same-binary A/B: bench sides alternated, each with its switches, minima
# per side through ab.py), wgtest (one test file's tests by name pattern), hash (the 21 deterministic-mode output
# hashes), ab2 (a second A/B), tests (the whole GPU suite), san (compute-sanitizer), bench (the record bench against
# torchvision and cuDNN), prof (nsys and a CPU profile). The staged dir (S18_DIR, default .gpu-stage) is what
# scripts/gpu/stage-compact.sh makes: the bundles of scripts/gpu-check.sh and the stripped, xz'ed addon. Everything but
# bench.md and hash.txt comes back packed as results.tar.xz (a call returns at most 8 files).
# Kept from session 15 on (the S18_ prefix is session 18's); each session's results README says which commit ran.
set -u
source .device/setup.sh >/dev/null
G=${S18_DIR:-$PWD/.gpu-stage}; t0=$SECONDS
log() { echo "[$((SECONDS - t0)) s] $*"; }
rm -rf .gpu && mkdir -p .gpu && cp $G/*.mjs $G/*.py $G/*.sh $G/suite.json $G/commit.txt .gpu/ && xz -dc $G/tvdcn_cuda.node.xz > .gpu/tvdcn_cuda.node
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader > $OUT/gpu.txt; cat $OUT/gpu.txt
export TVDCN_NATIVE_PATH=$PWD/.gpu/tvdcn_cuda.node
PARTS=${S18_PARTS:-wgtest,ab}
# A same-binary A/B: sides (letters) alternated, each a bench run with its environment; minima per side.
# Q = TVDCN_CUDA_GEMM32=mma (the mma.sync float32 kernels); R = TVDCN_CUDA_GEMM32=raw (A converted in the kernel); N / V / T = TVDCN_CUDA_GEMM16=wgmma128 / wgmma256 /
# wgmma2 (16-bit tiles forced); E = TVDCN_CUDA_V8_REPORT=exact (every buffer reported to V8, as before session 18); I = TVDCN_CUDA_IM2COL=thread
# (im2col_kernel only, as before session 18); X = TVDCN_CUDA_IM2COL=vector (the vector im2col for large groups too); O =
# TVDCN_CUDA_OFFSET_GRAD=vector (the vector offset pass, session 19), P = =vector1 (one vector per step), U = =thread; Z = X and O;
# C = TVDCN_CUDA_BWD_COLS=offset (the backward's columns from the offset pass in 2D / 3D too; the default after run 5),
# M = TVDCN_CUDA_BWD_COLS=im2col; G = TVDCN_CUDA_IM2COL_LAYOUT=pixel (session 21, reverted), H = G with =vector; J = TVDCN_CUDA_CL_COPY=scalar, F = TVDCN_CUDA_FUSED_CL=scalar (session 21); K = TVDCN_CUDA_COL2IM=warp (session 20), L = the same with TVDCN_CUDA_COL2IM_WWX=2; A = TVDCN_CUDA_COL2IM=atomic; S = TVDCN_CUDA_COL2IM=tile (branch s20-tile-col2im); B = TVDCN_CUDA_BWD_FUSED=off, Y = =on (session 22); D = TVDCN_CUDA_DCOL=float (session 23); r = TVDCN_CUDA_FUSED3D_BLOCKS=3 (session 24; the default from session 25), q = =2 (the two-block form; f, =4 four blocks, measured 0.78-0.84x in session 27 and removed); d = the bench with --no-dry-row, v = --reverse, u = both (session 28: NOTE [ A dry row first ]); p = TVDCN_CUDA_IM2COL_DIV=plain (the im2col kernels' plain division, session 29: NOTE [ Division by a run-time constant ]); c = TVDCN_CUDA_IM2COL_COPY=channels_last (the vector im2col from the one copy of all channels, session 29: NOTE [ Channels-last by group ]); h = TVDCN_CUDA_IM2COL_MASK=channel (the thread im2col's mask check per channel, session 29); k = TVDCN_CUDA_CL_COPY=channel_order (the copy's stores in the plain copy's order, session 29: NOTE [ Grouped copy's store order ]); g = the bench with --hide-host (NOTE [ The host hidden ]: the call's GPU time alone, session 30); s = with --host-split (NOTE [ The host split ]: the host time inside the native calls and allocations, session 30); j = TVDCN_CUDA_FUSED_PLAN=thread (every lane makes its own plan in the fused forward, session 34: NOTE [ Plans made by the lanes of a position ]); o = the bench bundle of the base commit (.gpu/cuda-bench-base.mjs: stage-compact.sh with STAGE_BASE=<ref>; an A/B of the ops layer's JavaScript, session 31); W = the default.
ab() { # name, shapes, variants, sides, pairs
  local name=$1 only=$2 variants=$3 sides=$4 pairs=$5 W2=/tmp/s18$1; mkdir -p $W2; declare -A n
  for side in $sides; do
    n[$side]=$(( ${n[$side]:-0} + 1 )); tag=$side${n[$side]}
    m32=; m16=
    v8=; ic=; og=; bc=; c2=; wx=; lay=; clc=; fcl=; bf=; dc=; f3=; xa=; dv=; cc=; mh=; fp=
    case $side in p) dv=plain ;; c) cc=channels_last ;; h) mh=channel ;; j) fp=thread ;; esac
    case $side in d) xa=--no-dry-row ;; v) xa=--reverse ;; u) xa="--no-dry-row --reverse" ;; g) xa=--hide-host ;; s) xa=--host-split ;; esac
    case $side in B) bf=off ;; Y) bf=on ;; D) dc=float ;; r) f3=3 ;; q) f3=2 ;; esac
    case $side in G) lay=pixel ;; H) ic=vector; lay=pixel ;; J) clc=scalar ;; F) fcl=scalar ;; k) clc=channel_order ;; esac
    case $side in Q) m32=mma ;; R) m32=raw ;; N) m16=wgmma128 ;; V) m16=wgmma256 ;; T) m16=wgmma2 ;; E) v8=exact ;; I) ic=thread ;; X) ic=vector ;; O) og=vector ;; P) og=vector1 ;; U) og=thread ;; Z) ic=vector; og=vector ;; C) bc=offset ;; M) bc=im2col ;; K) c2=warp ;; L) c2=warp; wx=2 ;; A) c2=atomic ;; S) c2=tile ;; esac
    mkdir -p $W2/$tag
    bundle=.gpu/cuda-bench.mjs; [[ $side == o ]] && bundle=.gpu/cuda-bench-base.mjs
    TVDCN_CUDA_FUSED_PLAN=$fp TVDCN_CUDA_IM2COL_MASK=$mh TVDCN_CUDA_IM2COL_COPY=$cc TVDCN_CUDA_IM2COL_DIV=$dv TVDCN_CUDA_FUSED3D_BLOCKS=$f3 TVDCN_CUDA_DCOL=$dc TVDCN_CUDA_BWD_FUSED=$bf TVDCN_CUDA_FUSED_CL=$fcl TVDCN_CUDA_CL_COPY=$clc TVDCN_CUDA_IM2COL_LAYOUT=$lay TVDCN_CUDA_COL2IM_WWX=$wx TVDCN_CUDA_COL2IM=$c2 TVDCN_CUDA_BWD_COLS=$bc TVDCN_CUDA_OFFSET_GRAD=$og TVDCN_CUDA_IM2COL=$ic TVDCN_CUDA_V8_REPORT=$v8 TVDCN_CUDA_GEMM32=$m32 TVDCN_CUDA_GEMM16=$m16 OUT=$W2/$tag timeout ${S18_BENCH_LIMIT:-120} node $bundle --all $xa --only "$only" --variants "$variants" > $W2/bench-$tag.log 2>&1
    log "bench $name $tag rc=$?"
  done
  lst() { ls $W2/bench-$1[0-9].log 2>/dev/null | paste -sd, ; }
  mkdir -p $OUT/$name
  for pair in $pairs; do
    a=${pair%%:*}; o=${pair##*:}
    python3 .gpu/ab.py $(lst $a) $(lst $o) > $OUT/$name/ab-$a-$o.md 2>&1
    echo "== $name $a -> $o"; grep -E '\| (fwd|fwd:host|bwd|fwd:im2col|fwd:im2col_vector|bwd:offset_mask_grad|bwd:offset_mask_grad_vector|bwd:im2col|bwd:gemm_dcol|bwd:col2im|bwd:col2im_warp|bwd:col2im_tile|bwd:col2im_offset_mask_fused|bwd:gemm_dcol|bwd:im2col_channels_last|bwd:channels_first|fwd:col2im|fwd:col2im_warp|fwd:col2im_tile|fwd:fused_forward|fwd:fused_forward_lane_plans|fwd:fused_channels_last_vector) \|' $OUT/$name/ab-$a-$o.md | head -${S18_AB_LINES:-80}
  done
  (cd $W2 && tar -cJf $OUT/$name/bench-logs.tar.xz bench-*.log */bench-ours.json 2>/dev/null)
}
if [[ ,$PARTS, == *,ab,* ]]; then
  ab ab "${S18_ONLY:-r50-c3,r50-c4,r50-c5,edvr-64,big-b32,1d-c256,3d-c64,tr2d-256,tr3d-64}" "${S18_VARIANTS:-fp32,tf32}" "${S18_SIDES:-Q W Q W}" "${S18_PAIRS:-Q:W}"
fi
if [[ ,$PARTS, == *,torchhost,* ]]; then
  # PyTorch's host share of its forwards (torch_bench.py --hide-host, session 31): sides W (plain) and g alternated.
  W2=/tmp/s18th; mkdir -p $W2 $OUT/torchhost; declare -A nt
  for side in ${S18_TH_SIDES:-W g W g}; do
    nt[$side]=$(( ${nt[$side]:-0} + 1 )); xa=; [[ $side == g ]] && xa=--hide-host
    OUT=$W2 timeout ${S18_TH_LIMIT:-120} python3 .gpu/torch_bench.py --only "${S18_TH_ONLY:-r50-c5,edvr-64,r50-c4}" $xa > $W2/torch-$side${nt[$side]}.log 2>&1
    log "torch $side${nt[$side]} rc=$?"
  done
  python3 .gpu/ab.py $(ls $W2/torch-W[0-9].log | paste -sd,) $(ls $W2/torch-g[0-9].log | paste -sd,) > $OUT/torchhost/ab-W-g.md 2>&1
  grep -E '\| (fwd|fwd:host) \|' $OUT/torchhost/ab-W-g.md | head -${S18_AB_LINES:-80}; cp $W2/*.log $OUT/torchhost/
fi
if [[ ,$PARTS, == *,hostcost,* ]]; then
  # A forward's host time in pieces (bench/cuda/host-cost.ts, session 31; its host phases from session 32): twice
  # plain; with S18_HOSTCOST_PROF=1 once more under the CPU profiler. (Session 32's runs 2 and 4 had
  # TVDCN_CUDA_BUFFER_CREATE=external, an A/B of a device buffer made without the External: no difference, removed.)
  mkdir -p $OUT/hostcost
  for r in 1 2; do timeout 120 node .gpu/host-cost.mjs > $OUT/hostcost/run$r.log 2>&1; log "host-cost $r rc=$?"; cat $OUT/hostcost/run$r.log; done
  if [[ ${S18_HOSTCOST_PROF:-0} == 1 ]]; then
    timeout 120 node --cpu-prof --cpu-prof-interval ${S18_PROF_INTERVAL:-20} --cpu-prof-dir=$OUT/hostcost/prof .gpu/host-cost.mjs > $OUT/hostcost/prof.log 2>&1
    log "host-cost profiled rc=$?"
  fi
  cat /sys/devices/system/clocksource/clocksource0/current_clocksource > $OUT/hostcost/clocksource.txt 2>&1; lscpu > $OUT/hostcost/lscpu.txt 2>&1; node --version >> $OUT/hostcost/lscpu.txt
fi
if [[ ,$PARTS, == *,wgtest,* ]]; then
  timeout ${S18_WGTEST_LIMIT:-200} node --test --test-reporter=spec --test-name-pattern="${S18_WGTEST_PATTERN:-float32 GEMM}" .gpu/cuda-tests.mjs > $OUT/tests-wgmma.log 2>&1
  log "GEMM tests rc=$? $(grep -E '^ℹ (pass|fail|skipped)' $OUT/tests-wgmma.log | tr '\n' ' ')"
  grep -E '✖|not ok|Error|differ|max \|diff' $OUT/tests-wgmma.log | head -20
fi
if [[ ,$PARTS, == *,hash,* ]]; then
  (cd .gpu && timeout 120 node $G/hash-outputs.mjs > $OUT/hash.txt 2>&1)
  log "hash ($(cat .gpu/commit.txt | head -1)): $(wc -l < $OUT/hash.txt) lines"; cat $OUT/hash.txt
fi
if [[ ,$PARTS, == *,ab2,* ]]; then
  ab ab2 "${S18_AB2_ONLY:-r50-c3}" "${S18_AB2_VARIANTS:-fp16}" "${S18_AB2_SIDES:-N T W N T W}" "${S18_AB2_PAIRS:-W:N W:T}"
fi
if [[ ,$PARTS, == *,tests,* ]]; then
  GPU_ONLY=tests bash .gpu/run-on-gpu.sh 2>&1 | grep -vE '^\s*$' | tail -30; log "suite rc=${PIPESTATUS[0]}"
fi
if [[ ,$PARTS, == *,san,* ]]; then
  SANITIZE_TOOLS="${S18_SAN_TOOLS:-memcheck racecheck}" SANITIZE_PATTERN="${S18_SAN_PATTERN:-float32 GEMM: the Hopper}" SANITIZE_TOOL_LIMIT=${S18_SAN_LIMIT:-110} SANITIZE_BUDGET=${S18_SAN_BUDGET:-230} OUT=$OUT/san bash .gpu/sanitize-on-gpu.sh 2>&1 | tail -8
  log "sanitizer done"
fi
if [[ ,$PARTS, == *,bench,* ]]; then
  BENCH_ARGS="${S18_BENCH_ARGS:-}" BENCH_TIMEOUT=${BENCH_TIMEOUT:-200} TORCH_TIMEOUT=${TORCH_TIMEOUT:-120} GPU_ONLY=bench bash .gpu/run-on-gpu.sh 2>&1 | grep -vE '^\s*$' | tail -40; log "bench rc=${PIPESTATUS[0]}"
fi
if [[ ,$PARTS, == *,prof,* ]]; then
  # Where the host time of the 32-bit forwards of big-b32 and 1d-c256 goes (0.3-0.5 ms against 0.03 in 16-bit).
  mkdir -p $OUT/prof; (command -v nsys ncu; ls /usr/local/cuda/bin 2>/dev/null | tr '\n' ' ') > $OUT/prof/tools.txt 2>&1
  PO=${S18_PROF_ONLY:-big-b32,1d-c256}; PV=${S18_PROF_VARIANTS:-fp32,fp16}
  if command -v nsys > /dev/null; then
    timeout ${S18_PROF_LIMIT:-150} nsys profile -o /tmp/s18prof --trace=cuda,osrt --force-overwrite true node .gpu/cuda-bench.mjs --all --only $PO --variants $PV --forward-only > $OUT/prof/nsys.log 2>&1
    log "nsys rc=$?"
    nsys stats --report cuda_api_sum,osrt_sum,cuda_gpu_kern_sum --format csv -o $OUT/prof/stats /tmp/s18prof.nsys-rep > /dev/null 2>&1
    nsys stats --report cuda_api_sum /tmp/s18prof.nsys-rep 2>/dev/null | head -40
  fi
  timeout 120 node --cpu-prof --cpu-prof-interval ${S18_PROF_INTERVAL:-1000} --cpu-prof-dir=$OUT/prof/cpu .gpu/cuda-bench.mjs --all --only ${PO%%,*} --variants ${PV%%,*} --forward-only > $OUT/prof/cpuprof.log 2>&1
  log "cpu-prof rc=$?"; grep fwd $OUT/prof/cpuprof.log | head
fi
# The call returns at most 8 files: everything but bench.md and hash.txt packed into one archive.
(cd $OUT && tar -cJf /tmp/s20-results.tar.xz --exclude=bench.md --exclude=hash.txt . ; mv /tmp/s20-results.tar.xz results.tar.xz && find . -mindepth 1 ! -name results.tar.xz ! -name bench.md ! -name hash.txt -delete)
log "all done"
