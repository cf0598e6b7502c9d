// SPDX-License-Identifier: MIT
// The timed peers of one benchmark shape, each meant to live alone in its own process (worker.ts): our
// forward, our forward+backward (all five gradients), ONNX Runtime's DeformConv and ORT's dense Conv
// (ConvTranspose for a transposed shape) with the same geometry, all on the same seeded float32 data.
import type { Tensor } from '@tvdcn/ops';
import { type BenchShape, offsetSize, outSize } from './shapes.js';

/** What one worker process times. `ours-*` load the addon named by TVDCN_NATIVE_PATH when it is set. */
export type PeerKind = 'ours-fwd' | 'ours-fwdbwd' | 'ort-dcn' | 'ort-conv';

export interface Peer {
  /** One timed call. */
  run: () => unknown;
  /** The forward output (for the agreement check of ours against ORT DeformConv). */
  output: () => Promise<Float32Array>;
  dispose: () => Promise<void>;
}

// ---------------------------------------------------------------------------------------------------
// Data

const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

interface Shapes {
  x: number[];
  w: number[];
  offset: number[];
  mask: number[];
  bias: number[];
  y: number[];
}

function shapesOf(s: BenchShape): Shapes {
  const K = numel(s.kernel);
  const grid = offsetSize(s);
  return {
    x: [s.batch, s.inChannels, ...s.inSize],
    w: s.transposed
      ? [s.inChannels, s.outChannels / s.groups, ...s.kernel]
      : [s.outChannels, s.inChannels / s.groups, ...s.kernel],
    offset: [s.batch, s.offsetGroups * K * s.dim, ...grid],
    mask: [s.batch, s.offsetGroups * K, ...grid],
    bias: [s.outChannels],
    y: [s.batch, s.outChannels, ...outSize(s)],
  };
}

interface Data {
  x: Float32Array;
  w: Float32Array;
  offset: Float32Array;
  mask: Float32Array;
  bias: Float32Array;
  gy: Float32Array;
}

/**
 * The inputs of every peer, drawn from one seeded generator of @tvdcn/ops, so that each worker process
 * makes the same numbers. Drawing runs no kernel of the addon (the numbers are made in TypeScript and the
 * CPU tensor adopts them), so an ORT peer's process stays free of our runtime apart from the module.
 */
async function makeData(s: BenchShape, sh: Shapes): Promise<Data> {
  const { Generator, uniform } = await import('@tvdcn/ops');
  const generator = new Generator().manualSeed(7);
  const fill = (shape: readonly number[], lo: number, hi: number): Float32Array => {
    const t = uniform(shape, lo, hi, { generator });
    const a = t.toTypedArray() as Float32Array;
    t.dispose();
    return a;
  };
  const bound = 1 / Math.sqrt(sh.w[1] * numel(s.kernel)); // PyTorch's fan-in bound, both layouts
  return {
    x: fill(sh.x, -1, 1),
    w: fill(sh.w, -bound, bound),
    offset: fill(sh.offset, -2, 2),
    mask: fill(sh.mask, 0, 1),
    bias: fill(sh.bias, -bound, bound),
    gy: fill(sh.y, -1, 1),
  };
}

// ---------------------------------------------------------------------------------------------------
// Our op

type OpFn = (input: Tensor, weight: Tensor, opts: Record<string, unknown>) => Tensor;

