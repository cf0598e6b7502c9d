#!/usr/bin/env bash
# Issue 12, session 6, helper j12h, fourth call: inproc.mjs (both addons in one process, interleaved per
# round), three processes, the addon order swapped in the second.
set -u
source .device/setup.sh >/dev/null
rm -rf .gpu && mkdir .gpu && cp .gpu-j12h/inproc.mjs .gpu-j12h/main.node.xz .gpu-j12h/tvdcn_cuda.node.xz .gpu/
for f in .gpu/*.node.xz; do xz -d "$f"; done
cp .gpu/tvdcn_cuda.node .gpu/b2.node; cp .gpu/main.node .gpu/a2.node
R=$OUT; ROOT=$PWD
for o in "main.node tvdcn_cuda.node" "tvdcn_cuda.node main.node" "a2.node b2.node"; do
  set -- $o; echo "== A=$1 B=$2" | tee -a $R/inproc.log
  timeout 60 node .gpu/inproc.mjs $ROOT/.gpu/$1 $ROOT/.gpu/$2 2>&1 | tee -a $R/inproc.log
done
