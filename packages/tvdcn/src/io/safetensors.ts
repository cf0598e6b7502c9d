// SPDX-License-Identifier: MIT
// Reading and writing the safetensors format (https://github.com/huggingface/safetensors), so weights saved
// by PyTorch with `safetensors.torch.save_file(module.state_dict(), path)` load here and back. Bytes in,
// bytes out: reading and writing files is the caller's (`fs.readFileSync` / `fs.writeFileSync`).
//
// NOTE [ safetensors layout ]
// 8 bytes: N, the header length, unsigned 64-bit little-endian; N bytes: a UTF-8 JSON object
// `{ name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__"?: { string: string } }`, padded with
// spaces; then the data buffer, each tensor's values row-major and little-endian at
// `[8 + N + begin, 8 + N + end)`. The tensors tile the buffer exactly: sorted by `begin`, each starts where
// the previous one ends, the first at 0 and the last at the end of the file.

import { type DType, type Tensor, tensor } from '@tvdcn/ops';
import { InvalidArgumentError, NotImplementedError, formatShape, formatValue } from '@tvdcn/shape';
import { bfloat16BitsToFloat, floatToBfloat16Bits, floatToHalfBits, halfBitsToFloat } from './half.js';

/** The safetensors element types this package reads and writes. */
export type SafetensorsDType = 'F32' | 'F64' | 'F16' | 'BF16';

/** Bytes per element of each supported safetensors dtype. */
const DTYPE_SIZE: Readonly<Record<SafetensorsDType, number>> = { F32: 4, F64: 8, F16: 2, BF16: 2 };

/** Every dtype of the safetensors specification, with its size in bytes (to validate files we cannot load). */
const KNOWN_DTYPE_SIZE: Readonly<Record<string, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  F8_E8M0: 1,
  F4: 1,
  F6_E2M3: 1,
  F6_E3M2: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
  C64: 8,
};

/** Header lengths above this are refused, as the reference implementation does (100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

/** The key of the free-form string metadata in the header. */
const METADATA_KEY = '__metadata__';

/** Options of {@link loadSafetensors}. */
export interface LoadSafetensorsOptions {
  /** Device of the returned tensors (default `'cpu'`). */
  device?: Tensor['device'];
}

/** Options of {@link saveSafetensors}. */
export interface SaveSafetensorsOptions {
  /**
   * Store the tensors in this dtype instead of their own: one dtype for all, or one per tensor name
   * (names not listed keep their own). Converting to `'F16'`/`'BF16'` rounds to nearest, ties to even;
   * values beyond the half range become ±Infinity.
   */
  dtype?: SafetensorsDType | Readonly<Record<string, SafetensorsDType>>;
}

/** One tensor entry of a parsed header. */
interface HeaderEntry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  begin: number;
  end: number;
}

const OP_LOAD = 'loadSafetensors';
const OP_SAVE = 'saveSafetensors';

/** True when this machine stores numbers little-endian (typed-array views can then be used directly). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A clear error for a malformed file (never a crash, never a half-read result). */
function corrupt(detail: string): InvalidArgumentError {
  return new InvalidArgumentError(`${OP_LOAD}(): expected a valid safetensors file, but ${detail}`, 'bytes');
}

function isNonNegativeSafeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Parses and validates the header of a safetensors file. */
function parseHeader(bytes: Uint8Array): {
  entries: HeaderEntry[];
  metadata: Record<string, string>;
  dataStart: number;
} {
  if (bytes.byteLength < 8) {
    throw corrupt(`the file has ${bytes.byteLength} bytes, fewer than the 8 of the header length`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(bytes.byteLength - 8)) {
    throw corrupt(
      `the header length is ${headerLength} bytes, more than the ${bytes.byteLength - 8} bytes after it (truncated file?)`,
    );
  }
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    throw corrupt(`the header length is ${headerLength} bytes, more than the limit of ${MAX_HEADER_BYTES}`);
  }
  const n = Number(headerLength);
  const dataStart = 8 + n;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart));
  } catch {
    throw corrupt('the header is not valid UTF-8');
  }
  if (!text.startsWith('{'))
    throw corrupt(`the header does not start with '{' (got ${formatValue(text.slice(0, 16))})`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw corrupt(`the header is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw corrupt('the header is not a JSON object');
  }
  // Keys come from the file: null-prototype objects, so a key such as "__proto__" stays a plain key.
  const metadata: Record<string, string> = Object.create(null) as Record<string, string>;
  const entries: HeaderEntry[] = [];
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw corrupt(`"${METADATA_KEY}" is not an object of strings`);
      }
      for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
        if (typeof item !== 'string') throw corrupt(`"${METADATA_KEY}"."${key}" is ${formatValue(item)}, not a string`);
        metadata[key] = item;
      }
      continue;
    }
    entries.push(parseEntry(name, value, bytes.byteLength - dataStart));
  }
  // The tensors must tile the data buffer: no gap, no overlap, nothing after the last one.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let position = 0;
  for (const entry of sorted) {
    if (entry.begin !== position) {
      throw corrupt(
        entry.begin < position
          ? `tensor '${entry.name}' (bytes ${entry.begin} to ${entry.end}) overlaps the tensor before it, which ends at ${position}`
          : `there is a gap of ${entry.begin - position} bytes before tensor '${entry.name}' (bytes ${entry.begin} to ${entry.end})`,
      );
    }
    position = entry.end;
  }
  const dataLength = bytes.byteLength - dataStart;
  if (position !== dataLength) {
    throw corrupt(
      `the tensors cover ${position} bytes of the data buffer, but it has ${dataLength} (extra bytes at the end)`,
    );
  }
  return { entries, metadata, dataStart };
}

/** Validates one `name: { dtype, shape, data_offsets }` entry. */
function parseEntry(name: string, value: unknown, dataLength: number): HeaderEntry {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw corrupt(`the header entry of tensor '${name}' is ${formatValue(value)}, not an object`);
  }
  const own = (key: string): unknown =>
    Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
  const dtype = own('dtype');
  const shape = own('shape');
  const offsets = own('data_offsets');
  if (typeof dtype !== 'string' || !Object.hasOwn(KNOWN_DTYPE_SIZE, dtype)) {
    throw corrupt(`tensor '${name}' has the unknown dtype ${formatValue(dtype)}`);
  }
  if (!Array.isArray(shape) || !shape.every(isNonNegativeSafeInteger)) {
    throw corrupt(`tensor '${name}' has the shape ${formatValue(shape)}, not an array of non-negative integers`);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every(isNonNegativeSafeInteger) ||
    (offsets[0] as number) > (offsets[1] as number)
  ) {
    throw corrupt(
      `tensor '${name}' has the data_offsets ${formatValue(offsets)}, not [begin, end] with 0 <= begin <= end`,
    );
  }
  const [begin, end] = offsets as [number, number];
  if (end > dataLength) {
    throw corrupt(`tensor '${name}' ends at byte ${end} of a data buffer of ${dataLength} bytes (truncated file?)`);
  }
  let numel = 1;
  for (const size of shape as number[]) numel *= size;
  const expectedBytes = numel * (KNOWN_DTYPE_SIZE[dtype] as number);
  if (end - begin !== expectedBytes) {
    throw corrupt(
      `tensor '${name}' (${dtype}, shape ${formatShape(shape as number[])}) has ${end - begin} bytes, ` +
        `but numel * ${KNOWN_DTYPE_SIZE[dtype]} = ${expectedBytes}`,
    );
  }
  if (!Object.hasOwn(DTYPE_SIZE, dtype)) {
    throw new NotImplementedError(
      `${OP_LOAD}(): expected tensors of dtype F32, F64, F16 or BF16, but tensor '${name}' has dtype ${dtype}; ` +
        'convert it in Python before saving (e.g. `t.float()`)',
    );
  }
  return { name, dtype: dtype as SafetensorsDType, shape: shape as number[], begin, end };
}

/** Decodes the little-endian values of one entry into a float32 or float64 array. */
function decode(bytes: Uint8Array, start: number, entry: HeaderEntry): Float32Array | Float64Array {
  const length = entry.end - entry.begin;
  const count = length / DTYPE_SIZE[entry.dtype];
  const source = bytes.subarray(start, start + length);
  switch (entry.dtype) {
    case 'F32':
    case 'F64': {
      const Ctor = entry.dtype === 'F32' ? Float32Array : Float64Array;
      // An aligned copy of exactly these bytes. Uint8Array.prototype.slice, not source.slice: on a Node
      // Buffer the latter is a view of the whole (pooled) backing store.
      if (LITTLE_ENDIAN) return new Ctor(Uint8Array.prototype.slice.call(source).buffer);
      const out = new Ctor(count);
      const view = new DataView(source.buffer, source.byteOffset, source.byteLength);
      for (let i = 0; i < count; i++) {
        out[i] = entry.dtype === 'F32' ? view.getFloat32(i * 4, true) : view.getFloat64(i * 8, true);
      }
      return out;
    }
    case 'F16':
    case 'BF16': {
      const convert = entry.dtype === 'F16' ? halfBitsToFloat : bfloat16BitsToFloat;
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = convert(source[2 * i] | (source[2 * i + 1] << 8));
      return out;
    }
  }
}

/**
 * Reads a safetensors file into tensors, keyed by name (in file order).
 *
 * `F32` and `F64` tensors keep their dtype. `F16` and `BF16` tensors are widened to `float32` (exactly):
 * CPU tensors are float32 or float64 only; call `.to('float16')` on a CUDA tensor to narrow it again.
 * The header's `__metadata__` is not returned by this function: see {@link readSafetensorsMetadata}.
 *
 * @param bytes - the whole file (e.g. `fs.readFileSync('model.safetensors')`)
 * @param options - `device` of the returned tensors (default `'cpu'`)
 * @returns one tensor per stored name (`requiresGrad` false), in an object with a null prototype (names
 *   come from the file, so `'__proto__'` or `'constructor'` are ordinary keys)
 * @throws {@link InvalidArgumentError} (argument `'bytes'`) for a truncated or malformed file: a header
 *   length beyond the file, invalid JSON, an unknown dtype, offsets out of range, overlapping or leaving
 *   gaps, or a byte count other than `numel * size`
 * @throws {@link NotImplementedError} for a valid file holding a dtype other than F32, F64, F16, BF16
 *
 * @example
 * ```ts
 * const dict = loadSafetensors(readFileSync('dcn.safetensors'));
 * conv.loadStateDict(dict);
 * ```
 */
export function loadSafetensors(bytes: Uint8Array, options: LoadSafetensorsOptions = {}): Record<string, Tensor> {
  if (!(bytes instanceof Uint8Array)) {
    throw new InvalidArgumentError(
      `${OP_LOAD}(): expected bytes to be a Uint8Array (a Node.js Buffer is one), but got ${formatValue(bytes)}`,
      'bytes',
    );
  }
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(
      `${OP_LOAD}(): expected options to be an object { device? }, but got ${formatValue(options)}`,
      'options',
    );
  }
  const { entries, dataStart } = parseHeader(bytes);
  // Keyed by names from the file: a null prototype, so a tensor named "__proto__" is an ordinary key.
  const out: Record<string, Tensor> = Object.create(null) as Record<string, Tensor>;
  try {
    for (const entry of entries) {
      const values = decode(bytes, dataStart + entry.begin, entry);
      out[entry.name] = tensor(values, { shape: entry.shape, device: options.device ?? 'cpu' });
    }
  } catch (e) {
    for (const t of Object.values(out)) t.dispose();
    throw e;
  }
  return out;
}

/**
 * Reads only the `__metadata__` strings of a safetensors file (validating the whole header), in an object
 * with a null prototype.
 *
 * @throws {@link InvalidArgumentError} as {@link loadSafetensors}
 */
export function readSafetensorsMetadata(bytes: Uint8Array): Record<string, string> {
  if (!(bytes instanceof Uint8Array)) {
    throw new InvalidArgumentError(
      `${OP_LOAD}(): expected bytes to be a Uint8Array (a Node.js Buffer is one), but got ${formatValue(bytes)}`,
      'bytes',
    );
  }
  return parseHeader(bytes).metadata;
}

/** The safetensors dtype a tensor of `dtype` is stored as by default. */
const STORED_AS: Readonly<Record<DType, SafetensorsDType>> = {
  float32: 'F32',
  float64: 'F64',
  float16: 'F16',
  bfloat16: 'BF16',
};

/**
 * Order of dtypes in a written file, largest first: the order of the reference writer's dtype enum
 * (F64, F32, BF16, F16), so that files are laid out as `safetensors.torch.save_file` lays them out.
 */
const LAYOUT_RANK: Readonly<Record<SafetensorsDType, number>> = { F64: 3, F32: 2, BF16: 1, F16: 0 };

/** Encodes `values` as little-endian `dtype` into `out` at `offset`. */
function encode(values: Float32Array | Float64Array, dtype: SafetensorsDType, out: Uint8Array, offset: number): void {
  const view = new DataView(out.buffer, out.byteOffset + offset, values.length * DTYPE_SIZE[dtype]);
  switch (dtype) {
    case 'F32':
      for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
      return;
    case 'F64':
      for (let i = 0; i < values.length; i++) view.setFloat64(i * 8, values[i], true);
      return;
    case 'F16':
      for (let i = 0; i < values.length; i++) view.setUint16(i * 2, floatToHalfBits(values[i]), true);
      return;
    case 'BF16':
      for (let i = 0; i < values.length; i++) view.setUint16(i * 2, floatToBfloat16Bits(values[i]), true);
      return;
  }
}

function isSafetensorsDType(value: unknown): value is SafetensorsDType {
  return value === 'F32' || value === 'F64' || value === 'F16' || value === 'BF16';
}

/**
 * Writes tensors in the safetensors format, readable by `safetensors.torch.load_file` and
 * {@link loadSafetensors}.
 *
 * Each tensor is stored in the dtype matching its own (`float32` → F32, `float64` → F64, `float16` → F16,
 * `bfloat16` → BF16) unless `options.dtype` says otherwise. As the reference writer does, tensors are laid
 * out by dtype (F64, F32, BF16, F16), then by name, and the header is padded with spaces so that the data
 * starts at a multiple of 8 bytes.
 *
 * @param tensors - the tensors by name (e.g. `module.stateDict()`); any device (values are read back)
 * @param metadata - free-form strings stored as `__metadata__` (e.g. `{ format: 'pt' }`)
 * @param options - `dtype`: store as another dtype (all tensors, or per name)
 * @returns the file's bytes
 * @throws {@link InvalidArgumentError} for a name `'__metadata__'` or an empty name, a value that is not a
 *   tensor, metadata that is not strings, or an unknown `dtype` option
 *
 * @example
 * ```ts
 * writeFileSync('dcn.safetensors', saveSafetensors(conv.stateDict(), { format: 'pt' }));
 * ```
 */
export function saveSafetensors(
  tensors: Readonly<Record<string, Tensor>>,
  metadata?: Readonly<Record<string, string>> | null,
  options: SaveSafetensorsOptions = {},
): Uint8Array {
  if (typeof tensors !== 'object' || tensors === null) {
    throw new InvalidArgumentError(
      `${OP_SAVE}(): expected tensors to be an object of tensors by name, but got ${formatValue(tensors)}`,
      'tensors',
    );
  }
  // Null prototypes: a name such as "__proto__" must be written as an ordinary key.
  const header: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  if (metadata !== undefined && metadata !== null) {
    const meta: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string') {
        throw new InvalidArgumentError(
          `${OP_SAVE}(): expected metadata values to be strings, but got metadata['${key}'] = ${formatValue(value)}`,
          'metadata',
        );
      }
      meta[key] = value;
    }
    header[METADATA_KEY] = meta;
  }
  const items: { name: string; dtype: SafetensorsDType; shape: number[]; values: Float32Array | Float64Array }[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    if (name === METADATA_KEY || name === '') {
      throw new InvalidArgumentError(
        `${OP_SAVE}(): expected tensor names other than '' and '${METADATA_KEY}', but got ${formatValue(name)}`,
        'tensors',
      );
    }
    if (typeof t !== 'object' || t === null || typeof (t as Tensor).toTypedArray !== 'function') {
      throw new InvalidArgumentError(
        `${OP_SAVE}(): expected tensors['${name}'] to be a Tensor, but got ${formatValue(t)}`,
        'tensors',
      );
    }
    const requested = typeof options.dtype === 'string' ? options.dtype : options.dtype?.[name];
    if (requested !== undefined && !isSafetensorsDType(requested)) {
      throw new InvalidArgumentError(
        `${OP_SAVE}(): expected dtype to be 'F32', 'F64', 'F16' or 'BF16', but got ${formatValue(requested)}`,
        'dtype',
      );
    }
    items.push({ name, dtype: requested ?? STORED_AS[t.dtype], shape: [...t.shape], values: t.toTypedArray() });
  }
  items.sort((a, b) => LAYOUT_RANK[b.dtype] - LAYOUT_RANK[a.dtype] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let position = 0;
  for (const item of items) {
    const length = item.values.length * DTYPE_SIZE[item.dtype];
    header[item.name] = { dtype: item.dtype, shape: item.shape, data_offsets: [position, position + length] };
    position += length;
  }
  let headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(headerBytes.length / 8) * 8;
  if (padded !== headerBytes.length) {
    const withSpaces = new Uint8Array(padded).fill(0x20);
    withSpaces.set(headerBytes);
    headerBytes = withSpaces;
  }
  const out = new Uint8Array(8 + headerBytes.length + position);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let offset = 8 + headerBytes.length;
  for (const item of items) {
    encode(item.values, item.dtype, out, offset);
    offset += item.values.length * DTYPE_SIZE[item.dtype];
  }
  return out;
}
