// SPDX-License-Identifier: MIT
// The channels-last backward's tile region over several windows (NOTE [ One region over all windows ] in
// column_pass.cc): where no shared weight GEMM runs between the windows (the per-slot weight gradient of small
// weights, or no weight gradient requested), one region runs the slot pieces of every window, piece (w, s)
// claimable once (w - 1, s) is done, and at the region's end a thread may leave its piece at a group end for
// another one. Which thread runs a tile must never change a sum: the results are compared bit for bit across 1, 2
// and 3 threads, with the hand-overs forced at every group end, with the pool's workers started late (so the
// calling thread claims the first pieces alone), and across requested-gradient subsets; and against the planar
// kernels (another implementation) in float64.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addonBuilt,
  availableGrads,
  caseName,
  type ConvCase,
  type DType,
  expectAllClose,
  type GradName,
  loadNative,
  makeTensors,
  nativeBackward,
  outSizeOf,
  randTensor,
  rng,
  scaleOf,
  type TestBinding,
} from './helpers.js';

type Binding = TestBinding & { _setPoolWorkerDelay(us: number): void };
let b: Binding;
let savedLimit = 0;
beforeAll(() => {
  b = loadNative() as Binding;
  savedLimit = b._getWorkspaceLimit();
});
afterAll(() => {
  b._setForceHandover(false);
  b._setPoolWorkerDelay(0);
  b._setWorkspaceLimit(savedLimit);
  b.setNumThreads(2);
});

const base = { transposed: false, groups: 1, bias: true } as const;
// Each case with workspace limits that give it several windows with the per-slot weight gradient (the window,
// slot and tile counts printed by TVDCN_CPU_PHASES=1 on x86-64 with AVX-512, float64 unless noted): the limit
// bounds the windows' columns, and the per-slot weight gradient needs 16 copies' worth of it.
const cases: { c: ConvCase; limits: number[]; dtype: DType; what: string }[] = [
  {
    c: {
      ...base,
      dim: 2,
      batch: 2,
      inChannels: 8,
      outChannels: 8,
      og: 1,
      mg: 1,
      kernelSize: [3, 3],
      stride: [1, 1],
      padding: [1, 1],
      dilation: [1, 1],
      inSize: [14, 13],
    },
    limits: [200_000, 100_000],
    dtype: 'float64',
    what: '3 windows of 4 slots, tiles of 20 columns (2 per piece); 5 windows of 2 slots',
  },
  {
    c: {
      ...base,
      dim: 1,
      batch: 3,
      inChannels: 12,
      outChannels: 6,
      groups: 2,
      og: 2,
      mg: 2,
      kernelSize: [3],
      stride: [1],
      padding: [1],
      dilation: [1],
      inSize: [150],
    },
    limits: [200_000, 60_000],
    dtype: 'float64',
    what: '2 windows of 2 slots; 6 windows of 1 slot',
  },
  {
    c: {
      ...base,
      dim: 3,
      batch: 1,
      inChannels: 8,
      outChannels: 8,
      og: 1,
      mg: 0,
      kernelSize: [3, 3, 3],
      stride: [1, 1, 1],
      padding: [1, 1, 1],
      dilation: [1, 1, 1],
      inSize: [5, 6, 7],
    },
    limits: [400_000],
    dtype: 'float64',
    what: '2 windows of 4 slots, tiles of 14 columns, no mask',
  },
  {
    c: {
      ...base,
      dim: 2,
      transposed: true,
      batch: 2,
      inChannels: 8,
      outChannels: 8,
      og: 1,
      mg: 1,
      kernelSize: [4, 4],
      stride: [2, 2],
      padding: [1, 1],
      dilation: [1, 1],
      inSize: [9, 10],
    },
    limits: [200_000, 100_000],
    dtype: 'float64',
    what: 'transposed (input gradient from the column pass): 2 windows of 4 slots; 4 windows of 4 slots, tiles of 5 columns',
  },
  {
    c: {
      ...base,
      dim: 2,
      batch: 2,
      inChannels: 16,
      outChannels: 8,
      og: 2,
      mg: 2,
      kernelSize: [3, 3],
      stride: [1, 1],
      padding: [1, 1],
      dilation: [1, 1],
      inSize: [15, 17],
    },
    limits: [200_000, 400_000],
    dtype: 'float32',
    what: 'float32, 8 channels per offset group (the small-group sampler with AVX-512): 4 windows of 3 slots; 2 of 4',
  },
];

