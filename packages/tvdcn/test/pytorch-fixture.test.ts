// PyTorch fixtures (test/fixtures/*.safetensors, written by scripts/fixtures/make-pytorch-fixtures.py with
// Debian's python3-torch / python3-torchvision): each file is a PyTorch state dict under tvdcn's key names,
// the tensors given to forward and PyTorch's output. Our loadSafetensors reads the file unchanged, our
// module loads the state dict strictly, and its forward reproduces PyTorch's output to 1e-5 (float32).
// How each expected output was computed (torchvision, emulations, the adjoint for the transposed layers):
// scripts/fixtures/README.md and the "tvdcn.fixture" metadata of each file.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type Module,
  type Tensor,
  Conv1d,
  Conv2d,
  Conv3d,
  DeformConv1d,
  DeformConv2d,
  DeformConv3d,
  DeformConvTranspose1d,
  DeformConvTranspose2d,
  DeformConvTranspose3d,
  PackedDeformConv1d,
  PackedDeformConv2d,
  PackedDeformConv3d,
  PackedDeformConvTranspose1d,
  PackedDeformConvTranspose2d,
  PackedDeformConvTranspose3d,
  loadSafetensors,
  loadStateDictFromSafetensors,
  noGrad,
  readSafetensorsMetadata,
} from '../src/index.js';
import { SKIP_REASON, nativeOpsAvailable } from './native.js';

const ready = nativeOpsAvailable();

const FIXTURE_DIR = fileURLToPath(new URL('./fixtures/', import.meta.url));
const FILES = readdirSync(FIXTURE_DIR)
  .filter((f) => f.endsWith('.safetensors'))
  .sort();

/** Tolerance of the comparison with PyTorch: |ours - torch| <= ATOL + RTOL * |torch|, element-wise. */
const ATOL = 1e-5;
const RTOL = 1e-5;

/** The JSON under the "tvdcn.fixture" metadata key. */
interface FixtureInfo {
  name: string;
  module: string;
  args: [number, number, number | number[]];
  options: Record<string, unknown>;
  forward: { offset?: boolean; mask?: boolean; output_size?: number[] };
  state_dict_keys: string[];
  torch: string;
  torchvision: string;
}

type AnyModule = Module & { forward(...args: unknown[]): Tensor };
type Ctor = new (inChannels: number, outChannels: number, kernelSize: number | number[], options?: object) => AnyModule;

const CLASSES: Record<string, Ctor> = Object.fromEntries(
  Object.entries({
    Conv1d,
    Conv2d,
    Conv3d,
    DeformConv1d,
    DeformConv2d,
    DeformConv3d,
    DeformConvTranspose1d,
    DeformConvTranspose2d,
    DeformConvTranspose3d,
    PackedDeformConv1d,
    PackedDeformConv2d,
    PackedDeformConv3d,
    PackedDeformConvTranspose1d,
    PackedDeformConvTranspose2d,
    PackedDeformConvTranspose3d,
  }).map(([name, cls]) => [name, cls as unknown as Ctor]),
);

const DATA_KEYS = ['input', 'offset', 'mask', 'expected_output'];

/**
 * The file's bytes as a plain Uint8Array (a copy of the Node Buffer `readFileSync` returns). The numeric
 * checks below use this form; the Buffer form, as the README shows it, has its own test.
 */
function readBytes(file: string): Uint8Array {
  return new Uint8Array(readFileSync(FIXTURE_DIR + file));
}

function readFixture(file: string): { bytes: Uint8Array; info: FixtureInfo } {
  const bytes = readBytes(file);
  const metadata = readSafetensorsMetadata(bytes);
  expect(metadata.format).toBe('pt');
  expect(metadata['tvdcn.fixture']).toBeTypeOf('string');
  return { bytes, info: JSON.parse(metadata['tvdcn.fixture']) as FixtureInfo };
}

/** Largest |a - b| and largest |a - b| - RTOL |b| (must be <= ATOL), for equal shapes. */
function compare(actual: Tensor, expected: Tensor): { maxAbs: number; worst: number } {
  expect(actual.shape).toEqual(expected.shape);
  const a = actual.toTypedArray();
  const b = expected.toTypedArray();
  let maxAbs = 0;
  let worst = -Infinity;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= maxAbs)) maxAbs = d; // NaN propagates
    worst = Math.max(worst, d - RTOL * Math.abs(b[i]));
  }
  return { maxAbs, worst: Number.isNaN(maxAbs) ? Number.NaN : worst };
}

const report: string[] = [];

