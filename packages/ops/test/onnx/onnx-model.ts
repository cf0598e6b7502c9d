// SPDX-License-Identifier: MIT
// A tiny, dependency-free writer of ONNX ModelProto bytes for single-node models (DeformConv, Conv,
// ConvTranspose), so tests and benchmarks can run ONNX Runtime as an independent reference without
// onnx/protobuf packages. It writes only the fields those models need; it is not an ONNX library.
//
// Wire format (protobuf): every field is a key varint `(fieldNumber << 3) | wireType` followed by a
// varint (wire type 0) or a length-delimited payload (wire type 2: varint length, then bytes).
// Field numbers are those of onnx/onnx.proto (IR version 10):
//   ModelProto       ir_version=1 (int64), producer_name=2, graph=7, opset_import=8
//   OperatorSetId    domain=1 (string), version=2 (int64)
//   GraphProto       node=1, name=2, input=11, output=12
//   NodeProto        input=1, output=2, name=3, op_type=4, attribute=5
//   AttributeProto   name=1, i=3, ints=8 (proto2 repeated int64: written unpacked), type=20
//   ValueInfoProto   name=1, type=2
//   TypeProto        tensor_type=1;  TypeProto.Tensor elem_type=1 (int32), shape=2
//   TensorShapeProto dim=1;          Dimension dim_value=1 (int64)

/** ONNX TensorProto.DataType values used here. */
export const ONNX_FLOAT = 1;
export const ONNX_DOUBLE = 11;

/** Element types the writer supports, spelled as in `@tvdcn/ops`. */
export type OnnxDType = 'float32' | 'float64';

/** IR version written into every model (IR 10 = ONNX 1.16, the first to allow opset 22). */
export const IR_VERSION = 10;
/** Default opset: DeformConv exists since 19; 22 is its latest version and ORT 1.30 registers 19–21 and 22. */
export const DEFAULT_OPSET = 22;

// AttributeProto.AttributeType
const ATTR_INT = 2;
const ATTR_INTS = 7;

// ---------------------------------------------------------------------------------------------------
// Protobuf primitives

class Writer {
  private chunks: number[] = [];

  /** Unsigned varint of a non-negative safe integer; negative int64 values use 10-byte two's complement. */
  varint(value: number | bigint): this {
    let v = BigInt(value);
    if (v < 0n) v += 1n << 64n;
    while (v >= 0x80n) {
      this.chunks.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.chunks.push(Number(v));
    return this;
  }

  private key(field: number, wireType: 0 | 2): this {
    return this.varint((field << 3) | wireType);
  }

  int(field: number, value: number): this {
    return this.key(field, 0).varint(value);
  }

  bytes(field: number, payload: Uint8Array): this {
    this.key(field, 2).varint(payload.length);
    for (const b of payload) this.chunks.push(b);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, build: (w: Writer) => void): this {
    const inner = new Writer();
    build(inner);
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

// ---------------------------------------------------------------------------------------------------
// ONNX messages

/** A graph input or output: name, element type and a fully static shape. */
export interface OnnxValueInfo {
  name: string;
  dtype: OnnxDType;
  shape: readonly number[];
}

/** An attribute of the node: an INT or an INTS. */
export type OnnxAttribute = number | readonly number[];

/** One single-node model. `inputs` in operator order; `''` marks an omitted optional input. */
export interface SingleNodeModelSpec {
  opType: string;
  /** Node inputs in operator order, `null` for an omitted optional input (written as `''`). */
  inputs: readonly (OnnxValueInfo | null)[];
  outputs: readonly OnnxValueInfo[];
  attributes?: Record<string, OnnxAttribute | undefined>;
  opset?: number;
  graphName?: string;
}

function elemType(dtype: OnnxDType): number {
  return dtype === 'float64' ? ONNX_DOUBLE : ONNX_FLOAT;
}

function writeValueInfo(w: Writer, v: OnnxValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, elemType(v.dtype));
      tensor.message(2, (shape) => {
        for (const d of v.shape) shape.message(1, (dim) => dim.int(1, d));
      });
    }),
  );
}

function writeAttribute(w: Writer, name: string, value: OnnxAttribute): void {
  w.string(1, name);
  if (typeof value === 'number') {
    w.int(3, value);
    w.int(20, ATTR_INT);
  } else {
    for (const v of value) w.int(8, v);
    w.int(20, ATTR_INTS);
  }
}

/** Serialises a ModelProto holding one node whose inputs are all graph inputs (no initializers). */
export function singleNodeModel(spec: SingleNodeModelSpec): Uint8Array {
  const w = new Writer();
  w.int(1, IR_VERSION);
  w.string(2, 'tvdcn-onnx-model');
  w.message(7, (graph) => {
    graph.message(1, (node) => {
      // Trailing omitted optional inputs are dropped; inner ones are written as ''.
      const names = spec.inputs.map((i) => i?.name ?? '');
      while (names.length > 0 && names[names.length - 1] === '') names.pop();
      for (const n of names) node.string(1, n);
      for (const o of spec.outputs) node.string(2, o.name);
      node.string(3, `${spec.opType.toLowerCase()}0`);
      node.string(4, spec.opType);
      for (const [name, value] of Object.entries(spec.attributes ?? {})) {
        if (value !== undefined) node.message(5, (a) => writeAttribute(a, name, value));
      }
    });
    graph.string(2, spec.graphName ?? spec.opType.toLowerCase());
    for (const i of spec.inputs) if (i) graph.message(11, (v) => writeValueInfo(v, i));
    for (const o of spec.outputs) graph.message(12, (v) => writeValueInfo(v, o));
  });
  w.message(8, (op) => {
    op.string(1, '');
    op.int(2, spec.opset ?? DEFAULT_OPSET);
  });
  return w.finish();
}

