// SPDX-License-Identifier: MIT
// The file/JSON fuzzer (issue 9): seeded, mutated safetensors files, module JSON and state dicts fed to
// loadSafetensors / readSafetensorsMetadata, moduleFromJSON / loadModule and Module.loadStateDict.
// Properties: every rejection is a DcnError subclass with its class's code; nothing invalid is accepted
// (safetensors: an independent validator of the format written from its specification; module JSON: the
// mutations that break a documented rule; state dicts: loadStateDict's documented rules); what is accepted
// is right (the tensors hold the file's bytes, a module round-trips through toJSON and stays within
// maxElements, a state dict's values are copied, and a rejected one changes nothing); and no built-in
// prototype changes. Crashes and hangs are caught by run.mjs.
//
// Usage: node --import tsx fuzz/files-fuzz.ts --seed 1 --from 0 --to 1000

import * as T from '../packages/tvdcn/dist/index.cjs';
import { args, Rng, show, Tally } from './lib.js';

type Tensor = T.Tensor;

// ---------------------------------------------------------------- prototypes

const PROTOS: readonly [string, object][] = [
  ['Object', Object.prototype],
  ['Array', Array.prototype],
  ['Function', Function.prototype],
  ['String', String.prototype],
  ['Number', Number.prototype],
  ['Map', Map.prototype],
  ['Float32Array', Float32Array.prototype],
  ['Uint8Array', Uint8Array.prototype],
];

/** Own keys and prototype of each built-in prototype object. */
function prototypeSnapshot(): string {
  return PROTOS.map(
    ([name, p]) => `${name}:${Reflect.ownKeys(p).map(String).join(',')}:${String(Object.getPrototypeOf(p) === null)}`,
  ).join('|');
}

// ---------------------------------------------------------------- safetensors (independent validator)

const SIZES: Record<string, number> = {
  F32: 4,
  F64: 8,
  F16: 2,
  BF16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
  I16: 2,
  U16: 2,
  I32: 4,
  U32: 4,
  I64: 8,
  U64: 8,
};
const ALL_KNOWN = new Set([...Object.keys(SIZES), 'F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'F4', 'F6_E2M3', 'F6_E3M2', 'C64']);
const KNOWN_SIZE: Record<string, number> = {
  F8_E5M2: 1,
  F8_E4M3: 1,
  F8_E8M0: 1,
  F4: 1,
  F6_E2M3: 1,
  F6_E3M2: 1,
  C64: 8,
  ...SIZES,
};
const SUPPORTED = new Set(['F32', 'F64', 'F16', 'BF16']);

interface Entry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}
type Verdict =
  | { ok: true; entries: Entry[]; metadata: [string, string][]; dataStart: number }
  | { ok: false; why: string };

const isNNSafe = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** The safetensors rules: 8-byte little-endian header length N <= 10^8 within the file; N bytes of UTF-8
 * JSON object text starting with '{'; entries {dtype, shape, data_offsets} of known dtypes (F32, F64, F16,
 * BF16 supported) whose byte counts equal numel * size, tiling the data buffer exactly; `__metadata__` an
 * object of strings. */
function validate(bytes: Uint8Array): Verdict {
  if (bytes.length < 8) return { ok: false, why: 'short' };
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8) || n > 100_000_000n) return { ok: false, why: 'header length' };
  const dataStart = 8 + Number(n);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart));
  } catch {
    return { ok: false, why: 'utf-8' };
  }
  if (text[0] !== '{') return { ok: false, why: 'not {' };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, why: 'json' };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { ok: false, why: 'not object' };
  const dataLength = bytes.length - dataStart;
  const entries: Entry[] = [];
  const metadata: [string, string][] = [];
  for (const name of Object.keys(json)) {
    const value = (json as Record<string, unknown>)[name];
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, why: 'metadata' };
      for (const k of Object.keys(value)) {
        const v = (value as Record<string, unknown>)[k];
        if (typeof v !== 'string') return { ok: false, why: 'metadata value' };
        metadata.push([k, v]);
      }
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, why: 'entry' };
    const get = (k: string): unknown => (Object.hasOwn(value, k) ? (value as Record<string, unknown>)[k] : undefined);
    const dtype = get('dtype');
    const shape = get('shape');
    const offsets = get('data_offsets');
    if (typeof dtype !== 'string' || !ALL_KNOWN.has(dtype)) return { ok: false, why: 'dtype' };
    if (!Array.isArray(shape) || !Array.from({ length: shape.length }, (_, i) => shape[i]).every(isNNSafe))
      return { ok: false, why: 'shape' };
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !isNNSafe(offsets[0]) ||
      !isNNSafe(offsets[1]) ||
      offsets[0] > offsets[1]
    )
      return { ok: false, why: 'offsets' };
    if (offsets[1] > dataLength) return { ok: false, why: 'beyond data' };
    let numel = 1;
    for (const s of shape as number[]) numel *= s;
    if (offsets[1] - offsets[0] !== numel * (KNOWN_SIZE[dtype] as number)) return { ok: false, why: 'byte count' };
    if (!SUPPORTED.has(dtype)) return { ok: false, why: 'unsupported dtype' };
    entries.push({ name, dtype, shape: shape as number[], begin: offsets[0], end: offsets[1] });
  }
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  for (const e of sorted) {
    if (e.begin !== pos) return { ok: false, why: 'tiling' };
    pos = e.end;
  }
  if (pos !== dataLength) return { ok: false, why: 'trailing' };
  return { ok: true, entries, metadata, dataStart };
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

