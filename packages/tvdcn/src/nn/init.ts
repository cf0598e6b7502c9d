// SPDX-License-Identifier: MIT
// Parameter initialisation with PyTorch's distributions (torch.nn.init): the in-place fills that
// `_ConvNd.reset_parameters` uses, on any device (written with copy_/fill_ under noGrad). Random numbers
// come from @tvdcn/ops' `rand` on the CPU, so `manualSeed` (or the `generator` given) governs them on every
// device; the values differ from PyTorch's (another generator), the distributions do not.

import { Generator, type Tensor, rand } from '@tvdcn/ops';
import { InvalidArgumentError, ShapeMismatchError, formatShape, formatValue } from '@tvdcn/shape';
import { fillValues, writeValues } from '../internal/tensor-data.js';

/** The nonlinearities {@link calculateGain} knows (PyTorch's names). */
export type Nonlinearity =
  | 'linear'
  | 'conv1d'
  | 'conv2d'
  | 'conv3d'
  | 'conv_transpose1d'
  | 'conv_transpose2d'
  | 'conv_transpose3d'
  | 'sigmoid'
  | 'tanh'
  | 'relu'
  | 'leaky_relu'
  | 'selu';

/** Options of {@link kaimingUniform_}. */
export interface KaimingOptions {
  /** Negative slope of the rectifier after this layer, for `'leaky_relu'` (default 0). Layers use √5. */
  a?: number;
  /** `'fan_in'` (default) keeps the variance of the forward pass, `'fan_out'` of the backward pass. */
  mode?: 'fan_in' | 'fan_out';
  /** The nonlinearity after this layer (default `'leaky_relu'`). */
  nonlinearity?: Nonlinearity;
  /** The generator to draw from (default: the default generator, which `manualSeed` seeds). */
  generator?: Generator;
}

/**
 * The recommended gain for a nonlinearity (PyTorch's `calculate_gain`): 1 for linear, convolutions and
 * sigmoid; 5/3 for tanh; √2 for relu; √(2 / (1 + slope²)) for leaky_relu (slope `param`, default 0.01);
 * 3/4 for selu.
 *
 * @throws {@link InvalidArgumentError} for an unknown nonlinearity or a slope that is not a number
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'conv1d':
    case 'conv2d':
    case 'conv3d':
    case 'conv_transpose1d':
    case 'conv_transpose2d':
    case 'conv_transpose3d':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      if (typeof slope !== 'number' || Number.isNaN(slope)) {
        throw new InvalidArgumentError(
          `calculateGain(): expected param to be a number, but got ${formatValue(slope)}`,
          'param',
        );
      }
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      throw new InvalidArgumentError(
        `calculateGain(): expected nonlinearity to be one of 'linear', 'conv1d', ..., 'sigmoid', 'tanh', 'relu', ` +
          `'leaky_relu', 'selu', but got ${formatValue(nonlinearity)}`,
        'nonlinearity',
      );
  }
}

/**
 * Fan-in and fan-out of a weight of shape `[a, b, *kernel]` (PyTorch's `_calculate_fan_in_and_fan_out`):
 * `fanIn = b * prod(kernel)`, `fanOut = a * prod(kernel)`. For a transposed convolution's weight
 * `[inChannels, outChannels / groups, *kernel]` this gives `fanIn = outChannels / groups * K`, as PyTorch.
 *
 * @param weight - a tensor or a shape, with at least 2 dimensions
 * @throws {@link ShapeMismatchError} for fewer than 2 dimensions
 */
export function calculateFanInAndFanOut(weight: Tensor | readonly number[]): {
  /** `b * prod(kernel)` */
  fanIn: number;
  /** `a * prod(kernel)` */
  fanOut: number;
} {
  const shape = Array.isArray(weight) ? (weight as readonly number[]) : (weight as Tensor).shape;
  if (shape.length < 2) {
    throw new ShapeMismatchError(
      `calculateFanInAndFanOut(): expected a weight with at least 2 dimensions, but got shape ${formatShape(shape)}`,
    );
  }
  let receptive = 1;
  for (let i = 2; i < shape.length; i++) receptive *= shape[i];
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

/** Checks a finite bound of a distribution. */
function expectFinite(op: string, argument: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidArgumentError(
      `${op}(): expected ${argument} to be a finite number, but got ${formatValue(value)}`,
      argument,
    );
  }
  return value;
}

