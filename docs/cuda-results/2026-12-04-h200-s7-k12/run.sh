#!/usr/bin/env bash
# Issue 12, session 7 (helper k12): one device call. Staged in the lead's checkout under .gpu-k12/ (the
# device tool sends that checkout): a.node.xz = main's addon (facb3ad, the merged tree of session 6),
# b.node.xz = this branch's; cuda-bench-a.mjs = main's bench bundle, cuda-bench.mjs / cuda-tests.mjs =
# this branch's; probe-a.mjs / probe-b.mjs = probe.ts bundled from main's and this branch's ops layer.
# carry [".device", ".gpu-k12"]; command: bash .gpu-k12/run.sh   (K12_PARTS=probe,tests,bench)
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
  bench() { # tag, bundle, addon
    mkdir -p $T/$1
    TVDCN_NATIVE_PATH=$G/$3 OUT=$T/$1 timeout 150 node $G/$2 --only "$ONLY" --variants "$VARS" > $T/bench-$1.log 2>&1
    echo "bench $1 rc=$? at $((SECONDS - t0)) s"
  }
  bench A1 cuda-bench-a.mjs a.node
  bench B1 cuda-bench.mjs b.node
  bench A2 cuda-bench-a.mjs a.node
  bench B2 cuda-bench.mjs b.node
  (cd $T && OUT=$T timeout 150 python3 $G/torch_bench.py --only "$ONLY" > $T/bench-torch.log 2>&1); echo "torch rc=$? at $((SECONDS - t0)) s"
  python3 $G/ab.py $T/bench-A1.log,$T/bench-A2.log $T/bench-B1.log,$T/bench-B2.log > $R/ab.md 2>&1
  tail -30 $T/bench-torch.log > $R/torch.txt
  (cd $T && tar -cJf $R/bench-logs.tar.xz bench-*.log */bench-ours.json *.json 2>/dev/null)
  cat $R/ab.md; cat $R/torch.txt
fi
echo "all done at $((SECONDS - t0)) s"
