// SPDX-License-Identifier: MIT
// deformConv1d/2d/3d and the dim-generic deformConvNd behind them and behind the transposed ops:
// check the arguments (all checks live in @tvdcn/shape), make unbatched inputs batched, call the
// device's kernel, record the graph, undo the reshape. The gradient is in deform-conv.grad.ts (beside this
// file: one native backward call for both the regular and the transposed op).
//
// NOTE [ Unbatched inputs ]
// An input with N + 1 dimensions is unbatched: input, offset and mask are viewed with a leading batch of
// 1 (reshape shares memory), the batched op runs, and the output is viewed back without the batch. The
// reshapes are recorded, so gradients come back in the caller's shapes (tvdcn-reference §3.1, §11 A6).

import type { SpatialDim } from '@tvdcn/shape';
import { recordOp, shouldRecord } from '../autograd/grad-node.js';
import { getKernels } from '../backends/registry.js';
import { fromStorage, type Tensor } from '../tensor/tensor.js';
import { defineOp } from './define-op.js';
import { deformConvGeometry } from './deform-conv-geometry.js';
import { numelOf } from '../tensor/layout.js';
import { expectOptions, expectSameDeviceAndDType, expectTensor } from './op-utils.js';
import { type DeformConvAttrs, deformConvGrad, deformConvTransposeGrad } from './deform-conv.grad.js';
import { broadcastApply, reshapeApply } from './primitives.js';

/** Options of `deformConv{1,2,3}d`. Numbers broadcast to every spatial dimension. */
export interface DeformConvOptions {
  /**
   * Sampling offsets `[batch, offsetGroups * N * K, ...outSize]` (unbatched: no `batch`), in input pixels;
   * channel `(g * K + k) * N + a` holds axis `a` (in spatial order: z, y, x) of kernel point `k` of offset
   * group `g`. `null`/omitted: no deformation (an ordinary convolution).
   */
  offset?: Tensor | null;
  /** Modulation `[batch, maskGroups * K, ...outSize]` (unbatched: no `batch`); `null`/omitted: 1. */
  mask?: Tensor | null;
  /** Bias `[outChannels]`; `null`/omitted: none. */
  bias?: Tensor | null;
  /** Stride, positive (default 1). */
  stride?: number | readonly number[];
  /** Zero padding on both sides, non-negative (default 0). */
  padding?: number | readonly number[];
  /** Spacing of kernel points, positive (default 1). */
  dilation?: number | readonly number[];
  /** Blocked connections from input to output channels; divides both (default 1). */
  groups?: number;
}

/** Options of `deformConvTranspose{1,2,3}d`. */
export interface DeformConvTransposeOptions extends DeformConvOptions {
  /**
   * Extra size added to one side of each output dimension, smaller than `max(stride, dilation)`
   * (default 0). Offset and mask live on the input grid: `[batch, ..., ...inSize]`.
   */
  outputPadding?: number | readonly number[];
}

const OPTION_KEYS = ['offset', 'mask', 'bias', 'stride', 'padding', 'dilation', 'groups'] as const;
const TRANSPOSE_OPTION_KEYS = [...OPTION_KEYS, 'outputPadding'] as const;

/**
 * @internal The dim-generic (transposed) deformable convolution: the four steps of style.md §9.3.
 */
