// Session 16 (copied from session 15): sha256 of the forward and all five gradients of a few deformable
// convolutions on CUDA, deterministic mode, float32 (tf32x3) / float16 / bfloat16, to compare two builds bitwise.
import { createHash } from 'node:crypto';
import {
  deformConv1d,
  deformConv2d,
  deformConv3d,
  deformConvTranspose2d,
  grad,
  setDeterministic,
  tensor,
  tidy,
  type DType,
  type Tensor,
} from '../../../packages/ops/src/index.js';

function vals(n: number, lo: number, hi: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((hi - lo) * x) / 4294967296;
  }
  return out;
}
const prod = (a: number[]) => a.reduce((x, v) => x * v, 1);
interface C {
  name: string;
  dim: 1 | 2 | 3;
  tr?: boolean;
  B: number;
  ci: number;
  co: number;
  size: number[];
  k: number;
  og: number;
  s?: number;
}
const cases: C[] = [
  { name: 'r50-c5ish', dim: 2, B: 2, ci: 512, co: 512, size: [16, 16], k: 3, og: 1 },
  { name: 'r50-c3ish', dim: 2, B: 2, ci: 128, co: 128, size: [40, 36], k: 3, og: 1 },
  { name: 'edvr', dim: 2, B: 1, ci: 64, co: 64, size: [48, 40], k: 3, og: 8 },
  { name: '1d', dim: 1, B: 2, ci: 256, co: 256, size: [700], k: 3, og: 1 },
  { name: '3d', dim: 3, B: 1, ci: 64, co: 64, size: [8, 20, 18], k: 3, og: 1 },
  { name: 'odd', dim: 2, B: 3, ci: 7, co: 13, size: [11, 9], k: 3, og: 1 },
  { name: 'tr2d', dim: 2, tr: true, B: 2, ci: 64, co: 32, size: [16, 16], k: 4, og: 1, s: 2 },
];
setDeterministic(true);
for (const dtype of ['float32', 'float16', 'bfloat16'] as DType[]) {
  for (const c of cases) {
    tidy(() => {
      const K = c.k ** c.dim,
        st = c.s ?? 1,
        p = 1;
      const out = c.size.map((n) => (c.tr ? (n - 1) * st - 2 * p + c.k : Math.floor((n + 2 * p - c.k) / st) + 1));
      const grid = c.tr ? c.size : out;
      const o = { device: 'cuda:0' as const, dtype };
      const w = c.tr ? [c.ci, c.co, ...Array(c.dim).fill(c.k)] : [c.co, c.ci, ...Array(c.dim).fill(c.k)];
      const xs = [
        tensor(vals(c.B * c.ci * prod(c.size), -1, 1, 1), { shape: [c.B, c.ci, ...c.size], ...o }),
        tensor(vals(prod(w), -0.05, 0.05, 2), { shape: w, ...o }),
        tensor(vals(c.B * c.og * c.dim * K * prod(grid), -2, 2, 3), { shape: [c.B, c.og * c.dim * K, ...grid], ...o }),
        tensor(vals(c.B * c.og * K * prod(grid), 0, 1, 4), { shape: [c.B, c.og * K, ...grid], ...o }),
        tensor(vals(c.co, -1, 1, 5), { shape: [c.co], ...o }),
      ];
      for (const t of xs) t.requiresGrad = true;
      const opts = { offset: xs[2], mask: xs[3], bias: xs[4], stride: st, padding: p };
      const y: Tensor = c.tr
        ? deformConvTranspose2d(xs[0], xs[1], opts)
        : (c.dim === 1 ? deformConv1d : c.dim === 2 ? deformConv2d : deformConv3d)(xs[0], xs[1], opts);
      const gy = tensor(vals(y.numel, -1, 1, 6), { shape: y.shape, ...o });
      const gs = grad(y, xs, gy) as Tensor[];
      const h = (t: Tensor) => {
        const a = t.toTypedArray();
        return createHash('sha256')
          .update(Buffer.from(a.buffer, a.byteOffset, a.byteLength))
          .digest('hex')
          .slice(0, 12);
      };
      console.log(`${c.name} ${dtype} y ${h(y)} ${gs.map(h).join(' ')}`);
    });
  }
}
