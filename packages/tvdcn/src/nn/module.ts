// SPDX-License-Identifier: MIT
// The Module base class with PyTorch's `nn.Module` semantics: parameters and submodules registered by
// name, in order; dotted names; state dicts; device/dtype moves; train/eval; the repr. Layers are in the
// other files of nn/, and rebuilding a module from its JSON form is in serialization.ts.

import { type Device, type DType, type Tensor, isTensor, keep } from '@tvdcn/ops';
import {
  DisposedTensorError,
  InvalidArgumentError,
  NotImplementedError,
  ShapeMismatchError,
  formatShape,
  formatValue,
} from '@tvdcn/shape';
import { writeValues } from '../internal/tensor-data.js';

/** A value that `JSON.stringify` writes as-is. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * The JSON form of a module: its class and constructor arguments, without the weights (those travel in a
 * state dict: {@link Module.stateDict}, {@link saveSafetensors}). Rebuild it with {@link moduleFromJSON}.
 *
 * @example
 * ```ts
 * new DeformConv2d(3, 5, 3).toJSON();
 * // { type: 'DeformConv2d', version: 1, config: { inChannels: 3, outChannels: 5, kernelSize: [3, 3], ... } }
 * ```
 */
export type ModuleJSON = {
  /** The class name, e.g. `'PackedDeformConv2d'`. */
  type: string;
  /** Version of this format (1). */
  version: 1;
  /** The constructor arguments in camelCase; nested modules (activations) as their own {@link ModuleJSON}. */
  config: { [key: string]: JsonValue };
};

/** Options of {@link Module.loadStateDict}. */
export interface LoadStateDictOptions {
  /**
   * When true (the default), keys missing from the dict and keys the module does not have are errors.
   * Shape mismatches are errors either way, as in PyTorch.
   */
  strict?: boolean;
}

/** What {@link Module.loadStateDict} returns (PyTorch's `_IncompatibleKeys`). */
export interface LoadStateDictResult {
  /** Keys of the module's state dict that the given dict lacks. */
  missingKeys: string[];
  /** Keys of the given dict that the module does not have. */
  unexpectedKeys: string[];
}

/** Options of {@link Module.stateDict}. */
export interface StateDictOptions {
  /**
   * Return the parameters themselves (PyTorch's `keep_vars=True`) instead of detached tensors sharing their
   * memory (default false).
   */
  keepVars?: boolean;
  /** Prefix of every key (default `''`). */
  prefix?: string;
}

/** The argument of {@link Module.to}: a device, a dtype, or both. */
export type ModuleTarget =
  | Device
  | DType
  | {
      /** Where the parameters go (unchanged when omitted). */
      device?: Device;
      /** The parameters' new dtype (unchanged when omitted). */
      dtype?: DType;
    };

/** Node's `util.inspect.custom` symbol (a registered symbol: no import of node:util needed). */
const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/** Indents every line but the first by `spaces` (PyTorch's `_addindent`). */
function addIndent(text: string, spaces: number): string {
  const lines = text.split('\n');
  if (lines.length === 1) return text;
  const pad = ' '.repeat(spaces);
  return [lines[0], ...lines.slice(1).map((line) => pad + line)].join('\n');
}

/** Checks a parameter or submodule name. */
function checkName(op: string, name: unknown): string {
  if (typeof name !== 'string' || name === '' || name.includes('.')) {
    throw new InvalidArgumentError(
      `${op}(): expected name to be a non-empty string without '.', but got ${formatValue(name)}`,
      'name',
    );
  }
  return name;
}

