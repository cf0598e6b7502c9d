#!/usr/bin/env bash
# Issue 12, session 7 (helper k12): one device call. Staged in the lead's checkout under .gpu-k12/ (the
# device tool sends that checkout): a.node.xz = main's addon (facb3ad, the merged tree of session 6),
# b.node.xz = this branch's; cuda-bench-a.mjs = main's bench bundle, cuda-bench.mjs / cuda-tests.mjs =
# this branch's; probe-a.mjs / probe-b.mjs = probe.ts bundled from main's and this branch's ops layer.
# carry [".device", ".gpu-k12"]; command: bash .gpu-k12/run.sh   (K12_PARTS=probe,tests,bench K12_ROUNDS=3 K12_SIDES="A S B")
set -u
source .device/setup.sh >/dev/null
G=$PWD/.gpu-k12
for f in $G/*.node.xz; do xz -dkf "$f"; done
export PYTHONUNBUFFERED=1
R=$OUT; T=/tmp/o; mkdir -p $T; t0=$SECONDS
PARTS=${K12_PARTS:-probe,tests,bench}
ONLY=${K12_ONLY:-tr2d-256,tr3d-64}
VARS=${K12_VARIANTS:-fp16,bf16,tf32}
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,temperature.gpu,power.draw --format=csv > $R/gpu.txt 2>&1
if [[ ,$PARTS, == *,probe,* ]]; then
  for i in 1 2; do
    echo "== native-inproc, process $i ($((SECONDS - t0)) s)" | tee -a $R/probe.log
    timeout 60 node $G/native-inproc.mjs $G/a.node $G/b.node 2>&1 | tee -a $R/probe.log
    echo "== ops-inproc, process $i: A = main's ops layer + addon, B = this branch's" | tee -a $R/probe.log
    timeout 90 node $G/ops-inproc.mjs $G/probe-a.mjs $G/a.node $G/probe-b.mjs $G/b.node 2>&1 | tee -a $R/probe.log
  done
fi
if [[ ,$PARTS, == *,tests,* ]]; then
  echo "== GPU tests on B ($((SECONDS - t0)) s)"
  TVDCN_NATIVE_PATH=$G/b.node timeout 200 node --test --test-reporter=spec $G/cuda-tests.mjs > $T/tests.log 2>&1
  echo "tests rc=$?"; grep -E '^ℹ (tests|pass|fail)' $T/tests.log; grep -B2 -A12 -m 5 '^✖' $T/tests.log | head -40
  xz -c $T/tests.log > $R/tests.log.xz
fi
if [[ ,$PARTS, == *,bench,* ]]; then
  # Sides alternate per round: A = main (bundle + addon), S = this branch with TVDCN_CUDA_CHANNELS_FIRST=scalar
  # (the old last pass), B = this branch. cuDNN (torch_bench) before and after.
  bench() { # tag, bundle, addon, channels_first mode
    mkdir -p $T/$1
    TVDCN_CUDA_CHANNELS_FIRST=$4 TVDCN_NATIVE_PATH=$G/$3 OUT=$T/$1 timeout 150 node $G/$2 --only "$ONLY" --variants "$VARS" > $T/bench-$1.log 2>&1
    echo "bench $1 rc=$? at $((SECONDS - t0)) s"
  }
  torch() {
    (cd $T && OUT=$T timeout 150 python3 $G/torch_bench.py --only "$ONLY" > $T/bench-torch$1.log 2>&1); echo "torch$1 rc=$? at $((SECONDS - t0)) s"
  }
  torch 1
  SIDES=${K12_SIDES:-A S B}
  for r in $(seq 1 ${K12_ROUNDS:-3}); do
    for side in $SIDES; do
      case $side in
        A) bench A$r cuda-bench-a.mjs a.node vector ;;
        S) bench S$r cuda-bench.mjs b.node scalar ;;
        B) bench B$r cuda-bench.mjs b.node vector ;;
      esac
    done
  done
  torch 2
  list() { local o=; for r in $(seq 1 ${K12_ROUNDS:-3}); do o=$o${o:+,}$T/bench-$1$r.log; done; echo $o; }
  { echo "## A = main, B = this branch"; python3 $G/ab.py $(list A) $(list B)
    if [[ " $SIDES " == *" S "* ]]; then
      echo; echo "## S = this branch with the scalar channels_first, B = this branch"; python3 $G/ab.py $(list S) $(list B)
    fi; } > $R/ab.md 2>&1
  { for f in $T/bench-torch1.log $T/bench-torch2.log; do grep -E 'cuDNN' $f; echo; done
    grep -h -E 'fwd .* ms' $T/bench-[ASB]*.log; } > $R/torch.txt
  (cd $T && tar -cJf $R/bench-logs.tar.xz bench-*.log */bench-ours.json *.json 2>/dev/null)
  grep -E '\| fwd \||fwd:host|channels_first' $R/ab.md; cat $R/torch.txt
fi
echo "all done at $((SECONDS - t0)) s"
