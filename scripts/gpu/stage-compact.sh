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
node_modules/.bin/esbuild docs/cuda-results/2026-12-05-h100-s15/hash-outputs.ts --bundle --platform=node --format=esm \
  --target=node20 --log-level=warning \
  --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" \
  --external:@tvdcn/wasm32 --outfile="$out/hash-outputs.mjs"
for f in "$@"; do cp "$f" "$out/"; done
du -sh "$out" .device
