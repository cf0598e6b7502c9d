import { tensor } from '@tvdcn/ops';
import { InvalidArgumentError, NotImplementedError } from '@tvdcn/shape';
import { describe, expect, it } from 'vitest';
import { loadSafetensors, readSafetensorsMetadata, saveSafetensors } from './safetensors.js';

/** Assembles a safetensors file from a header (object or raw text) and a data buffer. */
function build(header: unknown, data: Uint8Array = new Uint8Array(0), headerLength?: bigint): Uint8Array {
  const text = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(text.length), true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

describe('saveSafetensors / loadSafetensors', () => {
  it('writes the layout of safetensors.torch.save_file, byte for byte', () => {
    // What Python writes for save_file({'weight': torch.tensor([[1., 2.]]), 'bias': torch.tensor([3.])},
    // path, metadata={'format': 'pt'}): header sorted by dtype then name, padded with spaces to 8 bytes.
    const header =
      '{"__metadata__":{"format":"pt"},"bias":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},' +
      '"weight":{"dtype":"F32","shape":[1,2],"data_offsets":[4,12]}}';
    const padded = header + ' '.repeat((8 - (header.length % 8)) % 8);
    const expected = build(padded, f32Bytes([3, 1, 2]));
    const bytes = saveSafetensors({ weight: tensor([[1, 2]]), bias: tensor([3]) }, { format: 'pt' });
    expect(Buffer.from(bytes).equals(Buffer.from(expected))).toBe(true);
    expect((8 + padded.length) % 8).toBe(0);
  });

  it.each([
    ['F32', 'float32', [1.5, -2.25, 3e-8, 65504], undefined],
    ['F64', 'float64', [1.5, -2.25, Math.PI, 1e-300], undefined],
    ['F16', 'float32', [1.5, -2.25, 0.0999755859375, 65504], 'F16'],
    ['BF16', 'float32', [1.5, -2.25, 3.140625, -0], 'BF16'],
  ] as const)('round-trips %s', (stored, loadedDType, values, option) => {
    const source = tensor(values, { shape: [2, 2], dtype: stored === 'F64' ? 'float64' : 'float32' });
    const bytes = saveSafetensors({ t: source }, null, option ? { dtype: option } : {});
    const header = JSON.parse(
      new TextDecoder().decode(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true)))),
    );
    expect(header.t.dtype).toBe(stored);
    const loaded = loadSafetensors(bytes).t;
    expect(loaded.dtype).toBe(loadedDType);
    expect(loaded.shape).toEqual([2, 2]);
    expect(Array.from(loaded.toTypedArray())).toEqual(Array.from(source.toTypedArray()));
  });

  it('rounds to the half types when asked, per tensor name', () => {
    const bytes = saveSafetensors({ a: tensor([1 / 3]), b: tensor([1 / 3]) }, null, { dtype: { a: 'F16' } });
    const loaded = loadSafetensors(bytes);
    expect(loaded.a.item()).toBe(0.333251953125);
    expect(loaded.b.item()).toBe(Math.fround(1 / 3));
  });

  it('keeps metadata, empty tensors and scalars', () => {
    const bytes = saveSafetensors({ empty: tensor([], { shape: [0, 3] }), scalar: tensor(7) }, { note: 'hi' });
    expect(readSafetensorsMetadata(bytes)).toEqual({ note: 'hi' });
    const loaded = loadSafetensors(bytes);
    expect(loaded.empty.shape).toEqual([0, 3]);
    expect(loaded.scalar.shape).toEqual([]);
    expect(loaded.scalar.item()).toBe(7);
  });

  it('reads tensors at unaligned offsets', () => {
    const data = new Uint8Array([1, 0, ...f32Bytes([2.5])]);
    const bytes = build(
      { h: { dtype: 'F16', shape: [1], data_offsets: [0, 2] }, f: { dtype: 'F32', shape: [1], data_offsets: [2, 6] } },
      data,
    );
    const loaded = loadSafetensors(bytes);
    expect(loaded.h.item()).toBe(2 ** -24);
    expect(loaded.f.item()).toBe(2.5);
  });

  it('refuses bad arguments when saving', () => {
    expect(() => saveSafetensors({ __metadata__: tensor([1]) })).toThrow(/names other than '' and '__metadata__'/);
    expect(() => saveSafetensors({ a: [1, 2] as never })).toThrow(/tensors\['a'\] to be a Tensor/);
    expect(() => saveSafetensors({ a: tensor([1]) }, { n: 1 as never })).toThrow(/metadata values to be strings/);
    expect(() => saveSafetensors({ a: tensor([1]) }, null, { dtype: 'I8' as never })).toThrow(/dtype to be 'F32'/);
  });
});

