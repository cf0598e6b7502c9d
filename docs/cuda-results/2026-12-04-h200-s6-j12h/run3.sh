#!/usr/bin/env bash
# Issue 12, session 6, helper j12h, third call: runs 1-2 showed host times that jump between ~45 and ~70 us
# per call on one addon (the process landing on different cores); here each probe is pinned to the same
# 4 cores (taskset -c 2-5), A (main 7c1ed5c, built here) and B (s6-j12h) alternated 5 times each.
set -u
source .device/setup.sh >/dev/null
rm -rf .gpu && mkdir .gpu && cp .gpu-j12h/probe.mjs .gpu-j12h/main.node.xz .gpu-j12h/tvdcn_cuda.node.xz .gpu/
for f in .gpu/*.node.xz; do xz -d "$f"; done
R=$OUT; ROOT=$PWD; t0=$SECONDS
{ nvidia-smi topo -m; lscpu | grep -E 'Model name|NUMA|^CPU\(s\)'; } > $R/topo.txt 2>&1
probe() { echo "== $1" >> $R/probe.log; TVDCN_NATIVE_PATH=$ROOT/.gpu/$2 timeout 40 taskset -c 2-5 node .gpu/probe.mjs >> $R/probe.log 2>&1; echo "probe $1 rc=$? at $((SECONDS - t0)) s"; }
for i in 1 2 3 4 5; do probe A$i main.node; probe B$i tvdcn_cuda.node; done
cat $R/probe.log | paste - - - - - | sed 's/ (min of [^)]*)//g; s/deformConvTranspose2d/tr2d/g'
echo "all done at $((SECONDS - t0)) s"
