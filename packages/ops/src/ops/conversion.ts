// SPDX-License-Identifier: MIT
// Copies between dtypes and devices, and clone(): the differentiable ops behind Tensor.to(),
// Tensor.clone() and Tensor.cpu()/cuda(). Each gradient copies back (clone's is the identity).

import type { GradFn } from '../autograd/grad-fn.js';
import { recordOp, shouldRecord } from '../autograd/grad-node.js';
import { getKernels } from '../backends/registry.js';
import type { Device } from '../tensor/device.js';
import { expectCpuDType, type DType } from '../tensor/dtype.js';
import { fromStorage, type Tensor } from '../tensor/tensor.js';
import { expectTensor } from './op-utils.js';

/** @internal `x` converted to `dtype` (a copy), recorded as 'cast'. */
export function cast(x: Tensor, dtype: DType): Tensor {
  const kx = expectTensor('to', x, 'tensor');
  if (x.device === 'cpu') expectCpuDType('to', dtype);
  const out = fromStorage(getKernels(x.device, 'to').cast(kx.storage, dtype), x.shape);
  if (shouldRecord([x])) recordOp(out, castGrad, [x], [], { dtype: x.dtype });
  return out;
}

/** cast → cast back to the input's dtype. */
const castGrad: GradFn<{ dtype: DType }> = {
  opName: 'cast',
  backward: (g, { needsGrad, attrs }) => [needsGrad[0] ? cast(g, attrs.dtype) : null],
};

/** @internal A copy of `x`, recorded as 'clone' (gradient: identity). */
export function clone(x: Tensor): Tensor {
  const kx = expectTensor('clone', x, 'tensor');
  const out = fromStorage(getKernels(x.device).cast(kx.storage, x.dtype), x.shape);
  if (shouldRecord([x])) recordOp(out, cloneGrad, [x], [], null);
  return out;
}

const cloneGrad: GradFn<null> = {
  opName: 'clone',
  backward: (g, { needsGrad }) => [needsGrad[0] ? g : null],
};

/**
 * @internal `x` copied to `device`, recorded as 'toDevice'. Only the CPU has kernels in this version,
 * so any other target throws NotImplementedError from the kernel registry.
 */
export function toDevice(x: Tensor, device: Device): Tensor {
  const kx = expectTensor('to', x, 'tensor');
  const target = getKernels(device, 'to');
  const values = getKernels(x.device, 'to').read(kx.storage);
  const out = fromStorage(target.fromArray(device, x.dtype, values, true), x.shape);
  if (shouldRecord([x])) recordOp(out, toDeviceGrad, [x], [], { device: x.device });
  return out;
}

/** toDevice → copy back to the input's device. */
const toDeviceGrad: GradFn<{ device: Device }> = {
  opName: 'toDevice',
  backward: (g, { needsGrad, attrs }) => [needsGrad[0] ? toDevice(g, attrs.device) : null],
};