// ---------------------------------------------------------------------------------------------------
// Convolution models

/** Geometry shared by the three convolution builders; per-axis arrays in spatial order. */
export interface ConvGeometry {
  dtype: OnnxDType;
  /** X: [N, C, ...spatial]. */
  inputShape: readonly number[];
  /** W: [oC, C/group, ...kernel] (ConvTranspose: [C, oC/group, ...kernel]). */
  weightShape: readonly number[];
  stride: readonly number[];
  /** Symmetric padding per axis; written as ONNX pads [begin..., end...]. */
  padding: readonly number[];
  dilation: readonly number[];
  groups: number;
  bias: boolean;
  opset?: number;
}

function convOut(inSize: number, k: number, s: number, p: number, d: number): number {
  return Math.floor((inSize + 2 * p - d * (k - 1) - 1) / s) + 1;
}

function convTransposeOut(inSize: number, k: number, s: number, p: number, d: number, op: number): number {
  return (inSize - 1) * s - 2 * p + d * (k - 1) + 1 + op;
}

/** Output spatial size of an ordinary (or deformable) convolution with symmetric padding. */
export function convOutputSpatial(g: Omit<ConvGeometry, 'dtype' | 'groups' | 'bias'>): number[] {
  const spatial = g.inputShape.slice(2);
  const kernel = g.weightShape.slice(2);
  return spatial.map((n, a) => convOut(n, kernel[a], g.stride[a], g.padding[a], g.dilation[a]));
}

function pads(padding: readonly number[]): number[] {
  return [...padding, ...padding];
}

/** Input names of the models below, in operator order. */
export const INPUT_NAMES = { X: 'X', W: 'W', offset: 'offset', B: 'B', mask: 'mask', Y: 'Y' } as const;

/**
 * ONNX `DeformConv` (2D in ORT): inputs X, W, offset, B?, mask?; mask groups are the offset groups.
 * offset: [N, offsetGroups*kH*kW*2, oH, oW] with (group, kernel point, y-then-x) channel order, the
 * same as tvdcn's; mask: [N, offsetGroups*kH*kW, oH, oW].
 */
export function deformConvModel(g: ConvGeometry & { offsetGroups: number; mask: boolean }): Uint8Array {
  const { dtype } = g;
  const kernel = g.weightShape.slice(2);
  const K = kernel.reduce((a, b) => a * b, 1);
  const out = convOutputSpatial(g);
  const n = g.inputShape[0];
  const oC = g.weightShape[0];
  const dim = kernel.length;
  return singleNodeModel({
    opType: 'DeformConv',
    inputs: [
      { name: 'X', dtype, shape: g.inputShape },
      { name: 'W', dtype, shape: g.weightShape },
      { name: 'offset', dtype, shape: [n, g.offsetGroups * K * dim, ...out] },
      g.bias ? { name: 'B', dtype, shape: [oC] } : null,
      g.mask ? { name: 'mask', dtype, shape: [n, g.offsetGroups * K, ...out] } : null,
    ],
    outputs: [{ name: 'Y', dtype, shape: [n, oC, ...out] }],
    attributes: {
      dilations: g.dilation,
      group: g.groups,
      kernel_shape: kernel,
      offset_group: g.offsetGroups,
      pads: pads(g.padding),
      strides: g.stride,
    },
    opset: g.opset,
  });
}

/** ONNX `Conv` (dense, any rank): inputs X, W, B?. */
export function convModel(g: ConvGeometry): Uint8Array {
  const { dtype } = g;
  const kernel = g.weightShape.slice(2);
  const out = convOutputSpatial(g);
  const oC = g.weightShape[0];
  return singleNodeModel({
    opType: 'Conv',
    inputs: [
      { name: 'X', dtype, shape: g.inputShape },
      { name: 'W', dtype, shape: g.weightShape },
      g.bias ? { name: 'B', dtype, shape: [oC] } : null,
    ],
    outputs: [{ name: 'Y', dtype, shape: [g.inputShape[0], oC, ...out] }],
    attributes: {
      dilations: g.dilation,
      group: g.groups,
      kernel_shape: kernel,
      pads: pads(g.padding),
      strides: g.stride,
    },
    opset: g.opset,
  });
}

/** ONNX `ConvTranspose` (dense, any rank): inputs X, W [C, oC/group, ...k], B?. */
export function convTransposeModel(g: ConvGeometry & { outputPadding: readonly number[] }): Uint8Array {
  const { dtype } = g;
  const kernel = g.weightShape.slice(2);
  const spatial = g.inputShape.slice(2);
  const out = spatial.map((n, a) =>
    convTransposeOut(n, kernel[a], g.stride[a], g.padding[a], g.dilation[a], g.outputPadding[a]),
  );
  const oC = g.weightShape[1] * g.groups;
  return singleNodeModel({
    opType: 'ConvTranspose',
    inputs: [
      { name: 'X', dtype, shape: g.inputShape },
      { name: 'W', dtype, shape: g.weightShape },
      g.bias ? { name: 'B', dtype, shape: [oC] } : null,
    ],
    outputs: [{ name: 'Y', dtype, shape: [g.inputShape[0], oC, ...out] }],
    attributes: {
      dilations: g.dilation,
      group: g.groups,
      kernel_shape: kernel,
      output_padding: g.outputPadding,
      pads: pads(g.padding),
      strides: g.stride,
    },
    opset: g.opset,
  });
}
