// SPDX-License-Identifier: MIT
// Issue 9 regression tests (findings 2, 4 and 5): untrusted safetensors files and module JSON, state-dict
// argument checks, and zeroGrad disposing the gradients it drops.

import { DcnError, InvalidArgumentError, isTensor, memory, sum, type Tensor, tensor, tidy, zeros } from '@tvdcn/ops';
import { describe, expect, it } from 'vitest';
import {
  Adam,
  DEFAULT_MAX_MODULE_ELEMENTS,
  DeformConv2d,
  loadModule,
  loadSafetensors,
  loadStateDictFromSafetensors,
  moduleFromJSON,
  PackedDeformConv2d,
  readSafetensorsMetadata,
  saveModule,
  saveSafetensors,
} from '../src/index.js';

/** Runs `fn`, expects an InvalidArgumentError, and returns it. */
function invalid(fn: () => unknown): InvalidArgumentError {
  let caught: unknown = null;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(InvalidArgumentError.isInstance(caught), String(caught)).toBe(true);
  expect((caught as DcnError).code).toBe('ERR_DCN_INVALID_ARGUMENT');
  return caught as InvalidArgumentError;
}

/** A safetensors file with this header (given as JSON text) and `data` bytes after it. */
function file(header: string, data = 0): Uint8Array {
  const text = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + text.length + data);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  return out;
}

describe('safetensors names from the file are plain keys', () => {
  it('a tensor named "__proto__" is a key of the dict, not its prototype', () => {
    const dict = loadSafetensors(file('{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', 4));
    expect(Object.keys(dict)).toEqual(['__proto__']);
    expect(isTensor(dict)).toBe(false);
    expect(Object.getPrototypeOf(dict)).toBe(null);
    expect(isTensor(Reflect.get(dict, '__proto__'))).toBe(true);
    expect(({} as Record<string, unknown>).dtype).toBeUndefined(); // no prototype changed
  });
  it('saving a "__proto__" tensor and loading it back round-trips', () => {
    const src = Object.defineProperty({}, '__proto__', { value: tensor([1, 2]), enumerable: true });
    const back = loadSafetensors(saveSafetensors(src));
    expect(Array.from((Reflect.get(back, '__proto__') as Tensor).toTypedArray())).toEqual([1, 2]);
  });
  it('dtypes named after Object.prototype members are unknown dtypes', () => {
    for (const dtype of ['constructor', 'toString', '__proto__']) {
      invalid(() => loadSafetensors(file(`{"a":{"dtype":"${dtype}","shape":[1],"data_offsets":[0,4]}}`, 4)));
    }
  });
  it('metadata keys are plain keys too', () => {
    const meta = readSafetensorsMetadata(file('{"__metadata__":{"__proto__":"x"}}'));
    expect(Object.keys(meta)).toEqual(['__proto__']);
  });
  it('declared sizes beyond the bytes present are rejected before allocating', () => {
    invalid(() => loadSafetensors(file('{"a":{"dtype":"F32","shape":[1000000000,1000000],"data_offsets":[0,4]}}', 4)));
    invalid(() => loadSafetensors(file('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4000000000]}}', 4)));
  });
});