export function deformConvNd(
  op: string,
  dim: SpatialDim,
  transposed: boolean,
  input: Tensor,
  weight: Tensor,
  options: DeformConvTransposeOptions | undefined,
): Tensor {
  // 1. Convert the arguments.
  const opts = expectOptions(op, options, transposed ? TRANSPOSE_OPTION_KEYS : OPTION_KEYS);
  const offset = opts.offset ?? null;
  const mask = opts.mask ?? null;
  const bias = opts.bias ?? null;
  const kInput = expectTensor(op, input, 'input');
  const kWeight = expectTensor(op, weight, 'weight');
  if (offset !== null) expectTensor(op, offset, 'offset');
  if (mask !== null) expectTensor(op, mask, 'mask');
  if (bias !== null) expectTensor(op, bias, 'bias');
  expectSameDeviceAndDType(op, [
    ['input', input],
    ['weight', weight],
    ['offset', offset],
    ['mask', mask],
    ['bias', bias],
  ]);

  // 2. Resolve the geometry: every shape and hyper-parameter check.
  const shapes = {
    input: input.shape,
    weight: weight.shape,
    offset: offset?.shape ?? null,
    mask: mask?.shape ?? null,
    bias: bias?.shape ?? null,
  };
  const hyper = {
    stride: opts.stride,
    padding: opts.padding,
    dilation: opts.dilation,
    groups: opts.groups,
    outputPadding: opts.outputPadding,
  };
  const { p, params } = deformConvGeometry(op, dim, transposed, shapes, hyper); // NOTE [ The geometry of recent calls ]

  // 3. Unbatched → batched views. See NOTE [ Unbatched inputs ].
  const batch = (t: Tensor | null): Tensor | null =>
    t === null || p.batched ? t : reshapeApply(op, t, [1, ...t.shape]);
  const x = batch(input) as Tensor;
  const off = batch(offset);
  const msk = batch(mask);
  const batchedShape = p.batched ? p.outputShape : [1, ...p.outputShape];

  // 4. Run the kernel, record the graph, undo the reshape.
  const empty = numelOf(batchedShape) === 0 || input.numel === 0 || weight.numel === 0;
  const record = shouldRecord([x, weight, off, msk, bias]);
  let columns: Tensor | null = null;
  let out: Tensor;
  if (empty) {
    // Nothing to convolve: the output is the bias (or zeros). No kernel call.
    out =
      bias === null
        ? fromStorage(getKernels(input.device).zeros(input.device, input.dtype, numelOf(batchedShape)), batchedShape)
        : broadcastApply(op, reshapeApply(op, bias, [1, p.outChannels, ...p.outSize.map(() => 1)]), batchedShape);
  } else {
    const kernels = getKernels(input.device, op);
    // NOTE [ Saved columns of the transposed forward ]
    // The transposed forward computes columns W^T x that its backward needs again, for the offset and mask
    // gradients only (native/src/deform_conv/cpu/column_pass.cc has the NOTE's native half). Where such a gradient
    // may be asked for (the offset or the mask requires grad and the graph is recorded), the forward keeps them
    // in a tensor saved for the backward, as PyTorch's saved tensors do, which then skips recomputing them (a GEMM
    // as large as the forward's): the same values, bit for bit. Bounded: the backend gives a buffer only where
    // the columns fit its bound (on the CPU, the workspace limit, default 64 MiB: up-t2d's take 8 MB), else the
    // backward recomputes them; nothing is kept without grad (noGrad, or no offset or mask requiring grad), nor
    // on devices and binaries without this (CUDA, WebAssembly, older addons). The memory is freed with the graph's
    // other saved tensors (after backward(), or when the graph is dropped).
    if (record && transposed && (off?.requiresGrad === true || msk?.requiresGrad === true)) {
      const saved = kernels.deformConvSavedColumns?.(params, input.device, input.dtype, off !== null, msk !== null);
      if (saved) columns = fromStorage(saved, [saved.numel]);
    }
    const storage = kernels.deformConvForward(
      params,
      { storage: kInput.storage, shape: x.shape },
      kWeight,
      off === null ? null : expectTensor(op, off, 'offset'),
      msk === null ? null : expectTensor(op, msk, 'mask'),
      bias === null ? null : expectTensor(op, bias, 'bias'),
      batchedShape,
      columns === null ? null : expectTensor(op, columns, 'columns').storage,
    );
    out = fromStorage(storage, batchedShape);
  }
  if (record) {
    const attrs: DeformConvAttrs = { op, params, biasShape: bias?.shape ?? null, empty };
    recordOp(
      out,
      transposed ? deformConvTransposeGrad : deformConvGrad,
      [x, weight, off, msk, bias],
      [x, weight, off, msk, columns],
      attrs,
    );
  }
  return p.batched ? out : reshapeApply(op, out, p.outputShape);
}

/**
 * 1D deformable convolution (Dai et al. 2017, https://arxiv.org/abs/1703.06211; with `mask`, modulated
 * deformable convolution, DCNv2, Zhu et al. 2018, https://arxiv.org/abs/1811.11168): tvdcn's
 * `deform_conv1d`. Each kernel tap samples the input at its regular position plus a learned offset, with
 * linear interpolation (zero outside the input), times the mask.
 *
 * @param input - `[batch, inChannels, inW]`, or `[inChannels, inW]` unbatched
 * @param weight - `[outChannels, inChannels / groups, kW]`
 * @param options - `offset` `[batch, offsetGroups * kW, outW]`, `mask` `[batch, maskGroups * kW, outW]`,
 *   `bias` `[outChannels]` (each optional), `stride` (1), `padding` (0), `dilation` (1), `groups` (1)
 * @returns `[batch, outChannels, outW]` (unbatched: `[outChannels, outW]`), with
 *   `outW = floor((inW + 2 * padding - dilation * (kW - 1) - 1) / stride) + 1`
 * @throws {@link ShapeMismatchError} when shapes do not fit (message names the tensor and the rule)
 * @throws {@link InvalidArgumentError} for bad hyper-parameters or unknown options
 * @throws {@link DTypeMismatchError}, {@link DeviceMismatchError} for mixed dtypes or devices
 * @throws {@link NativeLoadError} when the native binary cannot be loaded
 * @example
 * ```ts
 * const y = deformConv1d(randn([4, 3, 10]), randn([5, 3, 3]), { offset: randn([4, 3, 8]) });
 * y.shape; // [4, 5, 8]
 * ```
 */
