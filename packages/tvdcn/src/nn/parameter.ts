// SPDX-License-Identifier: MIT
// Parameters: tensors that a module owns and an optimizer updates. As in PyTorch a parameter is simply a
// leaf tensor with `requiresGrad` true; this file makes them, and is not a tensor subclass.

import { type Device, type DType, type Tensor, zeros } from '@tvdcn/ops';

/** A module's trainable tensor: a leaf {@link Tensor} with `requiresGrad` true. */
export type Parameter = Tensor;

/**
 * Makes `data` a parameter: a leaf (detached from any graph, sharing its memory when it was not a leaf)
 * with `requiresGrad` set (PyTorch's `nn.Parameter(data, requires_grad)`).
 *
 * @param data - the initial values
 * @param requiresGrad - (default true)
 * @example
 * ```ts
 * module.registerParameter('scale', parameter(ones([1])));
 * ```
 */
export function parameter(data: Tensor, requiresGrad = true): Parameter {
  const p = data.isLeaf ? data : data.detach();
  p.requiresGrad = requiresGrad;
  return p;
}

/** Where and how a new parameter is made. */
export interface ParameterFactoryOptions {
  /** Device of the parameter (default `'cpu'`). */
  device?: Device;
  /** Dtype of the parameter (default `'float32'`). */
  dtype?: DType;
}

/**
 * @internal A new parameter of `shape`, filled in place by `init` on the CPU and then moved to `device`
 * and `dtype` (half types exist only off the CPU, so they are initialised in float32 first).
 */
export function createParameter(
  shape: readonly number[],
  init: (t: Tensor) => void,
  options: ParameterFactoryOptions = {},
): Parameter {
  const dtype = options.dtype ?? 'float32';
  const device = options.device ?? 'cpu';
  const cpuDType = dtype === 'float64' ? 'float64' : 'float32';
  let t = zeros(shape, { dtype: cpuDType });
  init(t);
  if (device !== 'cpu' || dtype !== cpuDType) {
    const moved = t.to({ device, dtype });
    t.dispose();
    t = moved;
  }
  return parameter(t);
}
