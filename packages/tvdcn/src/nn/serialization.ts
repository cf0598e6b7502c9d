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
  /**
   * Most parameter elements the JSON may create, over all its modules (default
   * {@link DEFAULT_MAX_MODULE_ELEMENTS} = 2^26, 256 MiB of float32; the largest layers of common DCN
   * models have a few million). The JSON often comes from a file: a few bytes can declare a layer of
   * billions of weights, so the built-in layers check an upper bound of their parameter count against
   * this budget before allocating anything. `Infinity` turns the check off.
   */
  maxElements?: number;
}

/** Default of {@link ModuleFromJSONOptions.maxElements}: 2^26 parameter elements (256 MiB of float32). */
export const DEFAULT_MAX_MODULE_ELEMENTS = 2 ** 26;

/** Deepest nesting of modules (layers holding activation modules) that {@link moduleFromJSON} decodes. */
const MAX_MODULE_DEPTH = 32;

const OP = 'moduleFromJSON';

/** The moduleFromJSON call in progress (calls nest through activations and user factories). */
let active: { depth: number; elements: number; maxElements: number } | null = null;

/** A positive safe integer, else null. */
function positiveInteger(value: unknown): number | null {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : null;
}

/**
 * An upper bound of the parameter elements of a convolution layer's config (weights of the layer and of
 * its offset/mask generators, biases), or 0 when the config is malformed (the constructor rejects it).
 */
function convElements(config: { [key: string]: JsonValue }, dim: number, packed: boolean): number {
  const own = (key: string): unknown => (Object.hasOwn(config, key) ? config[key] : undefined);
  const inC = positiveInteger(own('inChannels'));
  const outC = positiveInteger(own('outChannels'));
  const kernel = own('kernelSize');
  const sizes = Array.isArray(kernel) ? kernel : [kernel];
  let k = 1;
  for (let i = 0; i < dim; i++) {
    const size = positiveInteger(sizes.length === 1 ? sizes[0] : sizes[i]);
    if (size === null) return 0;
    k *= size;
  }
  if (inC === null || outC === null) return 0;
  let elements = inC * outC * k + outC;
  if (packed) {
    // Offset and mask generators: convolutions from inChannels to (offsetGroups * dim + maskGroups) * K.
    const og = own('offsetGroups') === undefined ? 1 : positiveInteger(own('offsetGroups'));
    const mg = own('maskGroups') === undefined ? 1 : positiveInteger(own('maskGroups'));
    if (og === null || mg === null) return 0;
    const generated = (og * dim + mg) * k;
    elements += inC * generated * k + generated;
  }
  return elements; // may exceed 2^53 (then it is far over any budget anyway)
}

/** Counts `elements` against the budget of the call in progress; throws before anything is allocated. */
function charge(type: string, elements: number): void {
  if (active === null) return;
  active.elements += elements;
  if (active.elements > active.maxElements) {
    throw new InvalidArgumentError(
      `${OP}(): expected at most options.maxElements = ${active.maxElements} parameter elements, but got ` +
        `${active.elements} after '${type}' (raise maxElements for a model this large)`,
      'maxElements',
    );
  }
}

type ConvCtor = new (
  inChannels: number,
  outChannels: number,
  kernelSize: number | number[],
  options?: object,
) => Module;

