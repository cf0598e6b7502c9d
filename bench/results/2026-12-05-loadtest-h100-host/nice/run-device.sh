#!/usr/bin/env bash
# Session 13 (issue 10): does SCHED_IDLE for the library's threads (the example's default) cost the queued server
# its requests/s on two dedicated CPUs? Server on CPUs 0-1 (2 threads), autocannon on 8-9, 4 connections,
# TVDCN_THREAD_NICE=idle (default) and =0 alternated by config. carry [".device", ".lt-s11", ".lt-s13"].
set -u
t0=$SECONDS; W=/tmp/lt13; rm -rf $W; mkdir -p $W
for n in ${LT13_NICE:-0 idle}; do
  mkdir -p $W/nice-$n
  OUT=$W/nice-$n TVDCN_THREAD_NICE=$n LT_CONFIGS=0-1:2 LT_CONN=4 LT_ROUNDS=${LT13_ROUNDS:-4} bash .lt-s11/run.sh > $W/nice-$n/run.log 2>&1
  echo "[$((SECONDS - t0)) s] nice=$n rc=$?"
  grep -E "^\| [0-9]+ \| [0-9]+ \|" $W/nice-$n/lt-*.log
  grep -E "^\| (sync|queue) \| [0-9] \| 4 \| [0-9.]+ \|" $W/nice-$n/lt-*.log
  grep -E "^\| (sync|queue) \| [0-9] \| 4 \| [0-9.]+ / " $W/nice-$n/lt-*.log
done
(cd $W && tar -cJf $OUT/lt13.tar.xz .)
