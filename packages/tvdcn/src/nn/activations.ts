// SPDX-License-Identifier: MIT
// Elementwise activation modules (Sigmoid, Tanh, ReLU), so that a packed layer's `offsetActivation` or
// `maskActivation` can be a module with a JSON form rather than a plain function. The maths is @tvdcn/ops'.

import { type Tensor, relu, sigmoid, tanh } from '@tvdcn/ops';
import { type JsonValue, Module } from './module.js';

/**
 * `sigmoid(input)` as a module (PyTorch's `nn.Sigmoid`).
 * @example `new PackedDeformConv2d(3, 8, 3, { modulated: true, maskActivation: new Sigmoid() })`
 */
export class Sigmoid extends Module {
  override get typeName(): string {
    return 'Sigmoid';
  }

  /** @returns `1 / (1 + exp(-input))`, same shape */
  forward(input: Tensor): Tensor {
    return sigmoid(input);
  }

  protected override config(): { [key: string]: JsonValue } {
    return {};
  }
}

/**
 * `tanh(input)` as a module (PyTorch's `nn.Tanh`), e.g. to bound generated offsets to (-1, 1).
 * @example `new PackedDeformConv2d(3, 8, 3, { offsetActivation: new Tanh() })`
 */
export class Tanh extends Module {
  override get typeName(): string {
    return 'Tanh';
  }

  /** @returns `tanh(input)`, same shape */
  forward(input: Tensor): Tensor {
    return tanh(input);
  }

  protected override config(): { [key: string]: JsonValue } {
    return {};
  }
}

/** `max(input, 0)` as a module (PyTorch's `nn.ReLU`). */
export class ReLU extends Module {
  override get typeName(): string {
    return 'ReLU';
  }

  /** @returns `max(input, 0)`, same shape */
  forward(input: Tensor): Tensor {
    return relu(input);
  }

  protected override config(): { [key: string]: JsonValue } {
    return {};
  }
}
