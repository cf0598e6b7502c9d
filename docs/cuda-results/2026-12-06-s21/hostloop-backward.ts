// Session 21: host and GPU time of one backward (grad of a deformable convolution's output for all five
// leaves) on CUDA, against the sum of its phases: the backward's gap between e0 and e1 beyond its kernels.
import {
  cudaSynchronize,
  deformConv2d,
  grad,
  tensor,
  tidy,
  type DType,
  type Tensor,
} from '../../../packages/ops/src/index.js';
import { getCudaBinding } from '../../../packages/ops/src/native/cuda-binding.js';

const b = getCudaBinding('bench');
if (process.env.VIEWS === '1') (b as { deformConvBuffers?: boolean }).deformConvBuffers = false;
const shapes: Record<string, [number, number, number]> = {
  'r50-c5': [16, 512, 16],
  'r50-c3': [16, 128, 64],
  small: [1, 64, 8],
};
const N = Number(process.env.N ?? 200);
const q = (xs: number[], f: number) => [...xs].sort((a, c) => a - c)[Math.floor(f * (xs.length - 1))] as number;
for (const name of (process.env.SHAPES ?? 'r50-c5,r50-c3,small').split(',')) {
  const [B, C, S] = shapes[name] as [number, number, number];
  for (const dtype of (process.env.DTYPES ?? 'float16').split(',') as DType[]) {
    const o = { device: 'cuda:0' as const, dtype };
    const mk = (n: number, v: number, shape: number[]) =>
      tensor(
        new Float32Array(n).map((_, i) => (v * ((i % 7) - 3)) / 3),
        { shape, ...o },
      );
    const x = mk(B * C * S * S, 0.5, [B, C, S, S]);
    const w = mk(C * C * 9, 0.01, [C, C, 3, 3]);
    const off = mk(B * 18 * S * S, 0.3, [B, 18, S, S]);
    const m = mk(B * 9 * S * S, 0.7, [B, 9, S, S]);
    const bias = mk(C, 0.1, [C]);
    const gOut = mk(B * C * S * S, 0.2, [B, C, S, S]);
    const host: number[] = [],
      gpu: number[] = [];
    let phases = 0;
    for (let i = 0; i < N; i++) {
      tidy(() => {
        const leaves = [x, w, off, m, bias].map((t) => t.detach());
        for (const t of leaves) t.requiresGrad = true;
        const y = deformConv2d(leaves[0] as Tensor, leaves[1] as Tensor, {
          offset: leaves[2],
          mask: leaves[3],
          bias: leaves[4],
          stride: 1,
          padding: 1,
        });
        const profile = i === N - 1;
        cudaSynchronize(0);
        if (profile) {
          b._cudaProfileReport();
          b._cudaProfile(true);
        }
        const e0 = b._cudaEventRecord(0);
        const h0 = performance.now();
        grad(y, leaves, gOut);
        const h1 = performance.now();
        const e1 = b._cudaEventRecord(0);
        host.push(h1 - h0);
        gpu.push(b._cudaEventElapsedMs(e0, e1));
        if (profile) {
          const r = b._cudaProfileReport() as Record<string, number>;
          b._cudaProfile(false);
          phases = Object.values(r).reduce((a, v) => a + v, 0);
          console.log(
            `  phases: ${Object.entries(r)
              .map(([k, v]) => `${k} ${(v * 1000).toFixed(1)}`)
              .join(', ')}`,
          );
        }
      });
    }
    console.log(
      `${name} ${dtype} backward: host median ${(q(host, 0.5) * 1000).toFixed(1)} us (p10 ${(q(host, 0.1) * 1000).toFixed(1)}); gpu median ${(q(gpu, 0.5) * 1000).toFixed(1)} us (p10 ${(q(gpu, 0.1) * 1000).toFixed(1)}); phases (last call, profiled) ${(phases * 1000).toFixed(1)} us`,
    );
    for (const t of [x, w, off, m, bias, gOut]) t.dispose();
  }
}
