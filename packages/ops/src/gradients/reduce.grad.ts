// SPDX-License-Identifier: MIT
// Gradient of sum (mean is a sum and a division): the output gradient broadcast back over the
// reduced dimensions.

import type { GradConfig } from '../autograd/gradient-registry.js';
import type { SumAttrs } from '../ops/reduce.js';
import { broadcastApply, reshapeApply } from '../ops/shape-ops.js';

const sumGrad: GradConfig<SumAttrs> = {
  opName: 'sum',
  backward: (g, { needsGrad, inputShapes, attrs }) => {
    if (!needsGrad[0]) return [null];
    const shape = inputShapes[0];
    // Put the reduced dimensions back as size 1, then broadcast.
    const kept = attrs.keepdim
      ? g
      : reshapeApply(
          'sum',
          g,
          shape.map((s, d) => (attrs.dims.includes(d) ? 1 : s)),
        );
    return [broadcastApply('sum', kept, shape)];
  },
};

/** @internal */
export const reduceGradients: readonly GradConfig<never>[] = [sumGrad] as unknown as readonly GradConfig<never>[];