/**
 * Base class of every layer (PyTorch's `nn.Module`).
 *
 * A module owns parameters (tensors with `requiresGrad` true) and submodules, each registered under a name
 * in order; names of nested parameters are dotted (`offset_generator.weight`). The built-in layers register
 * their parameters under tvdcn's own (snake_case) names, so their state dicts load into and from PyTorch.
 *
 * To write your own module, subclass it, register parameters and submodules in the constructor and
 * implement `forward`:
 *
 * @example
 * ```ts
 * class Net extends Module {
 *   readonly conv = this.registerModule('conv', new PackedDeformConv2d(3, 8, 3, { padding: 1 }));
 *   forward(x: Tensor): Tensor { return relu(this.conv.forward(x)); }
 * }
 * const net = new Net();
 * net.namedParameters().map(([name]) => name); // ['conv.weight', 'conv.bias', 'conv.offset_generator.weight']
 * ```
 */
export abstract class Module {
  /** True in training mode (the default), false after {@link Module.eval}. */
  training = true;

  readonly #parameters = new Map<string, Tensor | null>();
  readonly #modules = new Map<string, Module | null>();

  /**
   * The forward pass. Subclasses declare their own inputs after the first tensor (e.g.
   * `forward(input, offset?, mask?)`); through the base type, the extra arguments are not type-checked.
   */
  abstract forward(input: Tensor, ...rest: unknown[]): Tensor;

  /** The class name used by {@link Module.toString} and {@link Module.toJSON} (default: the constructor's name). */
  get typeName(): string {
    return this.constructor.name;
  }

  // #region registration

  /**
   * Registers (or replaces) a parameter under `name`; `null` registers an absent one (PyTorch
   * `register_parameter(name, None)`), which appears in no list or state dict. The module owns it from then
   * on: no `tidy()` disposes it.
   *
   * @returns `param`
   * @throws {@link InvalidArgumentError} for an empty or dotted name, a name already used by a submodule,
   *   or a value that is neither a tensor nor null
   */
  registerParameter<T extends Tensor | null>(name: string, param: T): T {
    const op = `${this.typeName}.registerParameter`;
    checkName(op, name);
    if (this.#modules.has(name)) {
      throw new InvalidArgumentError(`${op}(): expected a name not used by a submodule, but got '${name}'`, 'name');
    }
    if (param !== null && !isTensor(param)) {
      throw new InvalidArgumentError(
        `${op}(): expected param to be a Tensor or null, but got ${formatValue(param)}`,
        'param',
      );
    }
    // A module owns its parameters: no tidy() scope may dispose them (a module made inside tidy() lives on).
    if (param !== null) keep(param);
    this.#parameters.set(name, param);
    return param;
  }

  /**
   * Registers (or replaces) a submodule under `name`; `null` registers an absent one (shown as `None` by
   * {@link Module.toString}, as in PyTorch).
   *
   * @returns `module`
   * @throws {@link InvalidArgumentError} for an empty or dotted name, a name already used by a parameter,
   *   or a value that is neither a module nor null
   */
  registerModule<M extends Module | null>(name: string, module: M): M {
    const op = `${this.typeName}.registerModule`;
    checkName(op, name);
    if (this.#parameters.has(name)) {
      throw new InvalidArgumentError(`${op}(): expected a name not used by a parameter, but got '${name}'`, 'name');
    }
    if (module !== null && !(module instanceof Module)) {
      throw new InvalidArgumentError(
        `${op}(): expected module to be a Module or null, but got ${formatValue(module)}`,
        'module',
      );
    }
    this.#modules.set(name, module);
    return module;
  }

  /** The parameter registered directly on this module under `name` (null when absent or not registered). */
  protected param(name: string): Tensor | null {
    return this.#parameters.get(name) ?? null;
  }

  /**
   * The submodule at a dotted path (`''` is this module).
   * @throws {@link InvalidArgumentError} when a part of the path is not a registered submodule
   */
  getSubmodule(target: string): Module {
    let module: Module = this;
    if (target === '') return module;
    for (const part of target.split('.')) {
      const next = module.#modules.get(part);
      if (next === undefined || next === null) {
        throw new InvalidArgumentError(
          `${this.typeName}.getSubmodule(): expected a path of submodules, but '${part}' of '${target}' is not one`,
          'target',
        );
      }
      module = next;
    }
    return module;
  }

  // #endregion

