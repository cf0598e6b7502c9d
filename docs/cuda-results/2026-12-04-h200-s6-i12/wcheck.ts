// Windowed col2im check (issue 12, session 6): CUDA float32/float16 against the CPU float64 on shapes that
// take the windowed path (>= 32 channels per offset group), offsets partly beyond the window margin.
import {
  deformConv2d,
  deformConvTranspose2d,
  grad,
  tensor,
  tidy,
  type Tensor,
} from '../../../packages/ops/src/index.js';
let seed = 12345;
const rnd = (n: number, lo: number, hi: number) => {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((hi - lo) * seed) / 4294967296;
  }
  return out;
};
const relErr = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let num = 0,
    den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-300));
};
interface C {
  name: string;
  tr: boolean;
  B: number;
  ci: number;
  co: number;
  size: number[];
  k: number;
  s: number;
  p: number;
  d: number;
  og: number;
  mg: number;
  off: number;
}
const cases: C[] = [
  {
    name: 'tr2d 64->64 12x12 k4 s2 og1',
    tr: true,
    B: 2,
    ci: 64,
    co: 64,
    size: [12, 12],
    k: 4,
    s: 2,
    p: 1,
    d: 1,
    og: 1,
    mg: 1,
    off: 3,
  },
  {
    name: 'tr2d 64->64 9x13 k3 s2 d2 og2 mg1',
    tr: true,
    B: 2,
    ci: 64,
    co: 64,
    size: [9, 13],
    k: 3,
    s: 2,
    p: 1,
    d: 2,
    og: 2,
    mg: 1,
    off: 1.5,
  },
  {
    name: 'conv2d 64 20x20 k3 og2 mg2 (input grad)',
    tr: false,
    B: 2,
    ci: 64,
    co: 32,
    size: [20, 20],
    k: 3,
    s: 1,
    p: 1,
    d: 1,
    og: 2,
    mg: 2,
    off: 4,
  },
];
for (const dtype of ['float32', 'float16'] as const) {
  for (const c of cases) {
    const yS = c.tr ? c.size : c.size.map((n) => Math.floor((n + 2 * c.p - c.d * (c.k - 1) - 1) / c.s) + 1);
    const K = c.k * c.k;
    const xs = rnd(c.B * c.ci * c.size[0] * c.size[1], -1, 1);
    const ws = rnd(c.ci * c.co * K, -0.2, 0.2);
    const offs = rnd(c.B * c.og * 2 * K * yS[0] * yS[1], -c.off, c.off);
    const ms = rnd(c.B * c.mg * K * yS[0] * yS[1], 0, 1);
    const bs = rnd(c.co, -1, 1);
    const round = (v: Float64Array) =>
      dtype === 'float16'
        ? Float64Array.from(tensor(v, { dtype: 'float16', device: 'cuda:0' }).toTypedArray())
        : Float64Array.from(v, Math.fround);
    const run = (device: 'cpu' | 'cuda:0', dt: 'float64' | 'float32' | 'float16') =>
      tidy(() => {
        const o = { device, dtype: dt };
        const x = tensor(round(xs), { shape: [c.B, c.ci, ...c.size], ...o });
        const w = tensor(round(ws), { shape: c.tr ? [c.ci, c.co, c.k, c.k] : [c.co, c.ci, c.k, c.k], ...o });
        const off = tensor(round(offs), { shape: [c.B, c.og * 2 * K, ...yS], ...o });
        const m = tensor(round(ms), { shape: [c.B, c.mg * K, ...yS], ...o });
        const b = tensor(round(bs), { shape: [c.co], ...o });
        x.requiresGrad = true;
        const opts = { offset: off, mask: m, bias: b, stride: c.s, padding: c.p, dilation: c.d };
        const y: Tensor = c.tr ? deformConvTranspose2d(x, w, opts) : deformConv2d(x, w, opts);
        const gy = tensor(
          rnd(y.numel, -1, 1).map((v) => v),
          { shape: y.shape, ...o },
        );
        seed = 777;
        const [gx] = grad(y, [x], gy);
        return [Float64Array.from(y.toTypedArray()), Float64Array.from(gx.toTypedArray())];
      });
    const s0 = seed;
    seed = 1;
    const ref = run('cpu', 'float64');
    seed = 1;
    const got = run('cuda:0', dtype);
    seed = s0;
    console.log(
      `${dtype} ${c.name.padEnd(42)} fwd ${relErr(got[0], ref[0]).toExponential(2)}  input grad ${relErr(got[1], ref[1]).toExponential(2)}`,
    );
  }
}
