// SPDX-License-Identifier: MIT
// Deformable convolution and mask softmax through the native binding, for every device: one adapter
// that allocates the outputs and hands the tensors over. The shared native exports (deformConvForward,
// maskSoftmaxForward, ...) take CPU typed arrays and CUDA device buffers alike and dispatch to the
// device's kernels themselves (native/src/napi/deform_conv_binding.cc); a device brings only how it
// allocates a storage and how a storage is seen by the binding (cpu/cpu-backend.ts, cuda/cuda-backend.ts).

import {
  type NativeBinding,
  type NativeDeformConvAllocatingForward,
  type NativeDeformConvBufferForm,
  type NativeDeformConvParams,
  type NativeDeviceBuffer,
  type NativeTaskResult,
  type NativeTensor,
  packedDeformConvParams,
} from '../native/binding.js';
import type { Device } from '../tensor/device.js';
import type { DType } from '../tensor/dtype.js';
import type { Storage } from '../tensor/storage.js';
import { numelOf } from '../tensor/layout.js';
import type { DeformConvGradStorages, DeformConvNeedsGrad, KernelBackend, KernelTensor } from './kernel-backend.js';

/** @internal The binding exports this adapter calls. */
export type NativeOpsBinding = Pick<
  NativeBinding,
  | 'deformConvForward'
  | 'deformConvBackward'
  | 'deformConvSavedColumns'
  | 'maskSoftmaxForward'
  | 'maskSoftmaxBackward'
  | 'packedDeformConvParams'
  | 'deformConvBuffers'
  | 'deformConvForwardAllocates'
>;

/** The params as `b` reads them: packed where it says so, else the object (an older addon: bench --compare). */
function paramsFor(b: NativeOpsBinding, params: NativeDeformConvParams) {
  return b.packedDeformConvParams === true ? packedDeformConvParams(params) : params;
}

/** Whether `b` takes the device's tensors as buffers alone (NativeDeformConvBufferForm; the CUDA addon). */
function takesBuffers(b: NativeOpsBinding): b is NativeOpsBinding & NativeDeformConvBufferForm {
  return b.deformConvBuffers === true;
}

/** Whether `b`'s buffer form also makes the forward's output (NativeDeformConvAllocatingForward; the CUDA addon). */
function makesOutput(
  b: NativeOpsBinding & NativeDeformConvBufferForm,
): b is NativeOpsBinding & NativeDeformConvBufferForm & NativeDeformConvAllocatingForward {
  return b.deformConvForwardAllocates === true;
}

/** @internal What a device brings to the adapter. */
export interface NativeOpsDevice {
  /** The loaded binding, or a clear error naming `what` (the op) when the device cannot run it. */
  binding(what: string): NativeOpsBinding;
  /** A new, uninitialised storage of `numel` elements (the native kernels overwrite every element). */
  alloc(device: Device, dtype: DType, numel: number): Storage;
  /** How the binding sees `storage` with `shape` (no copy). */
  view(storage: Storage, shape: readonly number[]): NativeTensor;
  /**
   * The device buffer behind `storage`, where the device has them (CUDA): the deform conv bindings then take
   * the buffers alone, their shapes following from the params ({@link NativeDeformConvBufferForm}).
   */
  buffer?(storage: Storage): NativeDeviceBuffer;
  /**
   * The storage of a device buffer the binding made (the forward's output: NOTE [ The forward's output made after
   * its launches ]), of `numel` elements of `dtype` on `device`; where the device has buffers.
   */
  adopt?(buffer: NativeDeviceBuffer, device: Device, dtype: DType, numel: number): Storage;
  /**
   * Called after each binding call with what it returned and every storage it reads or writes (the CPU
   * records its queued task on them; see ../native/cpu-queue.ts).
   */
  called?(result: NativeTaskResult, storages: readonly (Storage | null)[]): void;
  /** True where the binding's transposed forward may keep its columns for the backward (the CPU). */
  savesColumns?: boolean;
}

/** @internal The deform-conv and mask-softmax methods of a KernelBackend, on `dev`. */
export function nativeOps(
  dev: NativeOpsDevice,
): Pick<
  KernelBackend,
  'deformConvForward' | 'deformConvBackward' | 'deformConvSavedColumns' | 'maskSoftmaxForward' | 'maskSoftmaxBackward'
