#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Prepares a GPU run of the CUDA tests and benchmarks, on this machine (which needs no GPU):
#   1. builds the CUDA addon (sm_90 unless CMAKE_CUDA_ARCHITECTURES says otherwise),
#   2. bundles the GPU test suites (packages/ops/test/cuda, packages/tvdcn/test/cuda), the benchmark
#      (bench/cuda) and the training demo (examples/train-packed-deform-conv2d, with tvdcn, @tvdcn/ops,
#      pngjs, js-pixel-fonts and cli-progress bundled in) into self-contained .mjs files under .gpu/ (git-ignored), with the addon and the Python peers,
#   3. packs this machine's Node into .device/ (../shared/tools/device-node.sh),
#   4. prints the device-run invocation. On the GPU machine, .gpu/run-on-gpu.sh runs the tests, then the
#      benchmarks, then the demo on the CPU and on CUDA (loss curves compared), and leaves logs, JSON, PNGs
#      and a markdown table in $OUT.
# Environment: GPU_CHECK_SKIP_BUILD=1 reuses native/build/cuda; CUDA_NODE=<path> takes that .node instead;
# DEVICE_NODE_SH=<path> overrides the location of device-node.sh.
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"

# From a clean checkout too: pnpm (into .tools/ when missing) and the workspace, esbuild included (a
# pinned root devDependency).
node scripts/run.mjs install
export PATH="$root/.tools/node_modules/.bin:$PATH"

node_file=${CUDA_NODE:-native/build/cuda/Release/tvdcn_cuda.node}
if [ -z "${CUDA_NODE:-}" ] && [ "${GPU_CHECK_SKIP_BUILD:-0}" != 1 ]; then
  echo "[gpu-check] building the CUDA addon (sm_${CMAKE_CUDA_ARCHITECTURES:-90})"
  TVDCN_CUDA=on CMAKE_CUDA_ARCHITECTURES="${CMAKE_CUDA_ARCHITECTURES:-90}" \
    pnpm --filter @tvdcn/native-src build
fi
[ -f "$node_file" ] || { echo "[gpu-check] missing $node_file" >&2; exit 1; }

rm -rf .gpu && mkdir -p .gpu
cp "$node_file" .gpu/tvdcn_cuda.node
# esbuild is a root devDependency (pinned to tsup's version).
esbuild=node_modules/.bin/esbuild
[ -x "$esbuild" ] || { echo "[gpu-check] $esbuild is missing (pnpm install should have brought it)" >&2; exit 1; }
source scripts/gpu/bundle.sh # bundle ENTRY OUTFILE [flags]
bundle packages/ops/test/cuda/main.ts .gpu/cuda-tests.mjs
bundle bench/cuda/deform-conv.cuda-bench.ts .gpu/cuda-bench.mjs
bundle bench/cuda/host-cost.ts .gpu/host-cost.mjs
# The demo from the sources of the workspace packages (not their dist/, which may be stale); the addon
# comes from TVDCN_NATIVE_PATH at run time, as in the other bundles.
bundle examples/train-packed-deform-conv2d/src/index.ts .gpu/train-demo.mjs \
  --alias:tvdcn=./packages/tvdcn/src/index.ts --alias:@tvdcn/ops=./packages/ops/src/index.ts \
  --alias:@tvdcn/shape=./packages/shape/src/index.ts
# tvdcn's GPU suite (optimizers, loadStateDict, init and a training step on CUDA against the CPU).
bundle packages/tvdcn/test/cuda/training.cuda-test.ts .gpu/tvdcn-cuda-tests.mjs \
  --alias:@tvdcn/ops=./packages/ops/src/index.ts --alias:@tvdcn/shape=./packages/shape/src/index.ts
for f in .gpu/train-demo.mjs .gpu/tvdcn-cuda-tests.mjs; do
  if grep -qE '^import .* from "(tvdcn|@tvdcn/[a-z-]+|pngjs|cli-progress)"' "$f"; then
    echo "[gpu-check] $f is not self-contained" >&2
    exit 1
  fi
done
cp bench/cuda/torch_bench.py bench/cuda/report.py bench/cuda/suite.json scripts/gpu/run-on-gpu.sh \
  scripts/gpu/train-demo-on-gpu.sh scripts/gpu/compare-losses.mjs scripts/gpu/ab.py .gpu/
git rev-parse --short HEAD > .gpu/commit.txt
git status --porcelain --untracked-files=no | sed 's/^/  /' >> .gpu/commit.txt || true

bash "${DEVICE_NODE_SH:-$root/../shared/tools/device-node.sh}" >/dev/null
du -sh .gpu .device | sed 's/^/[gpu-check] /'
cat <<'MSG'
[gpu-check] ready. Run on the GPU machine with the `run` tool:
  carry:   [".device", ".gpu"]
  command: source .device/setup.sh && bash .gpu/run-on-gpu.sh
  (optional, before `bash`: GPU_ONLY=demo (or tests, bench, tests,demo), SKIP_TESTS=1, SKIP_BENCH=1,
   SKIP_DEMO=1, BENCH_ARGS="--quick" or "--only r50-c3", DEMO_STEPS=400, DEMO_MODES="tf32x3 float32 tf32")
  demo alone: source .device/setup.sh && GPU_ONLY=demo bash .gpu/run-on-gpu.sh
MSG
