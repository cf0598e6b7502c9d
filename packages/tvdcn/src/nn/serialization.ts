// SPDX-License-Identifier: MIT
// moduleFromJSON: rebuilds any built-in module (layers and activations) from its `toJSON()` form, and
// user modules through factories. With a state dict this describes a model entirely as data (our
// counterpart of TorchScript). Every class is imported here, so no registration side effect is needed.

import type { Device, DType } from '@tvdcn/ops';
import { InvalidArgumentError, formatValue } from '@tvdcn/shape';
import { ReLU, Sigmoid, Tanh } from './activations.js';
import { Conv1d, Conv2d, Conv3d } from './conv.js';
import { DeformConv1d, DeformConv2d, DeformConv3d } from './deform-conv.js';
import { DeformConvTranspose1d, DeformConvTranspose2d, DeformConvTranspose3d } from './deform-conv-transpose.js';
import { MaskSigmoid, MaskSoftmax1d, MaskSoftmax2d, MaskSoftmax3d } from './mask-activations.js';
import { type JsonValue, Module, type ModuleJSON } from './module.js';
import { PackedDeformConv1d, PackedDeformConv2d, PackedDeformConv3d } from './packed-deform-conv.js';
import {
  PackedDeformConvTranspose1d,
  PackedDeformConvTranspose2d,
  PackedDeformConvTranspose3d,
} from './packed-deform-conv-transpose.js';

/** Builds a module from the `config` of its {@link ModuleJSON}. */
export type ModuleFactory = (config: { [key: string]: JsonValue }, options: ModuleFromJSONOptions) => Module;

/** Options of {@link moduleFromJSON}. */
export interface ModuleFromJSONOptions {
  /** Put the parameters on this device (the JSON form records no device; default `'cpu'`). */
  device?: Device;
  /** Use this dtype instead of the recorded one. */
  dtype?: DType;
  /** Factories of your own module classes, by their `type` name (they take precedence over the built-ins). */
  modules?: Readonly<Record<string, ModuleFactory>>;
}

const OP = 'moduleFromJSON';

type ConvCtor = new (inChannels: number, outChannels: number, kernelSize: number | number[], options?: object) => Module;

/** The factory of a convolution layer: positional channel and kernel arguments, the rest as options. */
function convFactory(ctor: ConvCtor): ModuleFactory {
  return (config, options) => {
    const { inChannels, outChannels, kernelSize, offsetActivation, maskActivation, ...rest } = config;
    const layerOptions: Record<string, unknown> = { ...rest };
    if (offsetActivation !== undefined) layerOptions.offsetActivation = activationFromJSON(offsetActivation, options, 'offsetActivation');
    if (maskActivation !== undefined) layerOptions.maskActivation = activationFromJSON(maskActivation, options, 'maskActivation');
    if (options.dtype !== undefined) layerOptions.dtype = options.dtype;
    if (options.device !== undefined) layerOptions.device = options.device;
    return new ctor(inChannels as number, outChannels as number, kernelSize as number[], layerOptions);
  };
}

/** An activation in a layer's config: null, `'sigmoid'`/`'softmax'` (hand-written JSON), or a module's JSON. */
function activationFromJSON(value: JsonValue, options: ModuleFromJSONOptions, argument: string): unknown {
  if (value === null || value === 'sigmoid' || value === 'softmax') return value;
  if (typeof value === 'object' && !Array.isArray(value)) return moduleFromJSON(value as ModuleJSON, options);
  throw new InvalidArgumentError(
    `${OP}(): expected config.${argument} to be null, 'sigmoid', 'softmax' or a module's JSON, but got ${formatValue(value)}`,
    argument,
  );
}

