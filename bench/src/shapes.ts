// SPDX-License-Identifier: MIT
// The named benchmark suite: realistic deformable-convolution layers, each with its ONNX Runtime
// peers. Every case has offset, mask and bias; mask groups equal offset groups (ONNX's rule).
// `smoke` shrinks a case to something that runs in milliseconds, for CI.

export interface BenchShape {
  /** Short name printed in the table. */
  name: string;
  /** Where the layer comes from. */
  description: string;
  dim: 1 | 2 | 3;
  transposed: boolean;
  batch: number;
  inChannels: number;
  outChannels: number;
  /** Input spatial size, in spatial order (W), (H, W) or (D, H, W). */
  inSize: number[];
  kernel: number[];
  stride: number[];
  padding: number[];
  dilation: number[];
  groups: number;
  /** Offset groups = mask groups. */
  offsetGroups: number;
  /** Transposed only. */
  outputPadding?: number[];
}

const rep = (v: number, dim: number): number[] => Array.from({ length: dim }, () => v);

function shape(
  s: Omit<BenchShape, 'stride' | 'padding' | 'dilation' | 'groups'> &
    Partial<Pick<BenchShape, 'stride' | 'padding' | 'dilation' | 'groups'>>,
): BenchShape {
  return {
    stride: rep(1, s.dim),
    padding: rep(1, s.dim),
    dilation: rep(1, s.dim),
    groups: 1,
    ...s,
  };
}

export const SHAPES: BenchShape[] = [
  shape({
    name: 'r50-c4',
    description: 'ResNet-50 res4 3x3 conv with DCNv2 (Deformable ConvNets v2, detection backbones), B=4',
    dim: 2,
    transposed: false,
    batch: 4,
    inChannels: 256,
    outChannels: 256,
    inSize: [32, 32],
    kernel: [3, 3],
    offsetGroups: 1,
  }),
  shape({
    name: 'r50-c5',
    description: 'ResNet-50 res5 3x3 conv with DCNv2, B=4',
    dim: 2,
    transposed: false,
    batch: 4,
    inChannels: 512,
    outChannels: 512,
    inSize: [16, 16],
    kernel: [3, 3],
    offsetGroups: 1,
  }),
  shape({
    name: 'edvr-64',
    description: 'EDVR PCD alignment DCN (video restoration): 64 channels, 8 offset groups, 128x128, B=1',
    dim: 2,
    transposed: false,
    batch: 1,
    inChannels: 64,
    outChannels: 64,
    inSize: [128, 128],
    kernel: [3, 3],
    offsetGroups: 8,
  }),
  shape({
    name: 'tcn-1d',
    description: '1D deformable temporal conv (speech / time series): 128 channels, length 2048, B=4',
    dim: 1,
    transposed: false,
    batch: 4,
    inChannels: 128,
    outChannels: 128,
    inSize: [2048],
    kernel: [3],
    offsetGroups: 1,
  }),
  shape({
    name: 'video-3d',
    description: '3D deformable conv on a video clip (8 frames of 32x32, 64 channels), B=1',
    dim: 3,
    transposed: false,
    batch: 1,
    inChannels: 64,
    outChannels: 64,
    inSize: [8, 32, 32],
    kernel: [3, 3, 3],
    offsetGroups: 1,
  }),
  shape({
    name: 'up-t2d',
    description: 'Deformable transposed 2D conv, decoder 2x upsampling 128->64 channels, 32x32 -> 64x64, B=2',
    dim: 2,
    transposed: true,
    batch: 2,
    inChannels: 128,
    outChannels: 64,
    inSize: [32, 32],
    kernel: [4, 4],
    stride: [2, 2],
    padding: [1, 1],
    outputPadding: [0, 0],
    offsetGroups: 1,
  }),
];

/** A tiny version of a shape with the same structure (dims, groups, stride, transposition). */
export function smoke(s: BenchShape): BenchShape {
  const ch = (c: number) => Math.max(s.offsetGroups * s.groups, Math.min(c, 8 * s.offsetGroups));
  return {
    ...s,
    description: `smoke-sized version of ${s.name}`,
    batch: Math.min(s.batch, 2),
    inChannels: ch(s.inChannels),
    outChannels: ch(s.outChannels),
    inSize: s.inSize.map((n) => Math.min(n, s.dim === 1 ? 32 : 8)),
  };
}

/** Output spatial size. */
export function outSize(s: BenchShape): number[] {
  return s.inSize.map((n, a) =>
    s.transposed
      ? (n - 1) * s.stride[a] - 2 * s.padding[a] + s.dilation[a] * (s.kernel[a] - 1) + 1 + (s.outputPadding?.[a] ?? 0)
      : Math.floor((n + 2 * s.padding[a] - s.dilation[a] * (s.kernel[a] - 1) - 1) / s.stride[a]) + 1,
  );
}

/** Spatial size of the offset and mask: the output grid, or the input grid for the transposed op. */
export function offsetSize(s: BenchShape): number[] {
  return s.transposed ? s.inSize : outSize(s);
}

/** Multiply-accumulates of the dense convolution with this geometry (the GEMM part). */
export function macs(s: BenchShape): number {
  const K = s.kernel.reduce((a, b) => a * b, 1);
  const grid = (s.transposed ? s.inSize : outSize(s)).reduce((a, b) => a * b, 1);
  const cross = s.transposed ? s.inChannels * (s.outChannels / s.groups) : s.outChannels * (s.inChannels / s.groups);
  return s.batch * cross * K * grid;
}

export function describeShape(s: BenchShape): string {
  const x = [s.batch, s.inChannels, ...s.inSize];
  const w = s.transposed
    ? [s.inChannels, s.outChannels / s.groups, ...s.kernel]
    : [s.outChannels, s.inChannels / s.groups, ...s.kernel];
  const uniq = (v: number[]) => (v.every((e) => e === v[0]) ? `${v[0]}` : `[${v.join(',')}]`);
  return (
    `x=[${x.join(',')}] w=[${w.join(',')}] s=${uniq(s.stride)} p=${uniq(s.padding)} d=${uniq(s.dilation)} ` +
    `g=${s.groups} og=${s.offsetGroups}${s.transposed ? ' transposed' : ''}`
  );
}