function decodeValue(view: DataView, dtype: string, i: number): number {
  if (dtype === 'F32') return view.getFloat32(4 * i, true);
  if (dtype === 'F64') return view.getFloat64(8 * i, true);
  const bits = view.getUint16(2 * i, true);
  if (dtype === 'F16') return halfToFloat(bits);
  const b = new DataView(new ArrayBuffer(4));
  b.setUint32(0, bits << 16);
  return b.getFloat32(0);
}

const NAMES = [
  'weight',
  'bias',
  'a.b',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '',
  'é',
  'x'.repeat(40),
  'offset_generator.weight',
];
const HOSTILE_JSON: readonly unknown[] = [
  -1,
  1.5,
  2 ** 53,
  '2',
  null,
  true,
  [],
  [1],
  [[1]],
  {},
  1e300,
  [1e9, 1e9],
  [-1, 2],
  [2 ** 60],
  'F32',
  '__proto__',
  'constructor',
  'I8',
  'BOOL',
  'f32',
  [0],
  [0, 2 ** 60],
  [3, 1],
];

/** A safetensors file built by hand (so that every part can be mutated), then mutated. */
function safetensorsCase(rng: Rng): Uint8Array {
  const header: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  const chunks: Uint8Array[] = [];
  let position = 0;
  for (let t = rng.int(0, 4); t > 0; t--) {
    const dtype = rng.pick(['F32', 'F64', 'F16', 'BF16', 'F32', 'I8']);
    const shape = Array.from({ length: rng.int(0, 3) }, () => rng.int(0, 3));
    const bytes = shape.reduce((a, b) => a * b, 1) * (SIZES[dtype] as number);
    const data = new Uint8Array(bytes);
    for (let i = 0; i < bytes; i++) data[i] = rng.int(0, 255);
    header[rng.pick(NAMES) + (rng.chance(0.5) ? String(t) : '')] = {
      dtype,
      shape,
      data_offsets: [position, position + bytes],
    };
    chunks.push(data);
    position += bytes;
  }
  if (rng.chance(0.4)) header.__metadata__ = { format: 'pt', [rng.pick(NAMES)]: 'v' };
  // JSON-level mutations.
  for (let m = rng.pick([0, 0, 1, 2]); m > 0; m--) {
    const keys = Object.keys(header);
    const key = keys.length ? rng.pick(keys) : '__metadata__';
    const entry = header[key];
    if (entry && typeof entry === 'object' && rng.chance(0.8)) {
      const field = rng.pick(['dtype', 'shape', 'data_offsets', 'extra', 'dtype']);
      (entry as Record<string, unknown>)[field] = structuredClone(rng.pick(HOSTILE_JSON));
    } else header[key] = structuredClone(rng.pick(HOSTILE_JSON));
  }
  let text = JSON.stringify(header);
  if (rng.chance(0.1))
    text = text
      .replace('{', `{"__proto__":${JSON.stringify({ dtype: 'F32', shape: [0], data_offsets: [0, 0] })},`)
      .replace(',}', '}');
  if (rng.chance(0.05)) text = ` ${text}`;
  if (rng.chance(0.05)) text = text.replace('{', '{"a":1,"a":');
  const textBytes = new TextEncoder().encode(text);
  const padded = rng.chance(0.8) ? Math.ceil(textBytes.length / 8) * 8 : textBytes.length;
  const out = new Uint8Array(8 + padded + position);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.fill(0x20, 8, 8 + padded);
  out.set(textBytes, 8);
  let o = 8 + padded;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  // Byte-level mutations.
  let bytes = out;
  for (let m = rng.pick([0, 0, 0, 1, 2]); m > 0; m--) {
    const r = rng.int(0, 5);
    if (r === 0 && bytes.length > 0) bytes[rng.int(0, bytes.length - 1)] ^= 1 << rng.int(0, 7);
    else if (r === 1) bytes = bytes.slice(0, rng.int(0, bytes.length));
    else if (r === 2)
      bytes = Uint8Array.from([...bytes, ...Array.from({ length: rng.int(1, 9) }, () => rng.int(0, 255))]);
    else if (r === 3 && bytes.length >= 8)
      new DataView(bytes.buffer, bytes.byteOffset).setBigUint64(
        0,
        BigInt(rng.pick([0, 1, 7, 2 ** 40, 100_000_001, bytes.length])),
        true,
      );
    else if (r === 4 && bytes.length > 8)
      bytes[rng.int(8, Math.min(bytes.length - 1, 8 + padded))] = rng.pick([0x22, 0x7b, 0x7d, 0x00, 0xff, 0x5c]);
    else if (bytes.length >= 8) new DataView(bytes.buffer, bytes.byteOffset).setUint32(4, rng.int(1, 0xffffffff), true);
  }
  return bytes;
}

