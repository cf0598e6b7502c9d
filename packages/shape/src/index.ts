// SPDX-License-Identifier: MIT
// Public surface of @tvdcn/shape: parameter and shape utilities for deformable convolution. Re-exports only.

// #region errors
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
} from './errors.js';
export type { DcnErrorCode, DcnErrorOptions } from './errors.js';
// #endregion

// #region formatting
export { formatExpected, formatOpPrefix, formatShape, formatValue } from './format.js';
// #endregion

// #region tuples and validation
export { ntuple, pair, single, triple } from './ntuple.js';
export type { IntOrTuple } from './ntuple.js';
export {
  expectInteger,
  expectNonNegativeInteger,
  expectPositiveInteger,
  expectPositiveNumber,
  expectShape,
  intTuple,
  isInteger,
  isNonNegativeInteger,
  isPositiveInteger,
  isPositiveNumber,
  isShape,
} from './validate.js';
export type { IntTupleOptions } from './validate.js';
// #endregion

// #region sizes and padding
export { convOutputSize, convTransposeOutputSize, outputPaddingFor } from './conv-output-size.js';
export { checkPaddingMode, isPaddingMode, PADDING_MODES, resolvePadding } from './padding.js';
export type { PaddingArg, PaddingMode, PaddingString, ResolvedPadding } from './padding.js';
// #endregion

// #region op checks
export { checkDeformConvArgs } from './deform-conv-params.js';
export type {
  DeformConvHyperparameters,
  DeformConvParams,
  DeformConvShapes,
  DeformConvTransposeHyperparameters,
  SpatialDim,
} from './deform-conv-params.js';
export { checkDeformConvTransposeArgs } from './deform-conv-transpose-params.js';
export { checkMaskSigmoidScale, checkMaskSoftmaxArgs } from './mask-params.js';
export type { MaskSoftmaxParams } from './mask-params.js';
// #endregion
