// SPDX-License-Identifier: MIT
// The in-place Tensor methods (PyTorch's copy_, fill_, zero_, add_, mul_): writes into a tensor's own
// memory through the kernels of its device (copyStrided, fill, addInPlace), so they work on every device.
// They are not recorded by autograd: like PyTorch, they refuse a leaf that requires grad while grad mode
// is on, and (unlike PyTorch, which would record them) any other tensor of a graph; call them under
// noGrad() (optimizers, init, loading weights).

import {
  DeviceMismatchError,
  DTypeMismatchError,
  formatExpected,
  formatShape,
  formatValue,
  InvalidArgumentError,
  ShapeMismatchError,
} from '@tvdcn/shape';
import { isGradEnabled } from '../autograd/grad-mode.js';
import { getKernels } from '../backends/registry.js';
import { contiguousStrides } from '../tensor/layout.js';
import { expectCpuDType } from '../tensor/dtype.js';
import type { Storage } from '../tensor/storage.js';
import { isTensor, sameShape, storageOf, type Tensor } from '../tensor/tensor.js';
import { broadcastShapes } from './op-utils.js';

/**
 * The storage of `self`, the target of in-place op `op`, after checking that autograd cannot be fooled:
 * with grad mode on, a tensor that requires grad (a leaf parameter, or a result recorded in a graph) may
 * not change in place, because the change would not be recorded.
 */
function target(self: Tensor, op: string): Storage {
  const storage = storageOf(self, op, 'self');
  if (isGradEnabled() && self.requiresGrad) {
    throw new InvalidArgumentError(
      self.isLeaf
        ? `${op}(): expected a tensor that does not require grad while grad mode is on, but got a leaf that ` +
            'requires grad (a leaf that requires grad cannot be changed in place, as in PyTorch); ' +
            'call it inside noGrad(), e.g. noGrad(() => param.' +
            op +
            '(...))'
        : `${op}(): expected a tensor outside the autograd graph, but got the result of a recorded op; ` +
            'in-place ops are not recorded by autograd: call it inside noGrad(), or on detach()',
      'self',
    );
  }
  return storage;
}

/** Checks that `src`, read by an in-place op, carries no gradient that would be silently lost. */
function source(src: unknown, op: string, argument: string): Storage {
  const storage = storageOf(src as Tensor, op, argument);
  if (isGradEnabled() && (src as Tensor).requiresGrad) {
    throw new InvalidArgumentError(
      `${op}(): expected ${argument} not to require grad while grad mode is on (in-place ops are not recorded ` +
        `by autograd, so its gradient would be lost); call it inside noGrad(), or pass ${argument}.detach()`,
      argument,
    );
  }
  return storage;
}

/** Copies the contiguous `src` (same device, dtype and numel) over `dst`. */
function overwrite(dst: Storage, src: Storage, shape: readonly number[]): void {
  if (src === dst) return;
  const strides = contiguousStrides(shape);
  getKernels(dst.device).copyStrided(src, 0, strides, dst, 0, strides, shape);
}

/** Runs `fn` on a fresh kernel result, releasing it afterwards. */
function withTemporary(storage: Storage, fn: (s: Storage) => void): void {
  storage.retain();
  try {
    fn(storage);
  } finally {
    storage.release();
  }
}

function expectNumber(op: string, argument: string, value: unknown): number {
  if (typeof value !== 'number') {
    throw new InvalidArgumentError(formatExpected(op, `${argument} to be a number`, formatValue(value)), argument);
  }
  return value;
}

