// SPDX-License-Identifier: MIT
// The served model: a modulated PackedDeformConv2d, its input shape, and where setup writes it (the
// architecture as the module's JSON form in the safetensors metadata, the weights as safetensors).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSafetensors, moduleFromJSON, readSafetensorsMetadata, type Module } from 'tvdcn';

/** Where setup writes the model (examples/http-inference/out/, ignored by git). */
export const MODEL_PATH = join(fileURLToPath(new URL('..', import.meta.url)), 'out', 'model.safetensors');

/** Channels, height and width of one input image; a request body holds N of them (float32, little-endian). */
export const INPUT_CHW = [32, 64, 64] as const;

/** What the server loads: the layer, ready for inference. */
export interface LoadedModel {
  layer: Module;
  /** Channels, height and width of one input image. */
  inputChw: readonly [number, number, number];
}

/** Loads the model that setup wrote: the architecture from the metadata, then the weights. */
export function loadModel(path = MODEL_PATH): LoadedModel {
  const bytes = readFileSync(path);
  const meta = readSafetensorsMetadata(bytes);
  const layer = moduleFromJSON(meta.module);
  const weights = loadSafetensors(bytes);
  layer.loadStateDict(weights);
  for (const t of Object.values(weights)) t.dispose();
  // Inference only: no graph is recorded for the parameters (PyTorch's requires_grad_(False) + eval()).
  for (const p of layer.parameters()) p.requiresGrad = false;
  layer.eval();
  const chw = JSON.parse(meta.inputChw) as [number, number, number];
  return { layer, inputChw: chw };
}
