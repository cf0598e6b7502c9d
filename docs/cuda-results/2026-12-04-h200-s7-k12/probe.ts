// Issue 12, session 7 (helper k12): the host time per call through the ops layer, as a module whose
// bundle can be loaded twice in one process (one bundle per addon and ops-layer version; ops-inproc.mjs).
// Bundled by run.sh's preparation with the createRequire banner of scripts/gpu-check.sh.
import { add, cudaSynchronize, deformConvTranspose2d, tensor, tidy } from '../../../packages/ops/src/index.js';

export function cases(): Record<string, () => void> {
  const dev = { device: 'cuda:0' as const, dtype: 'float16' as const };
  const mk = (shape: number[]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return tensor(
      new Float32Array(n).map((_, i) => ((i * 7) % 13) / 26 - 0.25),
      { shape, ...dev },
    );
  };
  const tiny = { x: mk([1, 4, 2, 2]), w: mk([4, 2, 4, 4]), off: mk([1, 32, 2, 2]), m: mk([1, 16, 2, 2]), b: mk([2]) };
  const a = mk([16]);
  const big = {
    x: mk([8, 256, 32, 32]),
    w: mk([256, 128, 4, 4]),
    off: mk([8, 32, 32, 32]),
    m: mk([8, 16, 32, 32]),
    b: mk([128]),
  };
  return {
    add: () => tidy(() => void add(a, a)),
    tiny: () =>
      tidy(
        () =>
          void deformConvTranspose2d(tiny.x, tiny.w, {
            offset: tiny.off,
            mask: tiny.m,
            bias: tiny.b,
            stride: 2,
            padding: 1,
          }),
      ),
    tr2d: () =>
      tidy(
        () =>
          void deformConvTranspose2d(big.x, big.w, {
            offset: big.off,
            mask: big.m,
            bias: big.b,
            stride: 2,
            padding: 1,
          }),
      ),
    sync: () => cudaSynchronize(0),
  };
}