const BUILT_INS: Readonly<Record<string, ModuleFactory>> = {
  Conv1d: convFactory(Conv1d),
  Conv2d: convFactory(Conv2d),
  Conv3d: convFactory(Conv3d),
  DeformConv1d: convFactory(DeformConv1d),
  DeformConv2d: convFactory(DeformConv2d),
  DeformConv3d: convFactory(DeformConv3d),
  DeformConvTranspose1d: convFactory(DeformConvTranspose1d),
  DeformConvTranspose2d: convFactory(DeformConvTranspose2d),
  DeformConvTranspose3d: convFactory(DeformConvTranspose3d),
  PackedDeformConv1d: convFactory(PackedDeformConv1d),
  PackedDeformConv2d: convFactory(PackedDeformConv2d),
  PackedDeformConv3d: convFactory(PackedDeformConv3d),
  PackedDeformConvTranspose1d: convFactory(PackedDeformConvTranspose1d),
  PackedDeformConvTranspose2d: convFactory(PackedDeformConvTranspose2d),
  PackedDeformConvTranspose3d: convFactory(PackedDeformConvTranspose3d),
  MaskSoftmax1d: (config) => new MaskSoftmax1d(config.kernelSize as number[]),
  MaskSoftmax2d: (config) => new MaskSoftmax2d(config.kernelSize as number[]),
  MaskSoftmax3d: (config) => new MaskSoftmax3d(config.kernelSize as number[]),
  MaskSigmoid: (config) => new MaskSigmoid(config.scale as number),
  Sigmoid: () => new Sigmoid(),
  Tanh: () => new Tanh(),
  ReLU: () => new ReLU(),
};

/** The `type` names {@link moduleFromJSON} knows without factories. */
export const BUILT_IN_MODULE_TYPES: readonly string[] = Object.freeze(Object.keys(BUILT_INS));

/**
 * Rebuilds a module from its JSON form ({@link Module.toJSON}, or the string `JSON.stringify` made of it).
 * The weights are freshly initialised: load them with {@link Module.loadStateDict}. Then the module gives
 * the same outputs as the original.
 *
 * @param json - a {@link ModuleJSON} or its JSON text
 * @param options - `device`, `dtype` (overriding the recorded one), and `modules`: factories of your own
 *   classes by `type` name
 * @throws {@link InvalidArgumentError} for JSON that is not a module's (unknown `type`, wrong `version`,
 *   malformed config) and for invalid constructor arguments in it
 *
 * @example
 * ```ts
 * const json = JSON.stringify(conv);                 // calls conv.toJSON()
 * const copy = moduleFromJSON(json) as PackedDeformConv2d;
 * copy.loadStateDict(conv.stateDict());             // copy.forward(x) equals conv.forward(x)
 * ```
 */
export function moduleFromJSON(json: ModuleJSON | string, options: ModuleFromJSONOptions = {}): Module {
  let value: unknown = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (e) {
      throw new InvalidArgumentError(
        `${OP}(): expected json to be a module's JSON text, but it does not parse (${e instanceof Error ? e.message : String(e)})`,
        'json',
      );
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(`${OP}(): expected json to be { type, version, config }, but got ${formatValue(value)}`, 'json');
  }
  const { type, version, config } = value as Record<string, unknown>;
  if (version !== 1) {
    throw new InvalidArgumentError(`${OP}(): expected json.version to be 1, but got ${formatValue(version)}`, 'json');
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new InvalidArgumentError(`${OP}(): expected json.config to be an object, but got ${formatValue(config)}`, 'json');
  }
  const factory = typeof type === 'string' ? (options.modules?.[type] ?? (Object.hasOwn(BUILT_INS, type) ? BUILT_INS[type] : undefined)) : undefined;
  if (factory === undefined) {
    throw new InvalidArgumentError(
      `${OP}(): expected json.type to be a built-in module (${BUILT_IN_MODULE_TYPES.join(', ')}) or one of ` +
        `options.modules, but got ${formatValue(type)}`,
      'json',
    );
  }
  const module = factory(config as { [key: string]: JsonValue }, options);
  if (!(module instanceof Module)) {
    throw new InvalidArgumentError(`${OP}(): expected the factory of '${String(type)}' to return a Module, but got ${formatValue(module)}`, 'modules');
  }
  return module;
}