/** @internal `self.copy_(src)`; see {@link Tensor.copy_}. */
export function copyInPlace(self: Tensor, src: Tensor): void {
  const op = 'copy_';
  const dst = target(self, op);
  if (!isTensor(src)) {
    throw new InvalidArgumentError(formatExpected(op, 'src to be a Tensor', formatValue(src)), 'src');
  }
  const s = source(src, op, 'src');
  if (!sameShape(src.shape, self.shape)) {
    throw new ShapeMismatchError(
      formatExpected(op, `src of shape ${formatShape(self.shape)}`, `shape ${formatShape(src.shape)}`),
    );
  }
  if (self.numel === 0 || s === dst) return;
  const k = getKernels(self.device, op);
  if (src.device === self.device) {
    if (src.dtype === self.dtype) overwrite(dst, s, self.shape);
    else withTemporary(k.cast(s, self.dtype), (c) => overwrite(dst, c, self.shape));
    return;
  }
  // Another device: the values travel through the host (half types widen to float32 there, exactly),
  // and are converted to this tensor's dtype once, by the target device's upload.
  if (self.device === 'cpu') expectCpuDType(op, self.dtype);
  const values = getKernels(src.device, op).read(s);
  withTemporary(k.fromArray(self.device, self.dtype, values, true), (c) => overwrite(dst, c, self.shape));
}

/** @internal `self.fill_(value)`; see {@link Tensor.fill_}. */
export function fillInPlace(self: Tensor, value: number, op = 'fill_'): void {
  expectNumber(op, 'value', value);
  const dst = target(self, op);
  if (self.numel > 0) getKernels(self.device, op).fill(dst, value);
}

/** @internal `self.add_(other, alpha)`; see {@link Tensor.add_}. */
export function addInPlace(self: Tensor, other: Tensor | number, alpha: number): void {
  const op = 'add_';
  expectNumber(op, 'alpha', alpha);
  const dst = target(self, op);
  const k = getKernels(self.device, op);
  if (typeof other === 'number') {
    if (self.numel > 0) withTemporary(k.unary('addScalar', dst, other * alpha), (c) => overwrite(dst, c, self.shape));
    return;
  }
  const o = checkOperand(self, other, op);
  if (self.numel === 0) return;
  const addScaled = (b: Storage): void => {
    if (sameShape(other.shape, self.shape)) {
      k.addInPlace(dst, b);
    } else {
      const sum = k.binary('add', { storage: dst, shape: self.shape }, { storage: b, shape: other.shape }, self.shape);
      withTemporary(sum, (c) => overwrite(dst, c, self.shape));
    }
  };
  if (alpha === 1) addScaled(o);
  else withTemporary(k.unary('mulScalar', o, alpha), addScaled);
}

/** @internal `self.mul_(other)`; see {@link Tensor.mul_}. */
export function mulInPlace(self: Tensor, other: Tensor | number): void {
  const op = 'mul_';
  const dst = target(self, op);
  const k = getKernels(self.device, op);
  if (typeof other === 'number') {
    if (self.numel > 0) withTemporary(k.unary('mulScalar', dst, other), (c) => overwrite(dst, c, self.shape));
    return;
  }
  const o = checkOperand(self, other, op);
  if (self.numel === 0) return;
  const product = k.binary('mul', { storage: dst, shape: self.shape }, { storage: o, shape: other.shape }, self.shape);
  withTemporary(product, (c) => overwrite(dst, c, self.shape));
}

/** Checks the tensor operand of add_/mul_: same device and dtype, broadcastable to `self`'s shape. */
function checkOperand(self: Tensor, other: unknown, op: string): Storage {
  if (!isTensor(other)) {
    throw new InvalidArgumentError(formatExpected(op, 'other to be a Tensor or a number', formatValue(other)), 'other');
  }
  const o = source(other, op, 'other');
  if (other.device !== self.device) {
    throw new DeviceMismatchError(
      formatExpected(
        op,
        `other on ${self.device}`,
        `${other.device} (no implicit copies: move it with to(), or use copy_())`,
      ),
    );
  }
  if (other.dtype !== self.dtype) {
    throw new DTypeMismatchError(
      formatExpected(
        op,
        `other of dtype ${self.dtype}`,
        `${other.dtype} (no implicit conversion: convert it with to())`,
      ),
    );
  }
  const shape = broadcastShapes(op, self.shape, other.shape, ['self', 'other']);
  if (!sameShape(shape, self.shape)) {
    throw new ShapeMismatchError(
      formatExpected(
        op,
        `other that broadcasts to self's shape ${formatShape(self.shape)}`,
        `shape ${formatShape(other.shape)} (the result would have shape ${formatShape(shape)})`,
      ),
    );
  }
  return o;
}