function runSafetensors(rng: Rng, tally: Tally, index: number): void {
  const bytes = safetensorsCase(rng);
  const verdict = validate(bytes);
  const describe = (): string =>
    `#${index} safetensors ${bytes.length} bytes, header ${show(new TextDecoder().decode(bytes.subarray(8, Math.min(bytes.length, 400))))} (validator: ${verdict.ok ? 'valid' : verdict.why})`;
  // loadSafetensors
  let dict: Record<string, Tensor> | null = null;
  let error: unknown;
  let threw = false;
  try {
    dict = T.loadSafetensors(bytes);
  } catch (e) {
    threw = true;
    error = e;
  }
  tally.outcome(verdict.ok, error, threw, describe);
  if (dict && verdict.ok) {
    const names = Object.keys(dict).sort();
    const expected = verdict.entries.map((e) => e.name).sort();
    if (names.join('\0') !== expected.join('\0') || Object.getPrototypeOf(dict) !== null) {
      tally.fail('mismatches', `${describe()}: names ${show(names)}`);
    } else {
      for (const e of verdict.entries) {
        const t = dict[e.name] as Tensor;
        const view = new DataView(bytes.buffer, bytes.byteOffset + verdict.dataStart + e.begin, e.end - e.begin);
        const got = t.toTypedArray();
        const sameShape = t.shape.length === e.shape.length && t.shape.every((v, i) => v === e.shape[i]);
        let same = sameShape && got.length === e.shape.reduce((a, b) => a * b, 1);
        for (let i = 0; same && i < got.length; i++) {
          const want = decodeValue(view, e.dtype, i);
          same = Object.is(got[i], want) || (Number.isNaN(got[i]) && Number.isNaN(want));
        }
        if (!same) {
          tally.fail('mismatches', `${describe()}: tensor '${e.name}' differs from the file`);
          break;
        }
      }
    }
    for (const t of Object.values(dict)) t.dispose();
  }
  // readSafetensorsMetadata
  let meta: Record<string, string> | null = null;
  threw = false;
  error = undefined;
  try {
    meta = T.readSafetensorsMetadata(bytes);
  } catch (e) {
    threw = true;
    error = e;
  }
  tally.outcome(verdict.ok, error, threw, describe);
  if (meta && verdict.ok) {
    const got = Object.keys(meta).map((k) => [k, meta?.[k]]);
    if (JSON.stringify(got) !== JSON.stringify(verdict.metadata))
      tally.fail('mismatches', `${describe()}: metadata ${show(got)}`);
  }
}

// ---------------------------------------------------------------- module JSON

type Layer = new (cin: number, cout: number, k: number | number[], opts?: object) => T.Module;

