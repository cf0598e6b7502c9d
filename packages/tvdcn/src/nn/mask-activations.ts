// SPDX-License-Identifier: MIT
// Module wrappers of the mask activations (tvdcn-reference §6): MaskSoftmax{1,2,3}d, the DCNv3 softmax over
// each group's kernel points, and MaskSigmoid, a scaled sigmoid. The maths is @tvdcn/ops' functional ops.

import { type Tensor, maskSigmoid, maskSoftmax1d, maskSoftmax2d, maskSoftmax3d } from '@tvdcn/ops';
import { checkMaskSigmoidScale, intTuple } from '@tvdcn/shape';
import { type JsonValue, Module } from './module.js';

const MASK_SOFTMAX = { 1: maskSoftmax1d, 2: maskSoftmax2d, 3: maskSoftmax3d } as const;

/**
 * @internal Shared implementation of {@link MaskSoftmax1d}, {@link MaskSoftmax2d} and {@link MaskSoftmax3d}.
 */
export abstract class MaskSoftmaxNd extends Module {
  /** Kernel size, one entry per spatial dimension. */
  readonly kernelSize: readonly number[];
  readonly #dim: 1 | 2 | 3;

  protected constructor(dim: 1 | 2 | 3, kernelSize: number | readonly number[]) {
    super();
    this.#dim = dim;
    this.kernelSize = Object.freeze(intTuple(`new MaskSoftmax${dim}d`, 'kernelSize', kernelSize, dim, { min: 1 }));
  }

  override get typeName(): string {
    return `MaskSoftmax${this.#dim}d`;
  }

  /**
   * Softmax over the K kernel-point channels of each mask group, at every output position.
   *
   * @param mask - `[batch, maskGroups * K, *outSize]` (or without `batch`)
   * @param kernelSize - overrides the stored kernel size (default: the constructor's)
   * @returns the normalised mask, same shape
   */
  forward(mask: Tensor, kernelSize?: number | readonly number[]): Tensor {
    return MASK_SOFTMAX[this.#dim](mask, kernelSize ?? this.kernelSize);
  }

  protected override config(): { [key: string]: JsonValue } {
    return { kernelSize: [...this.kernelSize] };
  }
}

/**
 * Softmax of a 1D mask over each group's kernel points (Deformable Convolution v3,
 * https://arxiv.org/abs/2211.05778); the module of `maskSoftmax1d`.
 *
 * @example
 * ```ts
 * new MaskSoftmax1d(3).forward(zeros([2, 6, 8])); // every value 1/3
 * ```
 */
export class MaskSoftmax1d extends MaskSoftmaxNd {
  /** @param kernelSize - the convolution's kernel size (K = kernelSize) */
  constructor(kernelSize: number | readonly number[]) {
    super(1, kernelSize);
  }
}

/**
 * Softmax of a 2D mask over each group's kernel points (Deformable Convolution v3,
 * https://arxiv.org/abs/2211.05778); the module of `maskSoftmax2d`.
 *
 * @example
 * ```ts
 * new MaskSoftmax2d(3).forward(zeros([2, 9, 8, 8])); // every value 1/9
 * ```
 */
export class MaskSoftmax2d extends MaskSoftmaxNd {
  /** @param kernelSize - the convolution's kernel size (K = kH * kW) */
  constructor(kernelSize: number | readonly number[]) {
    super(2, kernelSize);
  }
}

/**
 * Softmax of a 3D mask over each group's kernel points (Deformable Convolution v3,
 * https://arxiv.org/abs/2211.05778); the module of `maskSoftmax3d`.
 */
export class MaskSoftmax3d extends MaskSoftmaxNd {
  /** @param kernelSize - the convolution's kernel size (K = kD * kH * kW) */
  constructor(kernelSize: number | readonly number[]) {
    super(3, kernelSize);
  }
}

/**
 * `sigmoid(mask) * scale`, the module of `maskSigmoid`. The default scale 2 makes a zero-initialised mask
 * generator start at mask = 1, i.e. at the unmodulated convolution (DCNv2).
 *
 * @example
 * ```ts
 * new MaskSigmoid().forward(zeros([1, 9, 4, 4])); // every value 1
 * ```
 */
export class MaskSigmoid extends Module {
  /** The positive scale. */
  readonly scale: number;

  /**
   * @param scale - a positive number (default 2)
   * @throws {@link InvalidArgumentError} for a scale that is not a positive number
   */
  constructor(scale = 2) {
    super();
    this.scale = checkMaskSigmoidScale('new MaskSigmoid', scale);
  }

  override get typeName(): string {
    return 'MaskSigmoid';
  }

  /** @param mask - any shape; @returns `sigmoid(mask) * scale` */
  forward(mask: Tensor): Tensor {
    return maskSigmoid(mask, this.scale);
  }

  protected override config(): { [key: string]: JsonValue } {
    return { scale: this.scale };
  }
}