/** The factory of a convolution layer: positional channel and kernel arguments, the rest as options. */
function convFactory(ctor: ConvCtor, dim: number, packed = false): ModuleFactory {
  return (config, options) => {
    charge(ctor.name, convElements(config, dim, packed));
    const { inChannels, outChannels, kernelSize, offsetActivation, maskActivation, ...rest } = config;
    const layerOptions: Record<string, unknown> = { ...rest };
    if (offsetActivation !== undefined)
      layerOptions.offsetActivation = activationFromJSON(offsetActivation, options, 'offsetActivation');
    if (maskActivation !== undefined)
      layerOptions.maskActivation = activationFromJSON(maskActivation, options, 'maskActivation');
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
  Conv1d: convFactory(Conv1d, 1),
  Conv2d: convFactory(Conv2d, 2),
  Conv3d: convFactory(Conv3d, 3),
  DeformConv1d: convFactory(DeformConv1d, 1),
  DeformConv2d: convFactory(DeformConv2d, 2),
  DeformConv3d: convFactory(DeformConv3d, 3),
  DeformConvTranspose1d: convFactory(DeformConvTranspose1d, 1),
  DeformConvTranspose2d: convFactory(DeformConvTranspose2d, 2),
  DeformConvTranspose3d: convFactory(DeformConvTranspose3d, 3),
  PackedDeformConv1d: convFactory(PackedDeformConv1d, 1, true),
  PackedDeformConv2d: convFactory(PackedDeformConv2d, 2, true),
  PackedDeformConv3d: convFactory(PackedDeformConv3d, 3, true),
  PackedDeformConvTranspose1d: convFactory(PackedDeformConvTranspose1d, 1, true),
  PackedDeformConvTranspose2d: convFactory(PackedDeformConvTranspose2d, 2, true),
  PackedDeformConvTranspose3d: convFactory(PackedDeformConvTranspose3d, 3, true),
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
 * The JSON may come from an untrusted file: types are looked up as own properties only, modules nest at
 * most 32 deep, and the built-in layers check their parameter count against `options.maxElements` before
 * allocating anything.
 *
 * @param json - a {@link ModuleJSON} or its JSON text
 * @param options - `device`, `dtype` (overriding the recorded one), `modules`: factories of your own
 *   classes by `type` name, and `maxElements` (default 2^26): the most parameter elements to create
 * @throws {@link InvalidArgumentError} for JSON that is not a module's (unknown `type`, wrong `version`,
 *   malformed config, nesting deeper than 32), for invalid constructor arguments in it, and (argument
 *   `'maxElements'`) for layers with more parameter elements than `options.maxElements`
 *
 * @example
 * ```ts
 * const json = JSON.stringify(conv);                 // calls conv.toJSON()
 * const copy = moduleFromJSON(json) as PackedDeformConv2d;
 * copy.loadStateDict(conv.stateDict());             // copy.forward(x) equals conv.forward(x)
 * ```
 */
export function moduleFromJSON(json: ModuleJSON | string, options: ModuleFromJSONOptions = {}): Module {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(
      `${OP}(): expected options to be an object, but got ${formatValue(options)}`,
      'options',
    );
  }
  const outer = active;
  if (outer === null) {
    const maxElements = options.maxElements ?? DEFAULT_MAX_MODULE_ELEMENTS;
    if (typeof maxElements !== 'number' || Number.isNaN(maxElements) || maxElements < 0) {
      throw new InvalidArgumentError(
        `${OP}(): expected options.maxElements to be a non-negative number (Infinity: no limit), but got ${formatValue(maxElements)}`,
        'maxElements',
      );
    }
    active = { depth: 0, elements: 0, maxElements };
  } else if (outer.depth >= MAX_MODULE_DEPTH) {
    throw new InvalidArgumentError(
      `${OP}(): expected modules nested at most ${MAX_MODULE_DEPTH} deep, but got a deeper nesting`,
      'json',
    );
  }
  const state = active as NonNullable<typeof active>;
  state.depth++;
  try {
    return decodeModule(json, options);
  } finally {
    state.depth--;
    if (outer === null) active = null;
  }
}

/** One level of {@link moduleFromJSON}: parses, looks the type up (own properties only) and builds it. */
function decodeModule(json: ModuleJSON | string, options: ModuleFromJSONOptions): Module {
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
    throw new InvalidArgumentError(
      `${OP}(): expected json to be { type, version, config }, but got ${formatValue(value)}`,
      'json',
    );
  }
  const own = (key: string): unknown =>
    Object.hasOwn(value as object, key) ? (value as Record<string, unknown>)[key] : undefined;
  const type = own('type');
  const version = own('version');
  const config = own('config');
  if (version !== 1) {
    throw new InvalidArgumentError(`${OP}(): expected json.version to be 1, but got ${formatValue(version)}`, 'json');
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new InvalidArgumentError(
      `${OP}(): expected json.config to be an object, but got ${formatValue(config)}`,
      'json',
    );
  }
  // Own properties only: a type such as '__proto__', 'valueOf' or 'hasOwnProperty' names no factory.
  const modules: unknown = options.modules;
  let factory: unknown;
  if (typeof type === 'string') {
    if (typeof modules === 'object' && modules !== null && Object.hasOwn(modules, type)) {
      factory = (modules as Record<string, unknown>)[type];
    } else if (Object.hasOwn(BUILT_INS, type)) {
      factory = BUILT_INS[type];
    }
  }
  if (typeof factory !== 'function') {
    throw new InvalidArgumentError(
      `${OP}(): expected json.type to be a built-in module (${BUILT_IN_MODULE_TYPES.join(', ')}) or one of ` +
        `options.modules, but got ${formatValue(type)}`,
      'json',
    );
  }
  const module: unknown = (factory as ModuleFactory)(config as { [key: string]: JsonValue }, options);
  if (!(module instanceof Module)) {
    throw new InvalidArgumentError(
      `${OP}(): expected the factory of '${String(type)}' to return a Module, but got ${formatValue(module)}`,
      'modules',
    );
  }
  return module;
}
