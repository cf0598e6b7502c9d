// SPDX-License-Identifier: MIT
// In-place writes to a tensor's values, for the code that must change parameters without the autograd
// graph (init, loadStateDict): @tvdcn/ops' in-place methods (`copy_`, `fill_`) under `noGrad`, which run
// on the tensor's own device, so parameters on CUDA are written where they live. Nothing here touches a
// tensor's memory directly (no `cpuData()`).

import { type Tensor, noGrad, tensor } from '@tvdcn/ops';

/**
 * @internal Overwrites every value of `t` in place with `values` (same element count): a tensor (any
 * device and dtype, same shape) or host numbers. Values are rounded once to the tensor's dtype.
 */
export function writeValues(t: Tensor, values: Tensor | Float32Array | Float64Array): void {
  noGrad(() => {
    if (!(values instanceof Float32Array || values instanceof Float64Array)) {
      t.copy_(values);
      return;
    }
    const host = tensor(values, { shape: t.shape, dtype: values instanceof Float64Array ? 'float64' : 'float32' });
    try {
      t.copy_(host);
    } finally {
      host.dispose();
    }
  });
}

/** @internal Sets every value of `t` to `value` in place (on its device). */
export function fillValues(t: Tensor, value: number): void {
  noGrad(() => t.fill_(value));
}