  // #region traversal

  /**
   * `[name, parameter]` pairs, this module's first, then each submodule's (dotted), in registration order;
   * absent (null) parameters are skipped and a parameter shared by several modules is listed once.
   *
   * @param prefix - prepended to every name (default `''`)
   * @param recurse - include submodules (default true)
   */
  namedParameters(prefix = '', recurse = true): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    for (const [modulePrefix, module] of recurse ? this.namedModules(prefix) : [[prefix, this] as [string, Module]]) {
      for (const [name, p] of module.#parameters) {
        if (p === null || seen.has(p)) continue;
        seen.add(p);
        out.push([modulePrefix ? `${modulePrefix}.${name}` : name, p]);
      }
    }
    return out;
  }

  /** The parameters of {@link Module.namedParameters}, without names (e.g. for an optimizer). */
  parameters(recurse = true): Tensor[] {
    return this.namedParameters('', recurse).map(([, p]) => p);
  }

  /** `[name, submodule]` pairs of the direct submodules, in registration order (absent ones skipped). */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [name, m] of this.#modules) if (m !== null) out.push([name, m]);
    return out;
  }

  /** The direct submodules, in registration order. */
  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /**
   * `[name, module]` pairs of this module (named `prefix`, default `''`) and every submodule below it
   * (dotted names), depth first in registration order; a module reachable twice is listed once.
   */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [];
    const seen = new Set<Module>();
    const visit = (module: Module, name: string): void => {
      if (seen.has(module)) return;
      seen.add(module);
      out.push([name, module]);
      for (const [childName, child] of module.#modules) {
        if (child !== null) visit(child, name ? `${name}.${childName}` : childName);
      }
    };
    visit(this, prefix);
    return out;
  }

  /** This module and every submodule below it (see {@link Module.namedModules}). */
  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** Calls `fn` on every submodule (children first, recursively) and then on this module; returns `this`. */
  apply(fn: (module: Module) => void): this {
    for (const child of this.children()) child.apply(fn);
    fn(this);
    return this;
  }

  // #endregion

  // #region state

  /**
   * The parameters by dotted name, as PyTorch's `state_dict()`: for the built-in layers the keys are
   * exactly tvdcn's (`weight`, `bias`, `offset_generator.weight`, `offset_generator.bias`,
   * `mask_generator.weight`, `mask_generator.bias`), so the dict saves to a file PyTorch loads and back.
   *
   * Unlike {@link Module.namedParameters}, a parameter shared by two modules appears under both names.
   * The tensors are detached and share the parameters' memory (`keepVars` returns the parameters).
   *
   * @example
   * ```ts
   * Object.keys(new PackedDeformConv2d(3, 5, 3, { modulated: true }).stateDict());
   * // ['weight', 'bias', 'offset_generator.weight', 'mask_generator.weight']
   * ```
   */
  stateDict(options: StateDictOptions = {}): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [name, p] of this.#stateEntries(options.prefix ?? '')) {
      out[name] = options.keepVars ? p : p.detach();
    }
    return out;
  }

  /** Every `[dotted name, parameter]`, duplicates included (the state dict's entries). */
  #stateEntries(prefix: string): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const visit = (module: Module, name: string, path: Set<Module>): void => {
      if (path.has(module)) return;
      for (const [key, p] of module.#parameters) if (p !== null) out.push([name + key, p]);
      path.add(module);
      for (const [key, child] of module.#modules) if (child !== null) visit(child, `${name}${key}.`, path);
      path.delete(module);
    };
    visit(this, prefix, new Set());
    return out;
  }

  /**
   * Copies the values of `stateDict` into the parameters with the same dotted names, in place (parameters
   * keep their identity, dtype and device; values are converted), as PyTorch's `load_state_dict`.
   *
   * @param stateDict - tensors by dotted name, e.g. from {@link loadSafetensors} or another module's
   *   {@link Module.stateDict}
   * @param options - `strict` (default true): missing and unexpected keys are errors
   * @returns the missing and unexpected keys (both empty when strict, or the call throws)
   * @throws {@link ShapeMismatchError} when a tensor's shape differs from its parameter's (even when not
   *   strict); the message lists every problem, missing and unexpected keys included
   * @throws {@link InvalidArgumentError} when strict and keys are missing or unexpected, or a value is not a
   *   tensor; nothing is copied when it throws
   */
  loadStateDict(stateDict: Readonly<Record<string, Tensor>>, options: LoadStateDictOptions = {}): LoadStateDictResult {
    const op = `${this.typeName}.loadStateDict`;
    if (typeof stateDict !== 'object' || stateDict === null) {
      throw new InvalidArgumentError(
        `${op}(): expected stateDict to be an object of tensors by name, but got ${formatValue(stateDict)}`,
        'stateDict',
      );
    }
    if (options === null || typeof options !== 'object') {
      throw new InvalidArgumentError(
        `${op}(): expected options to be an object { strict? }, but got ${formatValue(options)}`,
        'options',
      );
    }
    if (options.strict !== undefined && typeof options.strict !== 'boolean') {
      throw new InvalidArgumentError(
        `${op}(): expected options.strict to be a boolean, but got ${formatValue(options.strict)}`,
        'strict',
      );
    }
    const strict = options.strict ?? true;
    const own = this.#stateEntries('');
    const ownNames = new Set(own.map(([name]) => name));
    // Own keys only: a dict read from a file may have a null prototype, or keys such as 'constructor'.
    const has = (name: string): boolean => Object.hasOwn(stateDict, name);
    const missingKeys = own.map(([name]) => name).filter((name) => !has(name));
    const unexpectedKeys = Object.keys(stateDict).filter((name) => !ownNames.has(name));
    const mismatches: string[] = [];
    for (const [name, p] of own) {
      if (!has(name)) continue;
      const value: unknown = stateDict[name];
      if (!isTensor(value)) {
        throw new InvalidArgumentError(
          `${op}(): expected stateDict['${name}'] to be a Tensor, but got ${formatValue(value)}`,
          'stateDict',
        );
      }
      if (value.isDisposed) {
        // Checked before anything is copied: a load either copies every value or none.
        throw new DisposedTensorError(
          `${op}(): expected stateDict['${name}'] to be a live tensor, but it was disposed`,
        );
      }
      if (value.shape.length !== p.shape.length || value.shape.some((size, i) => size !== p.shape[i])) {
        mismatches.push(
          `'${name}' has shape ${formatShape(value.shape)} in the dict but ${formatShape(p.shape)} in the module`,
        );
      }
    }
    const problems: string[] = [];
    if (strict && missingKeys.length > 0) problems.push(`missing keys ${missingKeys.map((k) => `'${k}'`).join(', ')}`);
    if (strict && unexpectedKeys.length > 0)
      problems.push(`unexpected keys ${unexpectedKeys.map((k) => `'${k}'`).join(', ')}`);
    if (mismatches.length > 0) problems.push(`size mismatch: ${mismatches.join('; ')}`);
    if (problems.length > 0) {
      const message =
        `${op}(): expected a state dict matching the module's keys and shapes, but got ${problems.join('; ')}` +
        (strict && mismatches.length === 0 ? ' (pass { strict: false } to load the matching keys only)' : '');
      throw mismatches.length > 0 ? new ShapeMismatchError(message) : new InvalidArgumentError(message, 'stateDict');
    }
    for (const [name, p] of own) {
      const value = has(name) ? stateDict[name] : undefined;
      if (value === undefined || value === p) continue;
      writeValues(p, value);
    }
    return { missingKeys, unexpectedKeys };
  }

  /**
   * Moves every parameter (and its gradient) to a device and/or dtype, as PyTorch's `module.to()`.
   * Returns `this`.
   *
   * Parameters that change are replaced by new tensors (registered under the same names; the old ones are
   * disposed), so create optimizers after moving the module: an optimizer made before holds the old,
   * disposed tensors.
   *
   * @example `conv.to('float64')`, `conv.to({ device: 'cpu', dtype: 'float32' })`
   */
  to(target: ModuleTarget): this {
    const replaced = new Map<Tensor, Tensor>(); // a parameter shared by two modules stays shared
    for (const module of this.modules()) {
      for (const [name, p] of module.#parameters) {
        if (p === null) continue;
        let moved = replaced.get(p);
        if (moved === undefined) {
          moved = p.detach().to(target);
          if (moved.device === p.device && moved.dtype === p.dtype) {
            moved.dispose();
            continue;
          }
          keep(moved);
          moved.requiresGrad = p.requiresGrad;
          if (p.grad !== null) moved.grad = keep(p.grad.detach().to(target));
          replaced.set(p, moved);
        }
        module.#parameters.set(name, moved);
      }
    }
    for (const p of replaced.keys()) p.dispose();
    return this;
  }

  /** Sets training mode on this module and every submodule (`train(false)` is {@link Module.eval}); returns `this`. */
  train(mode = true): this {
    for (const module of this.modules()) module.training = mode;
    return this;
  }

  /** Sets evaluation mode (`train(false)`); returns `this`. */
  eval(): this {
    return this.train(false);
  }

  /**
   * Sets every parameter's `grad` to null and disposes the gradient tensors it drops (PyTorch's
   * `zero_grad(set_to_none=True)`; without the dispose, each training step would leak the gradients that
   * `backward()` kept). Clone a gradient first if you need it afterwards.
   */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      const g = p.grad;
      p.grad = null;
      g?.dispose();
    }
  }

  // #endregion

  // #region repr and JSON

  /** The text inside the parentheses of {@link Module.toString} (PyTorch's `extra_repr`); `''` by default. */
  extraRepr(): string {
    return '';
  }

  /**
   * A summary in PyTorch's repr format, nested modules indented.
   *
   * @example
   * ```ts
   * String(new DeformConv2d(3, 5, 3)); // 'DeformConv2d(3, 5, kernel_size=(3, 3), stride=(1, 1))'
   * ```
   */
  toString(): string {
    const extra = this.extraRepr();
    const extraLines = extra ? extra.split('\n') : [];
    const childLines: string[] = [];
    for (const [name, module] of this.#modules) {
      childLines.push(`(${name}): ${addIndent(module === null ? 'None' : module.toString(), 2)}`);
    }
    const lines = [...extraLines, ...childLines];
    let text = `${this.typeName}(`;
    if (lines.length > 0) {
      text += extraLines.length === 1 && childLines.length === 0 ? extraLines[0] : `\n  ${lines.join('\n  ')}\n`;
    }
    return `${text})`;
  }

  /** What `console.log` and `util.inspect` print: {@link Module.toString}. */
  [INSPECT](): string {
    return this.toString();
  }

  /**
   * The constructor arguments of this module as JSON values, for {@link Module.toJSON}. The built-in
   * modules implement it; for your own, override it and pass a factory to {@link moduleFromJSON}.
   * @throws {@link NotImplementedError} by default
   */
  protected config(): { [key: string]: JsonValue } {
    throw new NotImplementedError(
      `${this.typeName}.toJSON(): expected a module with a JSON form (the built-in layers and activations), ` +
        `but got ${this.typeName}; override its config() and pass a factory to moduleFromJSON(json, { modules })`,
    );
  }

  /**
   * The JSON form of this module, without weights: `{ type, version: 1, config }`. With
   * {@link moduleFromJSON} and {@link Module.stateDict} it describes a model entirely as data.
   *
   * @throws {@link NotImplementedError} for a module without a JSON form (a subclass that does not override
   *   `config()`)
   * @throws {@link InvalidArgumentError} for a layer whose activation is a plain function
   */
  toJSON(): ModuleJSON {
    return { type: this.typeName, version: 1, config: this.config() };
  }

  // #endregion
}