async function ourPeer(s: BenchShape, sh: Shapes, d: Data, backward: boolean): Promise<Peer> {
  const ops = await import('@tvdcn/ops');
  const table: Record<string, OpFn> = {
    '1': ops.deformConv1d as OpFn,
    '2': ops.deformConv2d as OpFn,
    '3': ops.deformConv3d as OpFn,
    '1t': ops.deformConvTranspose1d as OpFn,
    '2t': ops.deformConvTranspose2d as OpFn,
    '3t': ops.deformConvTranspose3d as OpFn,
  };
  const op = table[`${s.dim}${s.transposed ? 't' : ''}`];
  const t = (a: Float32Array, shape: number[], requiresGrad = false): Tensor =>
    ops.tensor(a, { shape, dtype: 'float32', requiresGrad });
  const options = (offset: Tensor, mask: Tensor, bias: Tensor): Record<string, unknown> => {
    const opts: Record<string, unknown> = {
      offset,
      mask,
      bias,
      stride: s.stride,
      padding: s.padding,
      dilation: s.dilation,
      groups: s.groups,
    };
    if (s.transposed) opts.outputPadding = s.outputPadding ?? s.inSize.map(() => 0);
    return opts;
  };
  const ins = [d.x, d.w, d.offset, d.mask, d.bias].map((a, i) =>
    t(a, [sh.x, sh.w, sh.offset, sh.mask, sh.bias][i], backward),
  );
  const opts = options(ins[2], ins[3], ins[4]);
  const gy = t(d.gy, sh.y);
  // CPU ops return once their work is queued (the CPU queue): cpuData() waits for it without a copy, so a
  // timed call is the whole computation, as ORT's synchronous run is.
  const forward = (): void => {
    const y = op(ins[0], ins[1], opts);
    y.cpuData();
    y.dispose();
  };
  // As a training step does (tvdcn's optimizers read the gradients through tensor ops; zeroGrad() disposes
  // them): the gradients are waited for, then disposed, and their arrays go back to the CPU array cache for the
  // next step. cpuData() on each would hand its array to the caller for good, so that every call allocated
  // the gradients anew, faulting fresh pages in (docs/perf/cpu.md, session 17, k17c). One native task writes
  // all five gradients and the queue runs its tasks in order: waiting for the bias gradient (cpuData(), no
  // copy; 4 bytes per output channel) waits for all of them.
  const forwardBackward = (): void => {
    const y = op(ins[0], ins[1], opts);
    y.backward(gy);
    y.dispose();
    const grads = ins.map((l) => {
      if (l.grad === null) throw new Error(`bench: a gradient is missing after backward (${s.name})`);
      return l.grad;
    });
    grads[4].cpuData();
    for (const [i, l] of ins.entries()) {
      grads[i].dispose();
      l.grad = null;
    }
  };
  return {
    run: backward ? forwardBackward : forward,
    output: async () => {
      const y = ops.noGrad(() => op(ins[0], ins[1], opts));
      const values = Float32Array.from(y.toTypedArray());
      y.dispose();
      return values;
    },
    dispose: async () => {
      for (const x of [...ins, gy]) x.dispose();
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// ONNX Runtime peers

async function ortPeer(
  s: BenchShape,
  sh: Shapes,
  d: Data,
  kind: 'ort-dcn' | 'ort-conv',
  threads: number,
): Promise<Peer | null> {
  const ort = await import('onnxruntime-node');
  const onnx = await import('../../packages/ops/test/onnx/onnx-model.js');
  const options = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential' as const,
    graphOptimizationLevel: 'all' as const,
  };
  const tensor = (a: Float32Array, shape: number[]) => new ort.Tensor('float32', a, shape);
  let model: Uint8Array;
  let feeds: Record<string, InstanceType<typeof ort.Tensor>>;
  if (kind === 'ort-dcn') {
    // ORT DeformConv is 2D only. A 1D shape runs as 2D with H = 1 (kernel [1, k], pads [0, p, 0, p])
    // and dy = 0 interleaved into the offsets: the same arithmetic. 3D and transposed: no peer.
    if (s.transposed || s.dim === 3) return null;
    const lift = (shape: number[]): number[] => (s.dim === 1 ? [shape[0], shape[1], 1, shape[2]] : shape);
    const lift1 = (v: number[], fill0: number): number[] => (s.dim === 1 ? [fill0, v[0]] : v);
    let offset = d.offset;
    let offsetShape = sh.offset;
    if (s.dim === 1) {
      offsetShape = [sh.offset[0], sh.offset[1] * 2, 1, sh.offset[2]];
      offset = new Float32Array(numel(offsetShape));
      const L = sh.offset[2];
      for (let bc = 0; bc < sh.offset[0] * sh.offset[1]; bc++) {
        offset.set(d.offset.subarray(bc * L, (bc + 1) * L), (2 * bc + 1) * L);
      }
    }
    model = onnx.deformConvModel({
      dtype: 'float32',
      inputShape: lift(sh.x),
      weightShape: lift(sh.w),
      stride: lift1(s.stride, 1),
      padding: lift1(s.padding, 0),
      dilation: lift1(s.dilation, 1),
      groups: s.groups,
      offsetGroups: s.offsetGroups,
      bias: true,
      mask: true,
    });
    feeds = {
      X: tensor(d.x, lift(sh.x)),
      W: tensor(d.w, lift(sh.w)),
      offset: tensor(offset, offsetShape),
      B: tensor(d.bias, sh.bias),
      mask: tensor(d.mask, lift(sh.mask)),
    };
  } else {
    // Dense Conv / ConvTranspose with the same geometry and no offsets: the cost floor of the GEMM part.
    const geometry = {
      dtype: 'float32' as const,
      inputShape: sh.x,
      weightShape: sh.w,
      stride: s.stride,
      padding: s.padding,
      dilation: s.dilation,
      groups: s.groups,
      bias: true,
    };
    model = s.transposed
      ? onnx.convTransposeModel({ ...geometry, outputPadding: s.outputPadding ?? s.inSize.map(() => 0) })
      : onnx.convModel(geometry);
    feeds = { X: tensor(d.x, sh.x), W: tensor(d.w, sh.w), B: tensor(d.bias, sh.bias) };
  }
  const session = await ort.InferenceSession.create(model, options);
  return {
    run: () => session.run(feeds),
    output: async () => (await session.run(feeds)).Y.data as Float32Array,
    dispose: () => session.release(),
  };
}

/** The peer `kind` of shape `s` with `threads` threads, or null when it has no such peer. */
export async function makePeer(s: BenchShape, kind: PeerKind, threads: number): Promise<Peer | null> {
  const sh = shapesOf(s);
  const d = await makeData(s, sh);
  if (kind === 'ours-fwd' || kind === 'ours-fwdbwd') return ourPeer(s, sh, d, kind === 'ours-fwdbwd');
  return ortPeer(s, sh, d, kind, threads);
}

/** Whether shape `s` has the peer `kind` (ORT DeformConv is 2D, non-transposed; 1D runs as 2D). */
export function hasPeer(s: BenchShape, kind: PeerKind): boolean {
  return kind !== 'ort-dcn' || (!s.transposed && s.dim !== 3);
}
