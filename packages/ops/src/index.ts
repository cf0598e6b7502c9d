// SPDX-License-Identifier: MIT
// Public surface of @tvdcn/ops: re-exports (documentation lives on the definitions), and the one
// statement that installs the ops behind the Tensor methods (tensor-methods.ts).

import { installTensorMethods } from './tensor-methods.js';

installTensorMethods();

// #region tensors
export { Tensor, isTensor } from './tensor/tensor.js';
export type { NestedArray } from './tensor/tensor.js';
export type { CpuDType, DType, TypedArray } from './tensor/dtype.js';
export { DTYPES, isDType } from './tensor/dtype.js';
export type { Device, DeviceType } from './tensor/device.js';
export { parseDevice } from './tensor/device.js';
export {
  arange,
  full,
  fullLike,
  normal,
  ones,
  onesLike,
  rand,
  randLike,
  randn,
  randnLike,
  tensor,
  uniform,
  zeros,
  zerosLike,
} from './tensor/factories.js';
export type { RandomOptions, TensorDataOptions, TensorOptions } from './tensor/factories.js';
export { Generator, manualSeed } from './tensor/random.js';
// #endregion

// #region memory
export { keep, memory, tidy } from './tensor/memory.js';
export { cpuEmptyCache } from './tensor/cpu-array-cache.js';
export type { MemoryInfo, ScopedResource } from './tensor/memory.js';
// #endregion

// #region autograd
export { enableGrad, isGradEnabled, noGrad } from './autograd/grad-mode.js';
export { grad } from './autograd/tape.js';
export type { GradOptions } from './autograd/tape.js';
export type { BackwardOptions } from './tensor/tensor.js';
export { gradcheck } from './autograd/gradcheck.js';
export type { GradcheckFn, GradcheckOptions } from './autograd/gradcheck.js';
// #endregion

// #region deformable convolution
export { deformConv1d, deformConv2d, deformConv3d } from './ops/deform-conv.js';
export type { DeformConvOptions, DeformConvTransposeOptions } from './ops/deform-conv.js';
export {
  deformConvTranspose1d,
  deformConvTranspose2d,
  deformConvTranspose3d,
} from './ops/deform-conv-transpose.js';
export { maskSigmoid, maskSoftmax1d, maskSoftmax2d, maskSoftmax3d } from './ops/mask-activations.js';
// #endregion

// #region elementwise, reductions, shapes, padding, losses
export {
  abs,
  add,
  div,
  exp,
  log,
  mul,
  neg,
  pow,
  relu,
  sigmoid,
  sqrt,
  square,
  sub,
  tanh,
} from './ops/elementwise.js';
export { mean, sum } from './ops/reduce.js';
export {
  broadcastTo,
  cat,
  flatten,
  narrow,
  permute,
  reshape,
  slice,
  squeeze,
  stack,
  transpose,
  unsqueeze,
  view,
} from './ops/shape-ops.js';
export { pad } from './ops/pad.js';
export type { PadMode } from './ops/pad.js';
export { l1Loss, mseLoss } from './ops/losses.js';
export type { LossOptions, Reduction } from './ops/losses.js';
// #endregion

// #region errors (from @tvdcn/shape, so that users of @tvdcn/ops can catch them)
export {
  DcnError,
  DeviceMismatchError,
  DisposedTensorError,
  DTypeMismatchError,
  ERROR_CODES,
  InvalidArgumentError,
  NativeLoadError,
  NotImplementedError,
  OutOfMemoryError,
  ShapeMismatchError,
} from '@tvdcn/shape';
export type { DcnErrorCode } from '@tvdcn/shape';
// #endregion

// #region runtime information
export { backendInfo, cuda, cudaArchList, cudaVersion, hasOps, loadBackend, withCuda } from './native/backend.js';
export type { BackendInfo, BackendRequest, LoadAttempt, WasmBackendInfo } from './native/backend.js';
// #endregion

// #region CUDA runtime
export {
  cudaDeviceProperties,
  cudaEmptyCache,
  cudaMemoryStats,
  cudaResetPeakMemory,
  cudaSynchronize,
  getCudaFloat32Matmul,
  isDeterministic,
  setCudaFloat32Matmul,
  setDeterministic,
} from './backends/cuda/cuda-runtime.js';
export type { CudaDeviceProperties, CudaFloat32Matmul, CudaMemoryStats } from './backends/cuda/cuda-runtime.js';
// #endregion
