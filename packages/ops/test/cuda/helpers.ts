// SPDX-License-Identifier: MIT
// Helpers of the GPU suites (run with node:test on a machine with a GPU: scripts/gpu-check.sh): seeded
// random data, norm-wise relative errors, per-dtype tolerances, and output poisoning through the
// caching allocator (a freed block is reused by the next request of its size class, so filling
// blocks with NaN and freeing them makes any element a kernel fails to write show up as NaN).

import assert from 'node:assert/strict';
import { backendInfo, cuda } from '../../src/native/backend.js';
import { hasTensorKernels } from '../../src/native/binding.js';
import { getCudaBinding } from '../../src/native/cuda-binding.js';
import type { DType } from '../../src/tensor/dtype.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { rng } from '../seeded-random.js';

/**
 * The device under test. TVDCN_GPU_TEST_DEVICE=cpu dry-runs the suites with the CPU in its place (half
 * dtypes, poisoning and CUDA-only checks are then skipped): a check of the suites themselves.
 */
export const DRY_RUN = process.env.TVDCN_GPU_TEST_DEVICE === 'cpu';
export const DEVICE = (DRY_RUN ? 'cpu' : 'cuda:0') as 'cuda:0';

/** Why the GPU suites are skipped here (false when a CUDA device is usable). */
export const SKIP: string | false =
  DRY_RUN || cuda.isAvailable() ? false : `no usable CUDA device (${backendInfo().cudaUnavailableReason})`;

/**
 * TVDCN_GPU_TESTS=quick: the reduced case list for slow runs (compute-sanitizer:
 * scripts/gpu/sanitize-on-gpu.sh). Every op keeps one case per dim and dtype; the >2^31-element tensor
 * and the benchmark-sized problems are left out. Unset (or anything else): the full suites.
 */
export const QUICK = process.env.TVDCN_GPU_TESTS === 'quick';

/** `skip` option of a test that the quick list leaves out (false: run it). */
export const FULL_ONLY: string | false = QUICK ? 'left out by TVDCN_GPU_TESTS=quick' : false;

/**
 * TVDCN_CUDA_ALLOCATOR=direct (read by the native allocator too): no caching, every buffer is its own
 * cudaMalloc, freed when released (compute-sanitizer runs). Checks of the cache are skipped then, and
 * poison() has no effect (a freed block is not handed out again).
 */
export const DIRECT_ALLOCATOR = process.env.TVDCN_CUDA_ALLOCATOR === 'direct';

/** `skip` option of a test of the caching allocator itself (false: run it). */
export const CACHING_ONLY: string | false = DIRECT_ALLOCATOR
  ? 'the allocator caches nothing (TVDCN_CUDA_ALLOCATOR=direct)'
  : false;

/** The dtypes under test (the CPU has no half types). */
export const ALL_DTYPES: DType[] = DRY_RUN ? ['float32', 'float64'] : ['float32', 'float64', 'float16', 'bfloat16'];

/** The seeded generator of the test suites (../seeded-random.ts). */
export { rng };

/** `n` uniform values in [lo, hi). */
export function uniformArray(r: () => number, n: number, lo = -1, hi = 1): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

/** ||got - ref|| / ||ref|| (NaN when `got` holds a NaN that `ref` does not). */
export function relErr(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  assert.equal(got.length, ref.length, 'lengths differ');
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    const g = got[i];
    const f = ref[i];
    if (Number.isNaN(g) !== Number.isNaN(f)) return Number.NaN;
    if (Number.isNaN(f)) continue;
    num += (g - f) * (g - f);
    den += f * f;
  }
  if (den === 0) return Math.sqrt(num);
  return Math.sqrt(num / den);
}

/** Asserts relErr(got, ref) <= tol, with a message naming the case and both numbers. */
export function expectClose(what: string, got: ArrayLike<number>, ref: ArrayLike<number>, tol: number): number {
  const e = relErr(got, ref);
  assert.ok(e <= tol, `${what}: relative error ${e} > ${tol}`);
  return e;
}

/** Norm-wise tolerances against a float64 reference on the same (rounded) inputs. */
export function tolerance(dtype: DType, kind: 'forward' | 'backward' | 'elementwise'): number {
  switch (dtype) {
    case 'float64':
      return 1e-12;
    case 'float32':
      return kind === 'elementwise' ? 1e-6 : 1e-5;
    case 'float16':
      return kind === 'backward' ? 1e-2 : 4e-3;
    case 'bfloat16':
      return kind === 'backward' ? 6e-2 : 3e-2;
  }
}

/** Rounds values to the dtype (what the GPU tensor will hold), through the GPU for the half types. */
export function roundTo(
  values: Float64Array,
  dtype: DType,
  toDevice: (v: Float64Array, d: DType) => Tensor,
): Float64Array {
  if (dtype === 'float64') return values;
  if (dtype === 'float32') return Float64Array.from(values, Math.fround);
  const t = toDevice(values, dtype);
  const out = Float64Array.from(t.toTypedArray());
  t.dispose();
  return out;
}

/** True when any element is NaN. */
export function hasNaN(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (Number.isNaN(a[i])) return true;
  return false;
}

/**
 * Fills `copies` free blocks of each size with NaN and returns them to the allocator of CUDA device
 * `device` (default 0), so the next allocations of those sizes there (the outputs of the call under
 * test) start as NaN.
 */
export function poison(dtype: DType, numels: readonly number[], copies = 3, device = 0): void {
  if (DRY_RUN) return;
  const b = getCudaBinding('poison');
  assert.ok(hasTensorKernels(b), 'the CUDA binary has the tensor kernels');
  const held = [];
  for (const n of numels) {
    if (n <= 0) continue;
    for (let c = 0; c < copies; c++) {
      const buf = b.cudaBufferAlloc(device, dtype, n);
      b.fill({ data: buf, shape: [n], dtype }, Number.NaN);
      held.push(buf);
    }
  }
  b.cudaSynchronize(device);
  for (const buf of held) b.cudaBufferFree(buf);
}

/** Median of a list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}
