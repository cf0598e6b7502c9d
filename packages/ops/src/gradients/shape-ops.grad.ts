// SPDX-License-Identifier: MIT
// Gradients of the shape and layout ops (ops/shape-ops.ts): reshape back, inverse permutation,
// gather ↔ scatter-add (narrow, slice, pad), cat → pieces, broadcastTo → sum.

import type { GradConfig } from '../autograd/gradient-registry.js';
import { sumTo } from '../ops/reduce.js';
import {
  gatherApply,
  identityMaps,
  permuteApply,
  reshapeApply,
  scatterAddApply,
  type CatAttrs,
  type GatherAttrs,
} from '../ops/shape-ops.js';

const reshapeGrad: GradConfig<null> = {
  opName: 'reshape',
  backward: (g, { needsGrad, inputShapes }) => [needsGrad[0] ? reshapeApply('reshape', g, inputShapes[0]) : null],
};

const permuteGrad: GradConfig<{ dims: readonly number[] }> = {
  opName: 'permute',
  backward: (g, { needsGrad, attrs }) => {
    if (!needsGrad[0]) return [null];
    const inverse = new Array<number>(attrs.dims.length);
    attrs.dims.forEach((d, i) => {
      inverse[d] = i;
    });
    return [permuteApply('permute', g, inverse)];
  },
};

const gatherGrad: GradConfig<GatherAttrs> = {
  opName: 'gather',
  backward: (g, { needsGrad, attrs }) => [needsGrad[0] ? scatterAddApply('gather', g, attrs) : null],
};

const scatterAddGrad: GradConfig<GatherAttrs> = {
  opName: 'scatterAdd',
  backward: (g, { needsGrad, attrs }) => [
    needsGrad[0] ? gatherApply('scatterAdd', g, attrs.maps, attrs.outShape, 0) : null,
  ],
};

const catGrad: GradConfig<CatAttrs> = {
  opName: 'cat',
  backward: (g, { needsGrad, attrs, inputShapes }) => {
    let offset = 0;
    return attrs.sizes.map((size, i) => {
      const start = offset;
      offset += size;
      if (!needsGrad[i]) return null;
      const maps = identityMaps(g.shape);
      const m = new Int32Array(size);
      for (let k = 0; k < size; k++) m[k] = start + k;
      maps[attrs.dim] = m;
      return gatherApply('cat', g, maps, inputShapes[i], 0);
    });
  },
};

const broadcastToGrad: GradConfig<null> = {
  opName: 'broadcastTo',
  backward: (g, { needsGrad, inputShapes }) => [needsGrad[0] ? sumTo(g, inputShapes[0]) : null],
};

/** @internal */
export const shapeOpGradients: readonly GradConfig<never>[] = [
  reshapeGrad,
  permuteGrad,
  gatherGrad,
  scatterAddGrad,
  catGrad,
  broadcastToGrad,
] as unknown as readonly GradConfig<never>[];
