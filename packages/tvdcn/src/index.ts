// SPDX-License-Identifier: MIT
// Public surface of tvdcn: the layers, initialisation, optimizers and weight I/O of this package, and the
// part of @tvdcn/ops a model author uses (tensors, memory, autograd, functional ops, losses, errors, the
// runtime queries). Left in @tvdcn/ops only: gradcheck and its types (a testing tool), DTYPES and isDType
// (helpers for libraries that take dtype strings). Re-exports only.

// #region from @tvdcn/ops: tensors and memory
export {
  arange,
  cpuEmptyCache,
  full,
  fullLike,
  Generator,
  isTensor,
  keep,
  manualSeed,
  memory,
  normal,
  ones,
  onesLike,
  parseDevice,
  rand,
  randLike,
  randn,
  randnLike,
  Tensor,
  tensor,
  tidy,
  uniform,
  zeros,
  zerosLike,
} from '@tvdcn/ops';
export type {
  CpuDType,
  Device,
  DeviceType,
  DType,
  MemoryInfo,
  NestedArray,
  RandomOptions,
  ScopedResource,
  TensorDataOptions,
  TensorOptions,
  TypedArray,
} from '@tvdcn/ops';
// #endregion

// #region from @tvdcn/ops: autograd and functional ops
export { enableGrad, grad, isGradEnabled, noGrad } from '@tvdcn/ops';
export type { BackwardOptions, GradOptions } from '@tvdcn/ops';
export {
  deformConv1d,
  deformConv2d,
  deformConv3d,
  deformConvTranspose1d,
  deformConvTranspose2d,
  deformConvTranspose3d,
  maskSigmoid,
  maskSoftmax1d,
  maskSoftmax2d,
  maskSoftmax3d,
} from '@tvdcn/ops';
export type { DeformConvOptions, DeformConvTransposeOptions } from '@tvdcn/ops';
export {
  abs,
  add,
  broadcastTo,
  cat,
  div,
  exp,
  flatten,
  l1Loss,
  log,
  mean,
  mseLoss,
  mul,
  narrow,
  neg,
  pad,
  permute,
  pow,
  relu,
  reshape,
  sigmoid,
  slice,
  sqrt,
  square,
  squeeze,
  stack,
  sub,
  sum,
  tanh,
  transpose,
  unsqueeze,
  view,
} from '@tvdcn/ops';
export type { LossOptions, PadMode, Reduction } from '@tvdcn/ops';
// #endregion

// #region from @tvdcn/ops: errors and runtime
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
} from '@tvdcn/ops';
export type { DcnErrorCode } from '@tvdcn/ops';
export {
  backendInfo,
  cuda,
  cudaArchList,
  cudaDeviceProperties,
  cudaEmptyCache,
  cudaMemoryStats,
  cudaResetPeakMemory,
  cudaSynchronize,
  cudaVersion,
  getCudaFloat32Matmul,
  hasOps,
  isDeterministic,
  loadBackend,
  setCudaFloat32Matmul,
  setDeterministic,
  withCuda,
} from '@tvdcn/ops';
export type {
  BackendInfo,
  BackendRequest,
  CudaDeviceProperties,
  CudaFloat32Matmul,
  CudaMemoryStats,
  LoadAttempt,
  WasmBackendInfo,
} from '@tvdcn/ops';
// #endregion

// #region modules
export { Module } from './nn/module.js';
export type {
  JsonValue,
  LoadStateDictOptions,
  LoadStateDictResult,
  ModuleJSON,
  ModuleTarget,
  StateDictOptions,
} from './nn/module.js';
export { parameter } from './nn/parameter.js';
export type { Parameter, ParameterFactoryOptions } from './nn/parameter.js';
export { Conv1d, Conv2d, Conv3d, ConvNd } from './nn/conv.js';
export type { ConvLayerOptions, ConvTransposeLayerOptions } from './nn/conv.js';
export { DeformConv1d, DeformConv2d, DeformConv3d } from './nn/deform-conv.js';
export type { DeformConvLayerOptions } from './nn/deform-conv.js';
export { DeformConvTranspose1d, DeformConvTranspose2d, DeformConvTranspose3d } from './nn/deform-conv-transpose.js';
export type { DeformConvTransposeLayerOptions } from './nn/deform-conv-transpose.js';
export { PackedDeformConv1d, PackedDeformConv2d, PackedDeformConv3d } from './nn/packed-deform-conv.js';
export type {
  Activation,
  ActivationFunction,
  ActivationModule,
  MaskActivationOption,
  PackedDeformConvLayerOptions,
  PackedOptions,
} from './nn/packed-deform-conv.js';
export {
  PackedDeformConvTranspose1d,
  PackedDeformConvTranspose2d,
  PackedDeformConvTranspose3d,
} from './nn/packed-deform-conv-transpose.js';
export type { PackedDeformConvTransposeLayerOptions } from './nn/packed-deform-conv-transpose.js';
export { MaskSigmoid, MaskSoftmax1d, MaskSoftmax2d, MaskSoftmax3d } from './nn/mask-activations.js';
export { ReLU, Sigmoid, Tanh } from './nn/activations.js';
export { BUILT_IN_MODULE_TYPES, DEFAULT_MAX_MODULE_ELEMENTS, moduleFromJSON } from './nn/serialization.js';
export type { ModuleFactory, ModuleFromJSONOptions } from './nn/serialization.js';
// #endregion

// #region initialisation
export {
  calculateFanInAndFanOut,
  calculateGain,
  constant_,
  kaimingUniform_,
  uniform_,
  zeros_,
} from './nn/init.js';
export type { KaimingOptions, Nonlinearity } from './nn/init.js';
// #endregion

// #region optimizers
export { Optimizer } from './optim/optimizer.js';
export type { OptimizerParams, ParamGroup, ParamGroupInput } from './optim/optimizer.js';
export { SGD } from './optim/sgd.js';
export type { SGDOptions } from './optim/sgd.js';
export { Adam, AdamW } from './optim/adam.js';
export type { AdamOptions } from './optim/adam.js';
// #endregion

// #region weights in and out
export { loadSafetensors, readSafetensorsMetadata, saveSafetensors } from './io/safetensors.js';
export type { LoadSafetensorsOptions, SafetensorsDType, SaveSafetensorsOptions } from './io/safetensors.js';
export {
  loadModule,
  loadStateDictFromSafetensors,
  MODULE_METADATA_KEY,
  saveModule,
  stateDictToSafetensors,
} from './io/state-dict.js';
// #endregion
