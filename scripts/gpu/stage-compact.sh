#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Stages a compact device run in .gpu-stage/ (git-ignored): the bundles of scripts/gpu-check.sh (without the training
# demo), the CUDA addon of native/build/cuda stripped and xz'ed, session 15's hash script bundled, and the device-side
# scripts (ab-on-gpu.sh, sanitize-on-gpu.sh, plus any files named as arguments). The device's working tree (tracked
# files plus carry) must stay under 64 MiB: with .device's Node that leaves ~30 MB here, so build the addon for the
# device with machine code alone (`cmake -DCMAKE_CUDA_ARCHITECTURES=90-real native/build/cuda`, then
# `cmake --build native/build/cuda`): ~20 MB xz'ed, against ~31 MB with its PTX. Then, on the device, carry
# [".device", ".gpu-stage"] and run e.g.
#   rm -rf /tmp/g && cp -r .gpu-stage /tmp/g && S18_DIR=/tmp/g S18_PARTS=hash,bench bash /tmp/g/ab-on-gpu.sh
# With STAGE_BASE=<git ref>, also the bench bundle of that commit's sources (a temporary worktree sharing this
# checkout's node_modules, so the other workspace packages, @tvdcn/shape among them, are this checkout's builds) as
# cuda-bench-base.mjs, its commit in base-commit.txt: ab-on-gpu.sh's side `o`, an A/B of the ops layer's JavaScript
# on one addon.
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
export PATH="$root/.tools/node_modules/.bin:$PATH"
out=.gpu-stage
grep -qx "/$out/" .git/info/exclude 2>/dev/null || echo "/$out/" >> .git/info/exclude
GPU_CHECK_SKIP_BUILD=1 bash scripts/gpu-check.sh > /tmp/stage-compact.log 2>&1 || { tail -20 /tmp/stage-compact.log; exit 1; }
rm -rf "$out" && mkdir "$out"
cp .gpu/*.mjs .gpu/*.py .gpu/*.sh .gpu/suite.json .gpu/commit.txt scripts/gpu/sanitize-on-gpu.sh scripts/gpu/ab-on-gpu.sh "$out/"
rm -f "$out/train-demo.mjs"
tmp=$(mktemp)
cp .gpu/tvdcn_cuda.node "$tmp" && strip --strip-unneeded "$tmp" && xz -T2 -9e -c "$tmp" > "$out/tvdcn_cuda.node.xz" && rm -f "$tmp"
source scripts/gpu/bundle.sh # bundle ENTRY OUTFILE [flags]
bundle docs/cuda-results/2026-12-05-h100-s15/hash-outputs.ts "$root/$out/hash-outputs.mjs"
if [[ -n "${STAGE_BASE:-}" ]]; then
  wt=$(mktemp -d)/base
  git worktree add -q --detach "$wt" "$STAGE_BASE"
  for nm in node_modules packages/*/node_modules bench/node_modules; do
    if [[ -d $nm && ! -e $wt/$nm ]]; then ln -s "$root/$nm" "$wt/$nm"; fi
  done
  (cd "$wt" && bundle bench/cuda/deform-conv.cuda-bench.ts "$root/$out/cuda-bench-base.mjs")
  git rev-parse --short "$STAGE_BASE" > "$out/base-commit.txt"
  git worktree remove --force "$wt"
fi
for f in "$@"; do cp "$f" "$out/"; done
du -sh "$out" .device
