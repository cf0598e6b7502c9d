// SPDX-License-Identifier: MIT
// In-place writes to a tensor's values, for the code that must change parameters without the autograd
// graph (init, optimizers, loadStateDict). The one place that knows how @tvdcn/ops exposes a tensor's
// memory: `cpuData()`, the zero-copy CPU array. Device (CUDA) tensors need an in-place copy from ops.

import type { Tensor } from '@tvdcn/ops';
import { NotImplementedError } from '@tvdcn/shape';

/**
 * @internal The tensor's own values, to read and write in place (zero-copy).
 * @throws {@link NotImplementedError} for a tensor not on the CPU
 */
export function ownValues(t: Tensor, op: string): Float32Array | Float64Array {
  if (t.device !== 'cpu') {
    throw new NotImplementedError(
      `${op}(): expected a tensor on 'cpu', but got one on '${t.device}'; ` +
        'in-place updates of device tensors are not implemented yet: keep the module on the CPU',
    );
  }
  return t.cpuData();
}

/**
 * @internal Overwrites every value of `t` in place with `values` (same element count; rounded to the
 * tensor's dtype).
 * @throws {@link NotImplementedError} for a tensor not on the CPU
 */
export function writeValues(t: Tensor, values: ArrayLike<number>, op: string): void {
  ownValues(t, op).set(values);
}

/**
 * @internal The values of `t` for reading only: the tensor's own array on the CPU (do not write to it),
 * a copy otherwise.
 */
export function readValues(t: Tensor): Float32Array | Float64Array {
  return t.device === 'cpu' ? t.cpuData() : t.toTypedArray();
}