/**
 * Fills `t` in place with values drawn from U(low, high) (PyTorch's `uniform_`); returns `t`.
 *
 * @param generator - the generator to draw from (default: the default generator, which `manualSeed` seeds)
 * @throws {@link InvalidArgumentError} for bounds that are not finite or `low > high`, or a `generator`
 *   that is not a `Generator`
 */
export function uniform_(t: Tensor, low = 0, high = 1, generator?: Generator): Tensor {
  expectFinite('uniform_', 'low', low);
  expectFinite('uniform_', 'high', high);
  if (low > high) {
    throw new InvalidArgumentError(`uniform_(): expected low <= high, but got low = ${low} and high = ${high}`, 'low');
  }
  if (generator !== undefined && !(generator instanceof Generator)) {
    throw new InvalidArgumentError(
      `uniform_(): expected generator to be a Generator, but got ${formatValue(generator)}`,
      'generator',
    );
  }
  if (t.numel === 0) return t;
  // Drawn on the CPU in float64 (the same numbers on every device), rounded once to t's dtype on its device.
  const u = rand([t.numel], { dtype: 'float64', generator });
  const draws = u.toTypedArray() as Float64Array;
  u.dispose();
  const width = high - low;
  for (let i = 0; i < draws.length; i++) draws[i] = low + width * draws[i];
  writeValues(t, draws);
  return t;
}

/**
 * Fills `t` in place with `value` (PyTorch's `constant_`); returns `t`.
 */
export function constant_(t: Tensor, value: number): Tensor {
  if (typeof value !== 'number') {
    throw new InvalidArgumentError(
      `constant_(): expected value to be a number, but got ${formatValue(value)}`,
      'value',
    );
  }
  fillValues(t, value);
  return t;
}

/**
 * Fills `t` in place with zeros (PyTorch's `zeros_`); returns `t`.
 */
export function zeros_(t: Tensor): Tensor {
  return constant_(t, 0);
}

/**
 * Fills `t` in place with values from U(-bound, bound), `bound = gain * √(3 / fan)` (He et al., "Delving
 * Deep into Rectifiers", https://arxiv.org/abs/1502.01852; PyTorch's `kaiming_uniform_`); returns `t`.
 *
 * The layers call it with `a = √5`, which makes `gain = √(1/3)` and `bound = 1 / √fanIn`. A weight with no
 * elements is left alone.
 *
 * @param t - a weight with at least 2 dimensions
 * @param options - `a` (default 0), `mode` (default `'fan_in'`), `nonlinearity` (default `'leaky_relu'`),
 *   `generator` (default: the default generator)
 * @throws {@link ShapeMismatchError} for fewer than 2 dimensions
 *
 * @example
 * ```ts
 * kaimingUniform_(weight, { a: Math.sqrt(5) }); // weight [5, 3, 3, 3]: U(-1/√27, 1/√27)
 * ```
 */
export function kaimingUniform_(t: Tensor, options: KaimingOptions = {}): Tensor {
  const { a = 0, mode = 'fan_in', nonlinearity = 'leaky_relu', generator } = options;
  if (mode !== 'fan_in' && mode !== 'fan_out') {
    throw new InvalidArgumentError(
      `kaimingUniform_(): expected mode to be 'fan_in' or 'fan_out', but got ${formatValue(mode)}`,
      'mode',
    );
  }
  if (t.numel === 0) return t;
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  const fan = mode === 'fan_in' ? fanIn : fanOut;
  const gain = calculateGain(nonlinearity, a);
  const bound = Math.sqrt(3) * (gain / Math.sqrt(fan));
  return uniform_(t, -bound, bound, generator);
}
