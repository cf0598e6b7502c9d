// SPDX-License-Identifier: MIT
// Gradient of the deformable convolution of deform-conv.ts, regular and transposed: one native backward
// call that computes only the gradients in the needsGrad mask (null buffers cost no work; for the
// transposed op, params.transposed selects the transposed formulas, tvdcn-reference §5), and the node
// that refuses double backward, as tvdcn does (tvdcn-reference §8).

import { NotImplementedError } from '@tvdcn/shape';
import type { GradContext, GradFn } from '../autograd/grad-fn.js';
import { isGradEnabled } from '../autograd/grad-mode.js';
import { recordOp, shouldRecord } from '../autograd/grad-node.js';
import type { KernelTensor } from '../backends/kernel-backend.js';
import { getKernels } from '../backends/registry.js';
import type { NativeDeformConvParams } from '../native/binding.js';
import { fromStorage, type Tensor } from '../tensor/tensor.js';
import { expectTensor } from './op-utils.js';
import { sumApply } from './primitives.js';

/** @internal What the deformable convolution backward needs besides the saved tensors. */
export interface DeformConvAttrs {
  /** Public op name, for messages (`'deformConv2d'`). */
  op: string;
  /** The batched geometry handed to the kernels. */
  params: NativeDeformConvParams;
  /** `[outChannels]` when a bias was given. */
  biasShape: readonly number[] | null;
  /** True when the output is only the bias (no elements to convolve): no kernel call at all. */
  empty: boolean;
}

/**
 * @internal The saved inputs, in the op's order, and the transposed forward's columns (NOTE [ Saved columns of the
 * transposed forward ] in deform-conv.ts; null where it kept none).
 */
type Saved = [Tensor, Tensor, Tensor | null, Tensor | null, Tensor | null];

function kernelView(t: Tensor | null): KernelTensor | null {
  return t === null ? null : expectTensor('backward', t, 'saved');
}

/** Gradients `[input, weight, offset, mask, bias]` of a (transposed) deformable convolution. */
function deformConvNdBackward(g: Tensor, ctx: GradContext<DeformConvAttrs>): (Tensor | null)[] {
  const [input, weight, offset, mask, columns] = ctx.saved as Saved;
  const need = ctx.needsGrad;
  const a = ctx.attrs;
  const needs = {
    input: need[0],
    weight: need[1],
    offset: need[2] && offset !== null,
    mask: need[3] && mask !== null,
    bias: need[4] && a.biasShape !== null,
  };
  const kernels = getKernels(g.device, a.op);
  const zerosOf = (t: Tensor): Tensor => fromStorage(kernels.zeros(t.device, t.dtype, t.numel), t.shape);
  let grads: (Tensor | null)[];
  if (a.empty) {
    // Nothing was convolved: only the bias received the output gradient.
    const spatial = g.shape.map((_, d) => d).filter((d) => d !== 1);
    grads = [
      needs.input ? zerosOf(input) : null,
      needs.weight ? zerosOf(weight) : null,
      needs.offset ? zerosOf(offset as Tensor) : null,
      needs.mask ? zerosOf(mask as Tensor) : null,
      needs.bias ? sumApply(a.op, g, spatial, false) : null,
    ];
  } else {
    const r = kernels.deformConvBackward(
      a.params,
      kernelView(input) as KernelTensor,
      kernelView(weight) as KernelTensor,
      kernelView(offset),
      kernelView(mask),
      kernelView(g) as KernelTensor,
      a.biasShape,
      needs,
      // (Read only where the offset or mask gradient is computed.)
      columns === null ? null : (kernelView(columns) as KernelTensor).storage,
    );
    grads = [
      r.input && fromStorage(r.input, input.shape),
      r.weight && fromStorage(r.weight, weight.shape),
      r.offset && fromStorage(r.offset, (offset as Tensor).shape),
      r.mask && fromStorage(r.mask, (mask as Tensor).shape),
      r.bias && fromStorage(r.bias, a.biasShape as readonly number[]),
    ];
  }
  // With createGraph, the gradients join the graph through a node whose own backward refuses.
  if (isGradEnabled() && shouldRecord([g, input, weight, offset, mask])) {
    for (const t of grads) {
      if (t !== null) recordOp(t, doubleBackwardGrad, [g, input, weight, offset, mask], [], { op: a.op });
    }
  }
  return grads;
}

/** @internal The gradient of deformConv{1,2,3}d. */
export const deformConvGrad: GradFn<DeformConvAttrs> = {
  opName: 'deformConv',
  backward: deformConvNdBackward,
};

/** @internal The gradient of deformConvTranspose{1,2,3}d: the same native backward. */
export const deformConvTransposeGrad: GradFn<DeformConvAttrs> = {
  opName: 'deformConvTranspose',
  backward: deformConvNdBackward,
};

/** Where the gradients join the graph under createGraph: differentiating them again is refused. */
const doubleBackwardGrad: GradFn<{ op: string }> = {
  opName: 'deformConvDoubleBackward',
  backward: (_g, { attrs }) => {
    throw new NotImplementedError(
      `${attrs.op}(): expected a first-order gradient, but got a request for the gradient of its gradient; ` +
        'double backward through deformable convolution is not implemented (as in tvdcn): ' +
        'do not differentiate gradients of deformable convolutions (createGraph)',
    );
  },
};
