// SPDX-License-Identifier: MIT
// Copies between dtypes and devices, and clone(): the differentiable ops behind Tensor.to(),
// Tensor.clone() and Tensor.cpu()/cuda().

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
  if (shouldRecord([x])) recordOp(out, 'cast', [x], [], { dtype: x.dtype });
  return out;
}

/** @internal A copy of `x`, recorded as 'clone' (gradient: identity). */
export function clone(x: Tensor): Tensor {
  const kx = expectTensor('clone', x, 'tensor');
  const out = fromStorage(getKernels(x.device).cast(kx.storage, x.dtype), x.shape);
  if (shouldRecord([x])) recordOp(out, 'clone', [x], [], null);
  return out;
}

/**
 * @internal `x` copied to `device`, recorded as 'toDevice'. Only the CPU has kernels in this version,
 * so any other target throws NotImplementedError from the kernel registry.
 */
export function toDevice(x: Tensor, device: Device): Tensor {
  const kx = expectTensor('to', x, 'tensor');
  const target = getKernels(device, 'to');
  const values = getKernels(x.device, 'to').read(kx.storage);
  const out = fromStorage(target.fromArray(device, x.dtype, values, true), x.shape);
  if (shouldRecord([x])) recordOp(out, 'toDevice', [x], [], { device: x.device });
  return out;
}
