// SPDX-License-Identifier: MIT
// CPU deformable convolution and mask softmax: thin calls into the native binding (native/binding.ts).
// CPU storages are passed zero-copy; outputs are allocated here and filled by the native code.

import type { NativeDeformConvParams, NativeTensor } from '../../native/binding.js';
import { getBinding } from '../../native/load-binding.js';
import type { DeformConvGradStorages, DeformConvNeedsGrad, KernelTensor } from '../kernel-backend.js';
import type { CpuDType } from '../../tensor/dtype.js';
import type { CpuStorage, Storage } from '../../tensor/storage.js';
import { allocCpu, arrayOf, numelOf } from './cpu-storage.js';

/** The binding's view of a kernel tensor (no copy). */
function native(t: KernelTensor): NativeTensor {
  return { data: arrayOf(t.storage), shape: t.shape, dtype: t.storage.dtype };
}

function nativeOrNull(t: KernelTensor | null): NativeTensor | null {
  return t === null ? null : native(t);
}

/** A new storage of `shape` and its binding view. */
function output(dtype: CpuDType | string, shape: readonly number[]): [CpuStorage, NativeTensor] {
  const storage = allocCpu(dtype as CpuDType, numelOf(shape));
  return [storage, { data: storage.data, shape, dtype: storage.dtype }];
}

/** @internal See KernelBackend.deformConvForward. */
export function deformConvForwardCpu(
  params: NativeDeformConvParams,
  input: KernelTensor,
  weight: KernelTensor,
  offset: KernelTensor | null,
  mask: KernelTensor | null,
  bias: KernelTensor | null,
  outShape: readonly number[],
): Storage {
  const [out, outView] = output(input.storage.dtype, outShape);
  getBinding().deformConvForward(
    params,
    native(input),
    native(weight),
    nativeOrNull(offset),
    nativeOrNull(mask),
    nativeOrNull(bias),
    outView,
  );
  return out;
}

/** @internal See KernelBackend.deformConvBackward. Gradients not needed are `null`: no work is done for them. */
export function deformConvBackwardCpu(
  params: NativeDeformConvParams,
  input: KernelTensor,
  weight: KernelTensor,
  offset: KernelTensor | null,
  mask: KernelTensor | null,
  gradOutput: KernelTensor,
  biasShape: readonly number[] | null,
  needsGrad: DeformConvNeedsGrad,
): DeformConvGradStorages {
  const dtype = input.storage.dtype;
  const grad = (need: boolean, shape: readonly number[] | null): [CpuStorage, NativeTensor] | null =>
    need && shape !== null ? output(dtype, shape) : null;
  const gInput = grad(needsGrad.input, input.shape);
  const gWeight = grad(needsGrad.weight, weight.shape);
  const gOffset = grad(needsGrad.offset, offset === null ? null : offset.shape);
  const gMask = grad(needsGrad.mask, mask === null ? null : mask.shape);
  const gBias = grad(needsGrad.bias, biasShape);
  getBinding().deformConvBackward(
    params,
    native(input),
    native(weight),
    nativeOrNull(offset),
    nativeOrNull(mask),
    native(gradOutput),
    {
      input: gInput && gInput[1],
      weight: gWeight && gWeight[1],
      offset: gOffset && gOffset[1],
      mask: gMask && gMask[1],
      bias: gBias && gBias[1],
    },
  );
  return {
    input: gInput && gInput[0],
    weight: gWeight && gWeight[0],
    offset: gOffset && gOffset[0],
    mask: gMask && gMask[0],
    bias: gBias && gBias[0],
  };
}

/** @internal See KernelBackend.maskSoftmaxForward. */
export function maskSoftmaxForwardCpu(mask: KernelTensor, maskGroups: number, kernelPoints: number): Storage {
  const [out, outView] = output(mask.storage.dtype, mask.shape);
  getBinding().maskSoftmaxForward(native(mask), maskGroups, kernelPoints, outView);
  return out;
}

/** @internal See KernelBackend.maskSoftmaxBackward. */
export function maskSoftmaxBackwardCpu(
  outputTensor: KernelTensor,
  gradOutput: KernelTensor,
  maskGroups: number,
  kernelPoints: number,
): Storage {
  const [gMask, gView] = output(outputTensor.storage.dtype, outputTensor.shape);
  getBinding().maskSoftmaxBackward(native(outputTensor), native(gradOutput), maskGroups, kernelPoints, gView);
  return gMask;
}