export const deformConv1d = defineOp(
  'deformConv1d',
  (op, input: Tensor, weight: Tensor, options?: DeformConvOptions): Tensor =>
    deformConvNd(op, 1, false, input, weight, options),
);

/**
 * 2D deformable convolution (Dai et al. 2017, https://arxiv.org/abs/1703.06211; with `mask`, DCNv2, Zhu
 * et al. 2018, https://arxiv.org/abs/1811.11168): tvdcn's `deform_conv2d`, with bilinear sampling. With
 * `offset` and `mask` null it equals an ordinary `conv2d`.
 *
 * @param input - `[batch, inChannels, inH, inW]`, or `[inChannels, inH, inW]` unbatched
 * @param weight - `[outChannels, inChannels / groups, kH, kW]`
 * @param options - `offset` `[batch, offsetGroups * 2 * kH * kW, outH, outW]` (per kernel point `(dy, dx)`,
 *   height first), `mask` `[batch, maskGroups * kH * kW, outH, outW]`, `bias` `[outChannels]` (each optional),
 *   `stride` (1), `padding` (0), `dilation` (1), `groups` (1); numbers or `[h, w]`
 * @returns `[batch, outChannels, outH, outW]` (unbatched: `[outChannels, outH, outW]`), per dimension
 *   `out = floor((in + 2 * padding - dilation * (k - 1) - 1) / stride) + 1`
 * @throws {@link ShapeMismatchError}, {@link InvalidArgumentError}, {@link DTypeMismatchError},
 *   {@link DeviceMismatchError}, {@link NativeLoadError} (see {@link deformConv1d})
 * @example
 * ```ts
 * const y = deformConv2d(randn([4, 3, 10, 10]), randn([5, 3, 3, 3]), {
 *   offset: randn([4, 18, 8, 8]), mask: rand([4, 9, 8, 8]), bias: randn([5]),
 * });
 * y.shape; // [4, 5, 8, 8]
 * ```
 */
export const deformConv2d = defineOp(
  'deformConv2d',
  (op, input: Tensor, weight: Tensor, options?: DeformConvOptions): Tensor =>
    deformConvNd(op, 2, false, input, weight, options),
);

/**
 * 3D deformable convolution (Dai et al. 2017, https://arxiv.org/abs/1703.06211; with `mask`, DCNv2):
 * tvdcn's `deform_conv3d`, with trilinear sampling.
 *
 * @param input - `[batch, inChannels, inD, inH, inW]`, or `[inChannels, inD, inH, inW]` unbatched
 * @param weight - `[outChannels, inChannels / groups, kD, kH, kW]`
 * @param options - `offset` `[batch, offsetGroups * 3 * kD * kH * kW, outD, outH, outW]` (per kernel point
 *   `(dz, dy, dx)`), `mask` `[batch, maskGroups * kD * kH * kW, outD, outH, outW]`, `bias` `[outChannels]`,
 *   `stride` (1), `padding` (0), `dilation` (1), `groups` (1); numbers or `[d, h, w]`
 * @returns `[batch, outChannels, outD, outH, outW]` (unbatched: without `batch`)
 * @throws {@link ShapeMismatchError}, {@link InvalidArgumentError}, {@link DTypeMismatchError},
 *   {@link DeviceMismatchError}, {@link NativeLoadError} (see {@link deformConv1d})
 * @example
 * ```ts
 * const y = deformConv3d(randn([4, 3, 10, 10, 10]), randn([5, 3, 3, 3, 3]), { offset: randn([4, 81, 8, 8, 8]) });
 * y.shape; // [4, 5, 8, 8, 8]
 * ```
 */
export const deformConv3d = defineOp(
  'deformConv3d',
  (op, input: Tensor, weight: Tensor, options?: DeformConvOptions): Tensor =>
    deformConvNd(op, 3, false, input, weight, options),
);