describe('PyTorch fixtures: the files', () => {
  it('are there, and small', () => {
    expect(FILES.length).toBeGreaterThanOrEqual(19);
    const total = FILES.reduce((sum, f) => sum + statSync(FIXTURE_DIR + f).size, 0);
    expect(total).toBeLessThan(200 * 1024);
  });

  it.each(FILES)('%s: loadSafetensors reads every tensor as float32, with the keys PyTorch wrote', (file) => {
    const { bytes, info } = readFixture(file);
    const dict = loadSafetensors(bytes);
    const keys = Object.keys(dict);
    expect(keys.filter((k) => !DATA_KEYS.includes(k)).sort()).toEqual([...info.state_dict_keys].sort());
    expect(keys).toContain('input');
    expect(keys).toContain('expected_output');
    for (const t of Object.values(dict)) {
      expect(t.dtype).toBe('float32');
      t.dispose();
    }
  });

  // The README's usage: `loadSafetensors(readFileSync(path))`, i.e. a Node Buffer (a Uint8Array subclass
  // whose slice() shares memory instead of copying). It must read the same tensors as a plain Uint8Array.
  it('loadSafetensors(readFileSync(path)) (a Node Buffer) reads the same tensors as from a Uint8Array', () => {
    for (const file of FILES) {
      const fromCopy = loadSafetensors(readBytes(file));
      let fromBuffer: Record<string, Tensor>;
      try {
        fromBuffer = loadSafetensors(readFileSync(FIXTURE_DIR + file));
      } catch (e) {
        throw new Error(`${file}: loadSafetensors(<Buffer>) threw: ${e instanceof Error ? e.message : String(e)}`);
      }
      expect(Object.keys(fromBuffer), file).toEqual(Object.keys(fromCopy));
      for (const [key, t] of Object.entries(fromCopy)) {
        expect(fromBuffer[key].shape, `${file} ${key}`).toEqual(t.shape);
        expect(Array.from(fromBuffer[key].toTypedArray()), `${file} ${key}`).toEqual(Array.from(t.toTypedArray()));
      }
    }
  });
});

describe.runIf(ready)('PyTorch fixtures: our modules reproduce PyTorch', () => {
  afterAll(() => {
    if (report.length > 0) console.log(`max |ours - PyTorch| per fixture:\n${report.join('\n')}`);
  });

  it.each(FILES)('%s', (file) => {
    const { bytes, info } = readFixture(file);
    const Cls = CLASSES[info.module];
    expect(Cls, `unknown module ${info.module}`).toBeDefined();
    const module = new Cls(info.args[0], info.args[1], info.args[2], info.options);

    // The state dict keys are tvdcn's (= PyTorch's), so the file's state dict loads strictly ...
    expect(Object.keys(module.stateDict()).sort()).toEqual([...info.state_dict_keys].sort());
    const dict = loadSafetensors(bytes);
    const state = Object.fromEntries(info.state_dict_keys.map((k) => [k, dict[k]]));
    expect(module.loadStateDict(state)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    for (const [key, value] of Object.entries(module.stateDict())) {
      expect(Array.from(value.toTypedArray()), key).toEqual(Array.from(state[key].toTypedArray()));
    }
    // ... and the whole file through loadStateDictFromSafetensors, where only the data tensors are extra.
    const again = new Cls(info.args[0], info.args[1], info.args[2], info.options);
    const result = loadStateDictFromSafetensors(again, bytes, { strict: false });
    expect(result.missingKeys).toEqual([]);
    expect([...result.unexpectedKeys].sort()).toEqual(
      Object.keys(dict)
        .filter((k) => DATA_KEYS.includes(k))
        .sort(),
    );

    const output = noGrad(() => {
      if (info.module.startsWith('Packed')) {
        return info.forward.output_size === undefined
          ? module.forward(dict.input)
          : module.forward(dict.input, info.forward.output_size);
      }
      const offset = info.forward.offset ? dict.offset : null;
      const mask = info.forward.mask ? dict.mask : null;
      if (offset !== null) expect(offset).toBeDefined();
      if (mask !== null) expect(mask).toBeDefined();
      return info.forward.output_size === undefined
        ? module.forward(dict.input, offset, mask)
        : module.forward(dict.input, offset, mask, info.forward.output_size);
    });
    expect(output.dtype).toBe('float32');
    const { maxAbs, worst } = compare(output, dict.expected_output);
    report.push(
      `  ${info.name.padEnd(32)} ${maxAbs.toExponential(2)}  (${info.module}, torch ${info.torch}, torchvision ${info.torchvision})`,
    );
    expect(worst, `${file}: max |ours - PyTorch| = ${maxAbs}`).toBeLessThanOrEqual(ATOL);
    for (const t of Object.values(dict)) t.dispose();
    output.dispose();
  });
});

describe.runIf(!ready)('PyTorch fixtures: our modules reproduce PyTorch', () => {
  it.skip(SKIP_REASON, () => {});
});
