# SPDX-License-Identifier: MIT
# Sourced by scripts/gpu-check.sh and scripts/gpu/stage-compact.sh: bundle ENTRY OUTFILE [more esbuild flags] makes an
# ESM bundle for Node 20 of ENTRY (relative to the current directory) with the workspace's esbuild (a root
# devDependency, pinned to tsup's version; $root must be set). `require` is defined for the bundled code that loads
# the .node file; @tvdcn/wasm32 stays external (loaded only by a dynamic import when no native binary serves; the GPU
# runs load the CUDA one).
bundle() {
  local entry=$1 outfile=$2
  shift 2
  "$root/node_modules/.bin/esbuild" "$entry" --bundle --platform=node --format=esm --target=node20 --log-level=warning \
    --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" \
    --external:@tvdcn/wasm32 --outfile="$outfile" "$@"
}