describe('loadSafetensors on corrupt or truncated files', () => {
  const ok = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  const data = f32Bytes([1, 2]);
  const valid = build(ok, data);

  it('loads the valid file the cases below are made from', () => {
    expect(Array.from(loadSafetensors(valid).a.toTypedArray())).toEqual([1, 2]);
  });

  it.each<[string, Uint8Array, RegExp]>([
    ['fewer than 8 bytes', new Uint8Array([1, 2, 3]), /3 bytes, fewer than the 8/],
    ['an empty file', new Uint8Array(0), /0 bytes, fewer than the 8/],
    [
      'a header length beyond the file',
      build(ok, data, 10_000n),
      /header length is 10000 bytes, more than the \d+ bytes after it/,
    ],
    ['a huge header length', build(ok, data, 2n ** 63n), /header length is \d+ bytes, more than/],
    ['a truncated data buffer', valid.subarray(0, valid.length - 3), /ends at byte 8 of a data buffer of 5 bytes/],
    ['a header cut inside the JSON', build('{"a": {"dtype"', new Uint8Array(0)), /not valid JSON/],
    ['a header that is not JSON', build('{nonsense}', data), /not valid JSON/],
    ['a header that is an array', build('[1, 2]', data), /does not start with '\{'/],
    ['a header with leading spaces', build('  {}'), /does not start with '\{'/],
    [
      'a header that is not UTF-8',
      build(new TextDecoder('latin1').decode(new Uint8Array([0x7b, 0xff, 0x7d])), data),
      /JSON|UTF-8/,
    ],
    ['an entry that is not an object', build({ a: 5 }, data), /header entry of tensor 'a' is 5/],
    ['an unknown dtype', build({ a: { dtype: 'F99', shape: [2], data_offsets: [0, 8] } }, data), /unknown dtype 'F99'/],
    ['a missing dtype', build({ a: { shape: [2], data_offsets: [0, 8] } }, data), /unknown dtype undefined/],
    ['a negative shape', build({ a: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, data), /shape \[-2\]/],
    [
      'a fractional shape',
      build({ a: { dtype: 'F32', shape: [1.5], data_offsets: [0, 8] } }, data),
      /not an array of non-negative integers/,
    ],
    [
      'reversed offsets',
      build({ a: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, data),
      /data_offsets \[8, 0\]/,
    ],
    ['three offsets', build({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 4, 8] } }, data), /not \[begin, end\]/],
    [
      'offsets past the end',
      build({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, data),
      /ends at byte 16 of a data buffer of 8 bytes/,
    ],
    [
      'a byte count other than numel * size',
      build({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, data),
      /has 8 bytes, but numel \* 4 = 12/,
    ],
    [
      'overlapping tensors',
      build(
        {
          a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
          b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
        },
        data,
      ),
      /overlaps the tensor before it/,
    ],
    [
      'a gap before a tensor',
      build({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, data),
      /gap of 4 bytes before tensor 'a'/,
    ],
    [
      'bytes after the last tensor',
      build(ok, new Uint8Array([...data, 0, 0])),
      /cover 8 bytes of the data buffer, but it has 10/,
    ],
    [
      'metadata that is not strings',
      build({ __metadata__: { n: 1 }, ...ok }, data),
      /"__metadata__"."n" is 1 \(number\), not a string/,
    ],
    ['metadata that is not an object', build({ __metadata__: 'x', ...ok }, data), /"__metadata__" is not an object/],
  ])('%s', (_, bytes, message) => {
    let error: unknown;
    try {
      loadSafetensors(bytes);
    } catch (e) {
      error = e;
    }
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/^loadSafetensors\(\): expected a valid safetensors file, but /);
    expect((error as Error).message).toMatch(message);
  });

  it('names a valid dtype it cannot load', () => {
    const bytes = build({ n: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8));
    expect(() => loadSafetensors(bytes)).toThrow(NotImplementedError);
    expect(() => loadSafetensors(bytes)).toThrow(/tensor 'n' has dtype I64/);
  });

  it('refuses what is not bytes', () => {
    expect(() => loadSafetensors('file.safetensors' as never)).toThrow(/expected bytes to be a Uint8Array/);
  });
});

describe('loadSafetensors on random damage', () => {
  it('either loads or throws a DcnError, never anything else (1000 damaged files)', async () => {
    const { DcnError } = await import('@tvdcn/shape');
    const valid = saveSafetensors(
      { a: tensor([1, 2, 3], { dtype: 'float64' }), b: tensor([[4, 5]]), c: tensor([6]) },
      { format: 'pt' },
      { dtype: { c: 'F16' } },
    );
    let seed = 1;
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    let loaded = 0;
    for (let trial = 0; trial < 1000; trial++) {
      const bytes = valid.slice(0, trial % 3 === 0 ? Math.floor(random() * valid.length) : valid.length);
      for (let flips = 1 + Math.floor(random() * 3); flips > 0 && bytes.length > 0; flips--) {
        bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      }
      try {
        loadSafetensors(bytes);
        loaded++;
      } catch (e) {
        if (!DcnError.isInstance(e)) throw e;
      }
    }
    expect(loaded).toBeGreaterThan(0); // flips inside the data only change values
  });
});
