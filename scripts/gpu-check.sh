#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Prepares a GPU run of the CUDA tests and benchmarks, on this machine (which needs no GPU):
#   1. builds the CUDA addon (sm_90 unless CMAKE_CUDA_ARCHITECTURES says otherwise),
#   2. bundles the GPU test suite (packages/ops/test/cuda) and the benchmark (bench/cuda) into
#      self-contained .mjs files under .gpu/ (git-ignored), with the addon and the Python peers,
#   3. packs this machine's Node into .device/ (../shared/tools/device-node.sh),
#   4. prints the device-run invocation. On the GPU machine, .gpu/run-on-gpu.sh runs the tests, then the
#      benchmarks, and leaves logs, JSON and a markdown table in $OUT.
# Environment: GPU_CHECK_SKIP_BUILD=1 reuses native/build/cuda; CUDA_NODE=<path> takes that .node instead;
# DEVICE_NODE_SH=<path> overrides the location of device-node.sh.
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"

node_file=${CUDA_NODE:-native/build/cuda/Release/tvdcn_cuda.node}
if [ -z "${CUDA_NODE:-}" ] && [ "${GPU_CHECK_SKIP_BUILD:-0}" != 1 ]; then
  echo "[gpu-check] building the CUDA addon (sm_${CMAKE_CUDA_ARCHITECTURES:-90})"
  TVDCN_CUDA=on CMAKE_CUDA_ARCHITECTURES="${CMAKE_CUDA_ARCHITECTURES:-90}" \
    pnpm --filter @tvdcn/native-src build
fi
[ -f "$node_file" ] || { echo "[gpu-check] missing $node_file" >&2; exit 1; }

rm -rf .gpu && mkdir -p .gpu
cp "$node_file" .gpu/tvdcn_cuda.node
esbuild=node_modules/.bin/esbuild
# ESM bundles for Node 20; `require` for the bundled code that loads the .node file.
bundle() {
  "$esbuild" "$1" --bundle --platform=node --format=esm --target=node20 --log-level=warning \
    --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" \
    --outfile="$2"
}
bundle packages/ops/test/cuda/main.ts .gpu/cuda-tests.mjs
bundle bench/cuda/deform-conv.cuda-bench.ts .gpu/cuda-bench.mjs
cp bench/cuda/torch_bench.py bench/cuda/report.py bench/cuda/suite.json scripts/gpu/run-on-gpu.sh .gpu/
git rev-parse --short HEAD > .gpu/commit.txt
git status --porcelain --untracked-files=no | sed 's/^/  /' >> .gpu/commit.txt || true

bash "${DEVICE_NODE_SH:-$root/../shared/tools/device-node.sh}" >/dev/null
du -sh .gpu .device | sed 's/^/[gpu-check] /'
cat <<'MSG'
[gpu-check] ready. Run on the GPU machine with the `run` tool:
  carry:   [".device", ".gpu"]
  command: source .device/setup.sh && bash .gpu/run-on-gpu.sh
  (optional, before `bash`: SKIP_TESTS=1, SKIP_BENCH=1, BENCH_ARGS="--quick" or "--only r50-c3")
MSG
