// SPDX-License-Identifier: MIT
// Writes the served model: a seeded PackedDeformConv2d, saved with the library's saveSafetensors (its
// JSON form and the input shape in the metadata). `--if-missing` keeps an existing file.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { manualSeed, PackedDeformConv2d, saveSafetensors } from 'tvdcn';
import { INPUT_CHW, MODEL_PATH } from './model.js';

if (process.argv.includes('--if-missing') && existsSync(MODEL_PATH)) process.exit(0);

manualSeed(0);
const [channels] = INPUT_CHW;
const layer = new PackedDeformConv2d(channels, channels, 3, { padding: 1, modulated: true, generatorBias: true });
const bytes = saveSafetensors(layer.stateDict(), {
  module: JSON.stringify(layer.toJSON()),
  inputChw: JSON.stringify(INPUT_CHW),
});
mkdirSync(dirname(MODEL_PATH), { recursive: true });
writeFileSync(MODEL_PATH, bytes);
console.log(`wrote ${MODEL_PATH} (${layer.toString()}, ${bytes.byteLength} bytes)`);
