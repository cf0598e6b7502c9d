// SPDX-License-Identifier: MIT
// A module's weights as a safetensors file with the same keys as tvdcn's (and torchvision's) state dicts,
// and a whole model (architecture JSON + weights) in one such file. Bytes in, bytes out.

import { InvalidArgumentError } from '@tvdcn/shape';
import type { LoadStateDictOptions, LoadStateDictResult, Module } from '../nn/module.js';
import { type ModuleFromJSONOptions, moduleFromJSON } from '../nn/serialization.js';
import {
  loadSafetensors,
  readSafetensorsMetadata,
  type SaveSafetensorsOptions,
  saveSafetensors,
} from './safetensors.js';

/** The `__metadata__` key under which {@link saveModule} stores the module's JSON form. */
export const MODULE_METADATA_KEY = 'tvdcn.module';

/**
 * A module's state dict as a safetensors file, with `format: 'pt'` in its metadata (as
 * `safetensors.torch.save_file` writes), loadable in PyTorch with
 * `module.load_state_dict(safetensors.torch.load_file(path))`.
 *
 * @param module - any module
 * @param metadata - more metadata strings
 * @param options - `dtype`: store in another dtype (e.g. `'F16'`)
 * @example
 * ```ts
 * writeFileSync('dcn.safetensors', stateDictToSafetensors(conv));
 * ```
 */
export function stateDictToSafetensors(
  module: Module,
  metadata: Readonly<Record<string, string>> = {},
  options?: SaveSafetensorsOptions,
): Uint8Array {
  return saveSafetensors(module.stateDict(), { format: 'pt', ...metadata }, options);
}

/**
 * Loads a safetensors state dict (e.g. saved from PyTorch with
 * `safetensors.torch.save_file(module.state_dict(), path)`) into `module`, with
 * {@link Module.loadStateDict}'s rules; the tensors read from the file are disposed afterwards.
 *
 * @throws {@link InvalidArgumentError} for a malformed file, or (strict) missing / unexpected keys
 * @throws {@link ShapeMismatchError} for a tensor whose shape differs from its parameter's
 */
export function loadStateDictFromSafetensors(
  module: Module,
  bytes: Uint8Array,
  options?: LoadStateDictOptions,
): LoadStateDictResult {
  const dict = loadSafetensors(bytes);
  try {
    return module.loadStateDict(dict, options);
  } finally {
    for (const t of Object.values(dict)) t.dispose();
  }
}

/**
 * A whole model in one safetensors file: the weights, and the module's JSON form in the metadata under
 * `'tvdcn.module'` (PyTorch reads the file as a plain state dict). {@link loadModule} rebuilds it.
 *
 * @throws {@link NotImplementedError} / {@link InvalidArgumentError} as {@link Module.toJSON} (a module
 *   without a JSON form, or with a function as activation)
 */
export function saveModule(module: Module, options?: SaveSafetensorsOptions): Uint8Array {
  return stateDictToSafetensors(module, { [MODULE_METADATA_KEY]: JSON.stringify(module.toJSON()) }, options);
}

/**
 * Rebuilds a module saved by {@link saveModule}: {@link moduleFromJSON} on the stored JSON, then its
 * weights (strict). The result gives the same outputs as the saved module.
 *
 * @param bytes - the file
 * @param options - `device`, `dtype`, factories of your own module classes and `maxElements` (default 2^26,
 *   the most parameter elements the file may declare), as {@link moduleFromJSON}
 * @throws {@link InvalidArgumentError} for a file without `'tvdcn.module'` metadata, or as
 *   {@link moduleFromJSON} and {@link loadStateDictFromSafetensors}
 */
export function loadModule(bytes: Uint8Array, options?: ModuleFromJSONOptions): Module {
  const json = readSafetensorsMetadata(bytes)[MODULE_METADATA_KEY];
  if (json === undefined) {
    throw new InvalidArgumentError(
      `loadModule(): expected a file written by saveModule() (with '${MODULE_METADATA_KEY}' metadata), but got a ` +
        'plain state dict: build the module yourself and call loadStateDictFromSafetensors(module, bytes)',
      'bytes',
    );
  }
  const module = moduleFromJSON(json, options);
  loadStateDictFromSafetensors(module, bytes);
  return module;
}