> {
  const view = (t: KernelTensor): NativeTensor => dev.view(t.storage, t.shape);
  const viewOrNull = (t: KernelTensor | null): NativeTensor | null => (t === null ? null : view(t));
  const like = (t: KernelTensor, shape: readonly number[]): Storage =>
    dev.alloc(t.storage.device, t.storage.dtype, numelOf(shape));
  const storageOf = (t: KernelTensor | null): Storage | null => (t === null ? null : t.storage);

  return {
    deformConvForward(
      params: NativeDeformConvParams,
      input: KernelTensor,
      weight: KernelTensor,
      offset: KernelTensor | null,
      mask: KernelTensor | null,
      bias: KernelTensor | null,
      outShape: readonly number[],
      saved: Storage | null = null,
    ): Storage {
      const b = dev.binding('deformConv');
      const buffer = dev.buffer;
      if (buffer !== undefined && saved === null && takesBuffers(b)) {
        const bufferOrNull = (t: KernelTensor | null) => (t === null ? null : buffer(t.storage));
        const packed = packedDeformConvParams(params);
        const x = buffer(input.storage);
        const w = buffer(weight.storage);
        const [o, m, c] = [bufferOrNull(offset), bufferOrNull(mask), bufferOrNull(bias)];
        const { adopt } = dev;
        if (adopt !== undefined && makesOutput(b)) {
          // NOTE [ The forward's output made after its launches ] (native/src/napi/deform_conv_binding.cc)
          const made = b.deformConvForward(packed, x, w, o, m, c, null);
          const out = adopt(made, input.storage.device, input.storage.dtype, numelOf(outShape));
          dev.called?.(undefined, [
            input.storage,
            weight.storage,
            storageOf(offset),
            storageOf(mask),
            storageOf(bias),
            out,
          ]);
          return out;
        }
        const out = like(input, outShape);
        const r = b.deformConvForward(packed, x, w, o, m, c, buffer(out));
        dev.called?.(r, [input.storage, weight.storage, storageOf(offset), storageOf(mask), storageOf(bias), out]);
        return out;
      }
      const out = like(input, outShape);
      const args = [
        paramsFor(b, params),
        view(input),
        view(weight),
        viewOrNull(offset),
        viewOrNull(mask),
        viewOrNull(bias),
        dev.view(out, outShape),
      ] as const;
      // (Without saved columns, the seven arguments of every binding.)
      const r =
        saved === null ? b.deformConvForward(...args) : b.deformConvForward(...args, dev.view(saved, [saved.numel]));
      dev.called?.(r, [input.storage, weight.storage, storageOf(offset), storageOf(mask), storageOf(bias), out, saved]);
      return out;
    },

    deformConvSavedColumns(
      params: NativeDeformConvParams,
      device: Device,
      dtype: DType,
      hasOffset: boolean,
      hasMask: boolean,
    ): Storage | null {
      if (dev.savesColumns !== true || !params.transposed) return null;
      const b = dev.binding('deformConv');
      if (typeof b.deformConvSavedColumns !== 'function' || (dtype !== 'float32' && dtype !== 'float64')) return null;
      const n = b.deformConvSavedColumns(paramsFor(b, params), dtype, hasOffset, hasMask);
      return n > 0 ? dev.alloc(device, dtype, n) : null;
    },

    /** Gradients not needed are `null`: no work is done for them. */
    deformConvBackward(
      params: NativeDeformConvParams,
      input: KernelTensor,
      weight: KernelTensor,
      offset: KernelTensor | null,
      mask: KernelTensor | null,
      gradOutput: KernelTensor,
      biasShape: readonly number[] | null,
      needsGrad: DeformConvNeedsGrad,
      saved: Storage | null = null,
    ): DeformConvGradStorages {
      const b = dev.binding('deformConv backward');
      const grad = (need: boolean, shape: readonly number[] | null): Storage | null =>
        need && shape !== null ? like(input, shape) : null;
      const gInput = grad(needsGrad.input, input.shape);
      const gWeight = grad(needsGrad.weight, weight.shape);
      const gOffset = grad(needsGrad.offset, offset === null ? null : offset.shape);
      const gMask = grad(needsGrad.mask, mask === null ? null : mask.shape);
      const gBias = grad(needsGrad.bias, biasShape);
      const buffer = dev.buffer;
      let r: NativeTaskResult;
      if (buffer !== undefined && saved === null && takesBuffers(b)) {
        const bufferOrNull = (s: Storage | null) => (s === null ? null : buffer(s));
        r = b.deformConvBackward(
          packedDeformConvParams(params),
          buffer(input.storage),
          buffer(weight.storage),
          bufferOrNull(storageOf(offset)),
          bufferOrNull(storageOf(mask)),
          buffer(gradOutput.storage),
          {
            input: bufferOrNull(gInput),
            weight: bufferOrNull(gWeight),
            offset: bufferOrNull(gOffset),
            mask: bufferOrNull(gMask),
            bias: bufferOrNull(gBias),
          },
        );
      } else {
        const gradView = (s: Storage | null, shape: readonly number[] | null) =>
          s === null || shape === null ? null : dev.view(s, shape);
        const args = [
          paramsFor(b, params),
          view(input),
          view(weight),
          viewOrNull(offset),
          viewOrNull(mask),
          view(gradOutput),
          {
            input: gradView(gInput, input.shape),
            weight: gradView(gWeight, weight.shape),
            offset: gradView(gOffset, offset === null ? null : offset.shape),
            mask: gradView(gMask, mask === null ? null : mask.shape),
            bias: gradView(gBias, biasShape),
          },
        ] as const;
        r =
          saved === null
            ? b.deformConvBackward(...args)
            : b.deformConvBackward(...args, dev.view(saved, [saved.numel]));
      }
      dev.called?.(r, [
        input.storage,
        weight.storage,
        storageOf(offset),
        storageOf(mask),
        gradOutput.storage,
        saved,
        gInput,
        gWeight,
        gOffset,
        gMask,
        gBias,
      ]);
      return { input: gInput, weight: gWeight, offset: gOffset, mask: gMask, bias: gBias };
    },

    maskSoftmaxForward(mask: KernelTensor, maskGroups: number, kernelPoints: number): Storage {
      const b = dev.binding('maskSoftmax');
      const out = like(mask, mask.shape);
      const r = b.maskSoftmaxForward(view(mask), maskGroups, kernelPoints, dev.view(out, mask.shape));
      dev.called?.(r, [mask.storage, out]);
      return out;
    },

    maskSoftmaxBackward(
      output: KernelTensor,
      gradOutput: KernelTensor,
      maskGroups: number,
      kernelPoints: number,
    ): Storage {
      const b = dev.binding('maskSoftmax backward');
      const gMask = like(output, output.shape);
      const r = b.maskSoftmaxBackward(
        view(output),
        view(gradOutput),
        maskGroups,
        kernelPoints,
        dev.view(gMask, output.shape),
      );
      dev.called?.(r, [output.storage, gradOutput.storage, gMask]);
      return gMask;
    },
  };
}