function randomModule(rng: Rng): T.Module {
  const dim = rng.int(1, 3);
  const kinds = ['Conv', 'DeformConv', 'DeformConvTranspose', 'PackedDeformConv', 'PackedDeformConvTranspose'];
  const kind = rng.pick(kinds);
  const ctor = (T as unknown as Record<string, Layer>)[`${kind}${dim}d`] as Layer;
  const opts: Record<string, unknown> = { stride: rng.int(1, 2), padding: rng.int(0, 1) };
  if (kind.startsWith('Packed') && rng.chance(0.5)) opts.offsetActivation = new T.Tanh();
  if (kind.startsWith('Packed') && rng.chance(0.3)) opts.modulated = true;
  if (rng.chance(0.2)) return rng.pick([new T.Sigmoid(), new T.ReLU(), new T.MaskSigmoid(2), new T.MaskSoftmax2d(3)]);
  return new ctor(rng.int(1, 3), rng.int(1, 3), rng.int(1, 3), opts);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const HOSTILE_TYPES = [
  '__proto__',
  'valueOf',
  'hasOwnProperty',
  'constructor',
  'toString',
  '',
  'Conv4d',
  'isPrototypeOf',
];

function moduleJsonCase(rng: Rng, tally: Tally, index: number): void {
  const source = randomModule(rng);
  const json = JSON.parse(JSON.stringify(source.toJSON())) as {
    type: unknown;
    version: unknown;
    config: Record<string, unknown>;
  };
  // Which documented rule each mutation broke (a later mutation may repair an earlier one).
  const bad = { type: false, version: false, config: false, channels: false, depth: false, options: false };
  let mutations = 0;
  const options: Record<string, unknown> = {};
  const maxElements = rng.pick([undefined, undefined, 50, 10_000]);
  if (maxElements !== undefined) options.maxElements = maxElements;
  let inject: string | null = null;
  let deep: string | null = null;
  for (let m = rng.pick([0, 1, 1, 2]); m > 0; m--) {
    mutations++;
    const r = rng.int(0, 8);
    if (r === 0) {
      json.type = rng.pick([...HOSTILE_TYPES, 5, null]);
      bad.type = true;
    } else if (r === 1) {
      json.version = rng.pick([2, '1', null, 0]);
      bad.version = true;
    } else if (r === 2) {
      (json as Record<string, unknown>).config = rng.pick([null, [], 'x', 3]);
      bad.config = true;
    } else if (r === 3 && isObject(json.config) && 'inChannels' in json.config) {
      const v = rng.pick<unknown>([0, -1, 1.5, '2', null, 2 ** 53, 1e300, 1048576, 2 ** 40]);
      json.config.inChannels = v;
      // Not a positive integer, or over a budget of 10^5 elements whatever the rest of the layer (the
      // small budget keeps the fuzzer from allocating the big layers it would otherwise accept).
      if (v === 1048576 || v === 2 ** 40) options.maxElements = 100_000;
      bad.channels = !(typeof v === 'number' && Number.isSafeInteger(v) && v > 0) || v === 1048576 || v === 2 ** 40;
    } else if (r === 4 && isObject(json.config)) {
      json.config[rng.pick(['kernelSize', 'stride', 'padding', 'groups', 'dilation', 'bias', 'dtype'])] =
        structuredClone(rng.pick(HOSTILE_JSON));
    } else if (r === 5) {
      // Deep nesting through offsetActivation: depth + 2 modules in all, at most 32 allowed. Built as
      // text (JSON.stringify of 5000 levels would overflow this fuzzer's own stack).
      const depth = rng.pick([2, 30, 31, 200, 5000]);
      let inner = '{"type":"Tanh","version":1,"config":{}}';
      for (let i = 0; i <= depth; i++)
        inner = `{"type":"PackedDeformConv1d","version":1,"config":{"inChannels":1,"outChannels":1,"kernelSize":1,"offsetActivation":${inner}}}`;
      deep = inner;
      bad.type = bad.version = bad.config = bad.channels = false;
      bad.depth = depth + 2 > 32;
      break;
    } else if (r === 6) {
      // An own key such as "__proto__" in the config (JSON.parse makes it an ordinary property).
      inject = `"${rng.pick(['__proto__', 'constructor', 'toString'])}":${rng.pick(['1', '{}', '{"inChannels":9}'])}`;
    } else if (r === 7) {
      options.maxElements = rng.pick<unknown>([Number.NaN, -1, 'x']);
      bad.options = true;
    } else {
      options.modules = rng.pick<unknown>([
        {},
        Object.create(null),
        JSON.parse('{"__proto__":5}'),
        { Tanh: 5 },
        { Tanh: () => 5 },
      ]);
    }
  }
  const text =
    deep !== null
      ? deep
      : inject !== null && isObject(json.config)
        ? JSON.stringify(json).replace(
            '"config":{',
            `"config":{${inject}${Object.keys(json.config).length > 0 ? ',' : ''}`,
          )
        : null;
  const mustReject = Object.values(bad).some(Boolean);
  const input = text ?? (rng.chance(0.5) ? JSON.stringify(json) : json);
  const describe = (): string => `#${index} moduleFromJSON(${show(input).slice(0, 400)}, ${show(options)})`;
  let module: T.Module | null = null;
  let error: unknown;
  let threw = false;
  try {
    module = T.moduleFromJSON(input as string, options as T.ModuleFromJSONOptions);
  } catch (e) {
    threw = true;
    error = e;
  }
  // Valid: the untouched JSON of a real module under the default budget; invalid: a broken documented rule;
  // otherwise open (a typed rejection or a module that round-trips).
  tally.outcome(
    mustReject ? false : mutations === 0 && maxElements === undefined ? true : null,
    error,
    threw,
    describe,
  );
  if (!module) return;
  if (!(module instanceof T.Module)) {
    tally.fail('mismatches', `${describe()}: not a Module`);
    return;
  }
  const elements = module.parameters().reduce((a, p) => a + p.numel, 0);
  const limit = typeof options.maxElements === 'number' ? options.maxElements : T.DEFAULT_MAX_MODULE_ELEMENTS;
  if (elements > limit)
    tally.fail('mismatches', `${describe()}: ${elements} parameter elements over maxElements ${limit}`);
  const again = JSON.stringify(T.moduleFromJSON(module.toJSON(), { maxElements: Number.POSITIVE_INFINITY }).toJSON());
  if (again !== JSON.stringify(module.toJSON())) tally.fail('mismatches', `${describe()}: toJSON does not round-trip`);
}

// ---------------------------------------------------------------- state dicts and loadModule

function stateDictCase(rng: Rng, tally: Tally, index: number): void {
  let module = randomModule(rng);
  while (module.parameters().length === 0) module = randomModule(rng);
  const own = module.stateDict();
  const names = Object.keys(own);
  const dict: Record<string, unknown> = rng.chance(0.3) ? (Object.create(null) as Record<string, unknown>) : {};
  for (const n of names) dict[n] = T.randn([...(own[n] as Tensor).shape], { dtype: rng.pick(['float32', 'float64']) });
  let options: unknown = rng.pick<unknown>([undefined, undefined, { strict: true }, { strict: false }]);
  for (let m = rng.pick([0, 1, 1, 2]); m > 0; m--) {
    const r = rng.int(0, 7);
    const key = rng.pick(names);
    if (r === 0) delete dict[key];
    else if (r === 1)
      Object.defineProperty(dict, rng.pick(['__proto__', 'constructor', 'extra', 'toString']), {
        value: T.zeros([1]),
        enumerable: true,
        configurable: true,
        writable: true,
      });
    else if (r === 2) dict[key] = T.zeros([...(own[key] as Tensor).shape, 1]);
    else if (r === 3) dict[key] = rng.pick<unknown>([null, 3, [1], {}, 'x']);
    else if (r === 4) {
      const t = T.zeros([...(own[key] as Tensor).shape]);
      t.dispose();
      dict[key] = t;
    } else if (r === 5) options = rng.pick<unknown>([null, 5, { strict: 'yes' }, 'x']);
    else if (r === 6) {
      // Keys inherited from a prototype are not keys of the dict.
      const proto = { [key]: dict[key] };
      delete dict[key];
      Object.setPrototypeOf(dict, proto);
    } else dict[key] = T.randn([...(own[key] as Tensor).shape], { dtype: 'float64' });
  }
  // Oracle (loadStateDict's documented rules).
  const strict =
    typeof options === 'object' && options !== null ? ((options as { strict?: unknown }).strict ?? true) : true;
  let valid = options === undefined || (typeof options === 'object' && options !== null && typeof strict === 'boolean');
  const has = (k: string): boolean => Object.hasOwn(dict, k);
  if (valid) {
    for (const n of names) {
      if (!has(n)) {
        if (strict) valid = false;
        continue;
      }
      const v = dict[n];
      if (!T.isTensor(v) || v.isDisposed) valid = false;
      else if (
        v.shape.length !== (own[n] as Tensor).shape.length ||
        v.shape.some((s, i) => s !== (own[n] as Tensor).shape[i])
      )
        valid = false;
    }
    if (strict && Object.keys(dict).some((k) => !names.includes(k))) valid = false;
  }
  const before = names.map((n) => Array.from((own[n] as Tensor).toTypedArray()));
  const describe = (): string =>
    `#${index} ${module.constructor.name}.loadStateDict(${show(Object.keys(dict))} ${show(Object.values(dict))}, ${show(options)})`;
  let error: unknown;
  let threw = false;
  try {
    module.loadStateDict(dict as Record<string, Tensor>, options as T.LoadStateDictOptions);
  } catch (e) {
    threw = true;
    error = e;
  }
  tally.outcome(valid, error, threw, describe);
  const fresh = module.stateDict();
  names.forEach((n, i) => {
    const got = Array.from((fresh[n] as Tensor).toTypedArray());
    const f32 = (fresh[n] as Tensor).dtype === 'float32';
    const want =
      !threw && has(n)
        ? Array.from((dict[n] as Tensor).toTypedArray()).map((v) => (f32 ? Math.fround(v) : v))
        : before[i];
    if (got.some((v, j) => !Object.is(v, (want as number[])[j])))
      tally.fail('mismatches', `${describe()}: '${n}' ${threw ? 'changed by a rejected call' : 'not copied'}`);
  });
  // A whole model file whose module JSON was mutated.
  if (rng.chance(0.3)) {
    const file = T.saveModule(module);
    const meta = T.readSafetensorsMetadata(file)['tvdcn.module'] as string;
    const mutated = rng.chance(0.5)
      ? meta.replace(/"inChannels":\d+/, `"inChannels":${rng.pick([1048576, 0, 2, -1])}`)
      : meta.replace(/"type":"\w+"/, `"type":"${rng.pick(HOSTILE_TYPES)}"`);
    const sd = module.stateDict();
    const bytes = T.saveSafetensors(sd, { 'tvdcn.module': mutated });
    let loaded: T.Module | null = null;
    threw = false;
    error = undefined;
    try {
      loaded = T.loadModule(bytes, { maxElements: 100_000 }); // the modules here have fewer than 10^4
    } catch (e) {
      threw = true;
      error = e;
    }
    tally.outcome(mutated === meta, error, threw, () => `#${index} loadModule(module JSON ${mutated.slice(0, 300)})`);
    if (loaded && JSON.stringify(loaded.toJSON()) !== JSON.stringify(module.toJSON()))
      tally.fail('mismatches', `#${index} loadModule round trip`);
  }
}

function main(): void {
  const a = args();
  const seed = Number(a.seed ?? 1);
  const from = Number(a.from ?? 0);
  const to = Number(a.to ?? 1000);
  const tally = new Tally();
  const snapshot = prototypeSnapshot();
  for (let i = from; i < to; i++) {
    if ((i - from) % 100 === 0) process.stdout.write(`progress ${i}\n`);
    const rng = new Rng(seed, i);
    const kind = rng.next();
    const t0 = Date.now();
    T.tidy(() => {
      if (kind < 0.5) runSafetensors(rng, tally, i);
      else if (kind < 0.75) moduleJsonCase(rng, tally, i);
      else stateDictCase(rng, tally, i);
    });
    if (Date.now() - t0 > 2000)
      process.stderr.write(
        `slow case ${i} (${kind < 0.5 ? 'safetensors' : kind < 0.75 ? 'module JSON' : 'state dict'}): ${Date.now() - t0} ms\n`,
      );
    if (
      prototypeSnapshot() !== snapshot ||
      Object.getPrototypeOf({}) !== Object.prototype ||
      ({} as Record<string, unknown>).dtype !== undefined
    ) {
      tally.fail('prototypeChanges', `#${i}: a built-in prototype changed`);
      break;
    }
  }
  process.stdout.write(`${JSON.stringify({ kind: 'files', seed, from, to, ...tally })}\n`);
}

main();
