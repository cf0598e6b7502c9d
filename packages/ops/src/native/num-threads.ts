// SPDX-License-Identifier: MIT
// TVDCN_NUM_THREADS: the thread count of the CPU kernels. The addon reads the variable itself
// (native/src/core/parallel.cc, same rule); this file gives the loader the warning for values it ignores
// or caps, so a typo does not silently change the thread count.

/** @internal What the CPU thread pool makes of `TVDCN_NUM_THREADS`, and the warning to print, if any. */
export interface NumThreadsSetting {
  /** Threads the pool uses. */
  threads: number;
  /** Why the value was not used as given, or null. */
  warning: string | null;
}

/**
 * @internal Applies the rule of `TVDCN_NUM_THREADS`: a positive decimal integer, at most the number of
 * cores (larger values are capped: more threads than cores only slow the pool down); anything else (`0`,
 * `-1`, `abc`, `3.5`, empty) is ignored and the pool uses every core.
 */
export function resolveNumThreads(value: string | undefined, cores: number): NumThreadsSetting {
  const all = Math.max(1, Math.min(cores, 1024));
  if (value === undefined) return { threads: all, warning: null };
  if (!/^[0-9]+$/.test(value) || Number(value) < 1) {
    return {
      threads: all,
      warning: `TVDCN_NUM_THREADS='${value}' is not a positive integer: it is ignored, the CPU kernels use all ${all} cores`,
    };
  }
  const n = Number(value);
  if (n > all) {
    return {
      threads: all,
      warning: `TVDCN_NUM_THREADS=${value} is more than the ${all} cores of this machine: the CPU kernels use ${all} threads`,
    };
  }
  return { threads: n, warning: null };
}