describe.runIf(addonBuilt)('channels-last backward: one tile region over several windows', () => {
  for (const { c, limits, dtype, what } of cases) {
    it(`bit for bit at 1, 2 and 3 threads, forced hand-overs, late workers (${what}): ${dtype} ${caseName(c)}`, () => {
      const t = makeTensors(c, 51);
      const r = randTensor([c.batch, c.outChannels, ...outSizeOf(c)], rng(52));
      const names = availableGrads(c);
      try {
        for (const limit of [savedLimit, ...limits]) {
          b._setWorkspaceLimit(limit);
          b.setNumThreads(1);
          const one = nativeBackward(b, c, t, r, names, dtype);
          for (const handover of [false, true]) {
            b._setForceHandover(handover);
            for (const delay of [0, 300]) {
              b._setPoolWorkerDelay(delay);
              for (const threads of [1, 2, 3]) {
                b.setNumThreads(threads);
                const got = nativeBackward(b, c, t, r, names, dtype);
                const where = `${threads} threads, ${limit}-byte workspace, forced hand-overs ${handover}, worker delay ${delay} us`;
                for (const n of names) expect(got[n], `${n}, ${where}`).toEqual(one[n]);
              }
            }
          }
          b._setForceHandover(false);
          b._setPoolWorkerDelay(0);
        }
      } finally {
        b._setForceHandover(false);
        b._setPoolWorkerDelay(0);
        b._setWorkspaceLimit(savedLimit);
        b.setNumThreads(2);
      }
    });

    it(`requested-gradient subsets give the full call's values bit for bit (${what}): ${dtype} ${caseName(c)}`, () => {
      // Without the weight gradient the region spans the windows whatever the weight's size. Where the workspace
      // limit leaves room for fewer than kSlots X-gradient accumulators, the slots are as many as fit whether the
      // input gradient is requested or not (before session 13 a call without it took kSlots slots and so other
      // weight-gradient sums: docs/perf/cpu.md): the subsets without the input gradient check that.
      const t = makeTensors(c, 53);
      const r = randTensor([c.batch, c.outChannels, ...outSizeOf(c)], rng(54));
      const names = availableGrads(c);
      const subsets: GradName[][] = [
        ['input'],
        ['input', 'weight'],
        names.filter((n) => n !== 'weight'),
        ['input', 'bias'],
        ['weight'],
        names.filter((n) => n !== 'input'),
      ];
      try {
        b.setNumThreads(2);
        for (const limit of limits) {
          b._setWorkspaceLimit(limit);
          const full = nativeBackward(b, c, t, r, names, dtype);
          for (const handover of [false, true]) {
            b._setForceHandover(handover);
            for (const want of subsets) {
              const got = nativeBackward(b, c, t, r, want, dtype);
              for (const n of want) {
                expect(got[n], `${n} of {${want}}, ${limit}-byte workspace, forced hand-overs ${handover}`).toEqual(
                  full[n],
                );
              }
            }
          }
          b._setForceHandover(false);
        }
      } finally {
        b._setForceHandover(false);
        b._setWorkspaceLimit(savedLimit);
        b.setNumThreads(2);
      }
    });
  }

  it('float64: the windows give the planar kernels’ gradients (another implementation) to rounding', () => {
    for (const { c, limits } of cases) {
      const t = makeTensors(c, 55);
      const r = randTensor([c.batch, c.outChannels, ...outSizeOf(c)], rng(56));
      const names = availableGrads(c);
      try {
        b.setNumThreads(2);
        b._setForcePlanar(true);
        const planar = nativeBackward(b, c, t, r, names, 'float64');
        b._setForcePlanar(false);
        for (const limit of limits) {
          b._setWorkspaceLimit(limit);
          const got = nativeBackward(b, c, t, r, names, 'float64');
          for (const n of names) {
            const e = planar[n]!;
            expectAllClose(got[n]!, e, 1e-12, 1e-12 * scaleOf(e), `${n}, ${limit}-byte workspace, ${caseName(c)}`);
          }
        }
      } finally {
        b._setForcePlanar(false);
        b._setWorkspaceLimit(savedLimit);
      }
    }
  });
});