describe('moduleFromJSON with hostile JSON', () => {
  it.each(['__proto__', 'valueOf', 'hasOwnProperty', 'constructor', 'toString'])(
    'type %s is an unknown type',
    (type) => {
      invalid(() => moduleFromJSON({ type, version: 1, config: {} }));
      invalid(() => moduleFromJSON({ type, version: 1, config: {} }, { modules: {} }));
    },
  );
  it('100k nested modules are rejected (no stack overflow)', () => {
    let text = '{"type":"Sigmoid","version":1,"config":{}}';
    for (let i = 0; i < 100_000; i++) {
      text = `{"type":"DeformConv2d","version":1,"config":{"inChannels":1,"outChannels":1,"kernelSize":1,"offsetActivation":${text}}}`;
    }
    expect(invalid(() => moduleFromJSON(text)).message).toMatch(/nested at most 32 deep/);
  });
  it('a small file declaring a huge layer fails fast on the element budget', () => {
    const json = JSON.stringify({
      type: 'PackedDeformConv2d',
      version: 1,
      config: { inChannels: 1048576, outChannels: 4, kernelSize: 3 },
    });
    const bytes = saveSafetensors({}, { 'tvdcn.module': json });
    expect(bytes.length).toBeLessThan(200);
    const before = memory().bytes;
    const t0 = Date.now();
    const e = invalid(() => loadModule(bytes));
    expect(e.argument).toBe('maxElements');
    expect(Date.now() - t0).toBeLessThan(5000); // was 25 s and 4.2 GB
    expect(memory().bytes).toBe(before);
    expect(DEFAULT_MAX_MODULE_ELEMENTS).toBe(2 ** 26);
    invalid(() => moduleFromJSON(json, { maxElements: 1000 }));
    invalid(() => moduleFromJSON(json, { maxElements: Number.NaN }));
  });
  it('a budget large enough lets the layer through; the default admits ordinary models', () => {
    const conv = new PackedDeformConv2d(4, 6, 3);
    const json = JSON.stringify(conv);
    expect(moduleFromJSON(json, { maxElements: 10_000 })).toBeInstanceOf(PackedDeformConv2d);
    expect(() => moduleFromJSON(json, { maxElements: 100 })).toThrow(/maxElements/);
    const back = loadModule(saveModule(conv));
    expect(back).toBeInstanceOf(PackedDeformConv2d);
  });
  it('options must be an object', () => {
    invalid(() => moduleFromJSON({ type: 'Sigmoid', version: 1, config: {} }, null as never));
  });
});

describe('loadStateDict argument checks', () => {
  const conv = new DeformConv2d(2, 2, 3);
  it('null options is an InvalidArgumentError naming options', () => {
    expect(invalid(() => conv.loadStateDict(conv.stateDict(), null as never)).argument).toBe('options');
    expect(invalid(() => conv.loadStateDict(conv.stateDict(), { strict: 'yes' as never })).argument).toBe('strict');
  });
  it('keys are own properties only', () => {
    const dict = Object.create({ weight: zeros([2, 2, 3, 3]), bias: zeros([2]) }) as Record<string, never>;
    invalid(() => conv.loadStateDict(dict));
  });
  it('a tensor whose buffer was detached is a typed error', () => {
    const data = new Float32Array(2 * 2 * 3 * 3);
    const sd = { weight: tensor(data, { shape: [2, 2, 3, 3], copy: false }), bias: zeros([2]) };
    structuredClone(data.buffer, { transfer: [data.buffer] });
    let caught: unknown = null;
    try {
      conv.loadStateDict(sd);
    } catch (e) {
      caught = e;
    }
    expect(DcnError.isInstance(caught), String(caught)).toBe(true);
    expect((caught as DcnError).code).toBe('ERR_DCN_DISPOSED');
  });
  it('loadStateDictFromSafetensors of a file with a "__proto__" tensor reports it as unexpected', () => {
    const bytes = saveSafetensors({
      ...conv.stateDict(),
      ...Object.defineProperty({}, '__proto__', { value: zeros([1]), enumerable: true }),
    });
    expect(invalid(() => loadStateDictFromSafetensors(conv, bytes)).message).toMatch(/unexpected keys '__proto__'/);
  });
});

describe('zeroGrad disposes the gradients it drops (finding 5)', () => {
  it('an Adam loop inside tidy keeps a constant number of live tensors', () => {
    const p = tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
    const opt = new Adam([p], { lr: 0.01 });
    const step = (): void => {
      opt.zeroGrad();
      tidy(() => sum(p.mul(p)).backward());
      opt.step();
    };
    for (let i = 0; i < 3; i++) step();
    const before = memory().tensors;
    for (let i = 0; i < 100; i++) step();
    expect(memory().tensors).toBe(before);
  });
  it('Module.zeroGrad disposes too', () => {
    const conv = new DeformConv2d(1, 1, 1);
    for (const q of conv.parameters()) q.grad = zeros(q.shape);
    const grads = conv.parameters().map((q) => q.grad!);
    conv.zeroGrad();
    for (const g of grads) expect(g.isDisposed).toBe(true);
    for (const q of conv.parameters()) expect(q.grad).toBe(null);
  });
});
