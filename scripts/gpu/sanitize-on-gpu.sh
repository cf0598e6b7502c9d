#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The GPU suites under compute-sanitizer. Runs on the GPU machine from the repository root, after
# scripts/gpu-check.sh prepared .gpu/ here (carried) and `source .device/setup.sh` put Node on PATH:
#   memcheck (--leak-check full), then racecheck, initcheck and synccheck while the time budget lasts,
#   each on `node --test .gpu/cuda-tests.mjs` with
#     TVDCN_GPU_TESTS=quick        one case per op x dim x dtype; no >2^31-element or benchmark-sized case
#     TVDCN_CUDA_ALLOCATOR=direct  no caching: one cudaMalloc per buffer, cudaFree on release, so the tools
#                                  see each buffer's own bounds, freed memory and fresh allocations
# Full sanitizer logs: $OUT/sanitizer-<tool>.log; the suites' own output: $OUT/sanitizer-<tool>-tests.log.
# A status line per tool, then the sanitizer's ERROR SUMMARY lines, are printed last.
# Environment:
#   SANITIZE_TOOLS       tools in order (default "memcheck racecheck initcheck synccheck")
#   SANITIZE_TOOL_LIMIT  seconds per tool (default 180); SANITIZE_BUDGET seconds for all (default 420):
#                        a tool that would get less than 30 s is skipped
#   SANITIZE_ALLOCATOR   direct (default) or caching (the production allocator)
#   SANITIZE_PATTERN     node --test-name-pattern for every tool (default: all of the quick list)
# Exit status: 0 when memcheck finished and every tool that finished found no error and no failed test;
# 1 otherwise; 2 when nothing could be checked here (compute-sanitizer missing or refused, no usable GPU).
set -uo pipefail
OUT=${OUT:-$PWD/.gpu/out}
mkdir -p "$OUT"
if [ ! -f .gpu/cuda-tests.mjs ] || [ ! -f .gpu/tvdcn_cuda.node ]; then
  echo "[sanitize] .gpu/ is not prepared: run scripts/gpu-check.sh on the build machine and carry .gpu" >&2
  exit 2
fi
export TVDCN_NATIVE_PATH="$PWD/.gpu/tvdcn_cuda.node" TVDCN_GPU_TESTS=quick
case "${SANITIZE_ALLOCATOR:-direct}" in
  direct) export TVDCN_CUDA_ALLOCATOR=direct ;;
  caching) unset TVDCN_CUDA_ALLOCATOR ;;
  *) echo "[sanitize] SANITIZE_ALLOCATOR must be direct or caching" >&2; exit 2 ;;
esac
tools=${SANITIZE_TOOLS:-memcheck racecheck initcheck synccheck}
tool_limit=${SANITIZE_TOOL_LIMIT:-180}
budget_end=$((SECONDS + ${SANITIZE_BUDGET:-420}))

cs=$(command -v compute-sanitizer || true)
for c in /usr/local/cuda/bin/compute-sanitizer /usr/local/cuda/compute-sanitizer/compute-sanitizer; do
  [ -z "$cs" ] && [ -x "$c" ] && cs=$c
done
[ -n "$cs" ] || { echo "[sanitize] compute-sanitizer not found (PATH, /usr/local/cuda)" >&2; exit 2; }

{
  echo "commit: $(head -1 .gpu/commit.txt 2>/dev/null)"
  "$cs" --version 2>&1 | tail -n 2
  nvidia-smi -L 2>&1
  echo "node $(node --version), TVDCN_GPU_TESTS=$TVDCN_GPU_TESTS, TVDCN_CUDA_ALLOCATOR=${TVDCN_CUDA_ALLOCATOR:-caching}"
} | tee "$OUT/sanitizer-env.txt"

# Options common to every tool (all documented compute-sanitizer options):
#   --target-processes all   `node --test` runs the suite in a child process: check it (the runner
#                            itself makes no CUDA call)
#   --require-cuda-init no   so the runner process, which never initializes CUDA, is not an error
#   --check-exit-code yes    a failed test (non-zero exit) is reported too
#   --log-file               the sanitizer's report, apart from the suites' output
common=(--target-processes all --require-cuda-init no --check-exit-code yes --error-exitcode 1 --print-limit 200)
node_args=(--test --test-reporter=spec)
[ -n "${SANITIZE_PATTERN:-}" ] && node_args+=(--test-name-pattern="$SANITIZE_PATTERN")

