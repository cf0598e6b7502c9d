// Session 21: host time of one forward call on CUDA (r50-c5 and others), per call, to find the host gap.
import { deformConv2d, tensor, tidy, cudaSynchronize, type DType } from '../../../packages/ops/src/index.js';
import { getCudaBinding } from '../../../packages/ops/src/native/cuda-binding.js';

const b = getCudaBinding('bench');
// VIEWS=1: the view form of the deform conv bindings (as before session 21's buffer form).
if (process.env.VIEWS === '1') (b as { deformConvBuffers?: boolean }).deformConvBuffers = false;
const shapes: Record<string, [number, number, number]> = {
  'r50-c5': [16, 512, 16],
  'r50-c4': [16, 256, 32],
  small: [1, 64, 8],
};
const N = Number(process.env.N ?? 300);
for (const name of (process.env.SHAPES ?? 'r50-c5,small').split(',')) {
  const [B, C, S] = shapes[name];
  for (const dtype of (process.env.DTYPES ?? 'float16').split(',') as DType[]) {
    const o = { device: 'cuda:0' as const, dtype };
    const x = tensor(new Float32Array(B * C * S * S).fill(0.5), { shape: [B, C, S, S], ...o });
    const w = tensor(new Float32Array(C * C * 9).fill(0.01), { shape: [C, C, 3, 3], ...o });
    const off = tensor(new Float32Array(B * 18 * S * S).fill(0.3), { shape: [B, 18, S, S], ...o });
    const m = tensor(new Float32Array(B * 9 * S * S).fill(0.7), { shape: [B, 9, S, S], ...o });
    const bias = tensor(new Float32Array(C).fill(0.1), { shape: [C], ...o });
    const host: number[] = [],
      gpu: number[] = [],
      jsOnly: number[] = [];
    for (let i = 0; i < N; i++) {
      tidy(() => {
        cudaSynchronize(0);
        const e0 = b._cudaEventRecord(0);
        const h0 = performance.now();
        deformConv2d(x, w, { offset: off, mask: m, bias, stride: 1, padding: 1 });
        const h1 = performance.now();
        const e1 = b._cudaEventRecord(0);
        host.push(h1 - h0);
        gpu.push(b._cudaEventElapsedMs(e0, e1));
      });
    }
    const q = (xs: number[], f: number) => [...xs].sort((a, c) => a - c)[Math.floor(f * (xs.length - 1))];
    console.log(
      `${name} ${dtype}: host median ${(q(host, 0.5) * 1000).toFixed(1)} us (p10 ${(q(host, 0.1) * 1000).toFixed(1)}, p90 ${(q(host, 0.9) * 1000).toFixed(1)}); gpu median ${(q(gpu, 0.5) * 1000).toFixed(1)} us (p10 ${(q(gpu, 0.1) * 1000).toFixed(1)})`,
    );
    for (const t of [x, w, off, m, bias]) t.dispose();
  }
}
