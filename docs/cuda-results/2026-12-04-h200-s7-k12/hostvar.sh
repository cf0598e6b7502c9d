#!/usr/bin/env bash
# Issue 12, session 7 (helper k12), run 4: why one bench process of a binary has twice the host time of the
# next. The same B bench (tr2d-256 fp16, bf16) in 8 processes: unpinned (U) and pinned to one core of the GPU's
# NUMA node (P), alternated; then the machine's CPU facts. carry [".device", ".gpu-k12"].
set -u
source .device/setup.sh >/dev/null
G=$PWD/.gpu-k12; R=$OUT; T=/tmp/o; mkdir -p $T; t0=$SECONDS
xz -dkf $G/b.node.xz
{ nvidia-smi topo -m; lscpu | grep -E 'Model name|^CPU\(s\)|Thread|Core|Socket|NUMA|MHz'; cat /sys/devices/system/cpu/cpu0/cpufreq/scaling_governor 2>&1; nproc; cat /proc/loadavg; } > $R/cpu.txt 2>&1
aff=$(nvidia-smi topo -m 2>/dev/null | awk '/^GPU0/{for(i=1;i<=NF;i++) if($i ~ /^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$/ && $i ~ /-/){print $i; exit}}')
core=${aff%%-*}; core=${core%%,*}; core=$((${core:-0} + 2))
echo "GPU affinity '$aff', pinned core $core" | tee -a $R/cpu.txt
for r in 1 2 3 4; do
  for side in U P; do
    pin=""; [ $side = P ] && pin="taskset -c $core"
    TVDCN_NATIVE_PATH=$G/b.node OUT=$T $pin timeout 60 node $G/cuda-bench.mjs --only tr2d-256,tr3d-64 --variants fp16,bf16 > $T/b-$side$r.log 2>&1
    echo "$side$r $(grep -h 'fwd .* host' $T/b-$side$r.log | awk '{printf "%s %s fwd %s host %s | ", $1, $2, $4, $(NF-1)}')" | tee -a $R/hostvar.txt
  done
done
echo "done at $((SECONDS - t0)) s"