declare -A state
status=0
unsupported=0
for tool in $tools; do
  case $tool in
    memcheck) extra=(--leak-check full --check-api-memory-access yes) ;;
    racecheck | initcheck | synccheck) extra=() ;;
    *) echo "[sanitize] unknown tool $tool" >&2; status=1; continue ;;
  esac
  log="$OUT/sanitizer-$tool.log"
  tests_log="$OUT/sanitizer-$tool-tests.log"
  left=$((budget_end - SECONDS))
  limit=$((left < tool_limit ? left : tool_limit))
  if [ "$limit" -lt 30 ]; then
    state[$tool]="skipped: ${left}s of SANITIZE_BUDGET left"
    echo "[sanitize] $tool: ${state[$tool]}" | tee "$log"
    [ "$tool" = memcheck ] && status=1
    continue
  fi
  echo "=== compute-sanitizer --tool $tool ${extra[*]} (limit ${limit}s)"
  t0=$SECONDS
  timeout -k 10 "$limit" "$cs" --tool "$tool" "${common[@]}" "${extra[@]}" --log-file "$log" \
    node "${node_args[@]}" .gpu/cuda-tests.mjs > "$tests_log" 2>&1
  rc=$?
  took=$((SECONDS - t0))
  touch "$log"
  tests=$(grep -E '^ℹ (pass|fail|skipped) ' "$tests_log" | tr -d 'ℹ' | xargs)
  errors=$(grep -Eo 'ERROR SUMMARY: [0-9]+' "$log" | awk '{s += $3} END {print s + 0}')
  failed=$(grep -Eo '^ℹ fail [0-9]+' "$tests_log" | awk '{s += $3} END {print s + 0}')
  passed=$(grep -Eo '^ℹ pass [0-9]+' "$tests_log" | awk '{s += $3} END {print s + 0}')
  if grep -qiE 'device not supported|not supported on this (platform|device)' "$log" "$tests_log"; then
    state[$tool]="compute-sanitizer does not support this device or machine (gVisor?): see $(basename "$log")"
    unsupported=1
  elif [ "$passed" = 0 ] && grep -q 'no usable CUDA device' "$tests_log"; then
    state[$tool]="the suites found no usable CUDA device: $(grep -m1 -o 'no usable CUDA device[^#]*' "$tests_log")"
    unsupported=1
  elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    state[$tool]="INCOMPLETE: stopped after ${limit}s; ${errors} errors reported until then; tests so far in $(basename "$tests_log")"
    if [ "$tool" = memcheck ] || [ "$errors" -gt 0 ]; then status=1; fi
  elif [ "$passed" = 0 ]; then
    state[$tool]="FAILED: no test passed (rc $rc); see $(basename "$tests_log")"
    status=1
  elif [ "$rc" != 0 ] || [ "$errors" -gt 0 ] || [ "$failed" -gt 0 ]; then
    state[$tool]="FAILED: rc $rc, ${errors} sanitizer errors, tests: ${tests} (${took}s)"
    status=1
  else
    state[$tool]="clean: 0 errors, tests: ${tests} (${took}s)"
  fi
  echo "[sanitize] $tool: ${state[$tool]}"
done

echo "=== compute-sanitizer summary (logs: sanitizer-<tool>.log; the suites' output: sanitizer-<tool>-tests.log)"
for tool in $tools; do [ -n "${state[$tool]:-}" ] && echo "$tool: ${state[$tool]}"; done
for tool in $tools; do
  log="$OUT/sanitizer-$tool.log"
  [ -f "$log" ] || continue
  grep -E '(LEAK|RACECHECK|ERROR) SUMMARY' "$log" | sed "s/^/$tool: /"
done
if [ "$unsupported" = 1 ]; then exit 2; fi
exit $status
