// Host time per call on CUDA (issue 12, session 6): where the transposed forward's host time goes.
// Bundle: node_modules/.bin/esbuild host-probe.ts --bundle --platform=node --format=esm --outfile=probe.mjs
//   --external:@tvdcn/wasm32 (with the createRequire banner of scripts/gpu-check.sh); run with TVDCN_NATIVE_PATH set.
import { add, cudaSynchronize, deformConvTranspose2d, tensor, tidy } from '../../../packages/ops/src/index.js';
const dev = { device: 'cuda:0' as const, dtype: 'float16' as const };
const mk = (shape: number[]) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(
    new Float32Array(n).map((_, i) => ((i * 7) % 13) / 26 - 0.25),
    { shape, ...dev },
  );
};
function probe(name: string, f: () => void, n = 2000) {
  for (let i = 0; i < 50; i++) tidy(f);
  cudaSynchronize(0);
  const hs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) tidy(f);
    hs.push(((performance.now() - t0) / n) * 1000);
    cudaSynchronize(0);
  }
  console.log(`${name.padEnd(40)} host ${Math.min(...hs).toFixed(1)} us/call (min of 5 x ${n})`);
}
const tiny = { x: mk([1, 4, 2, 2]), w: mk([4, 2, 4, 4]), off: mk([1, 32, 2, 2]), m: mk([1, 16, 2, 2]), b: mk([2]) };
const a = mk([16]);
probe('add [16] fp16', () => {
  add(a, a);
});
probe('deformConvTranspose2d tiny fp16', () => {
  deformConvTranspose2d(tiny.x, tiny.w, { offset: tiny.off, mask: tiny.m, bias: tiny.b, stride: 2, padding: 1 });
});
probe('deformConvTranspose2d tiny fp16, no offset/mask/bias', () => {
  deformConvTranspose2d(tiny.x, tiny.w, { stride: 2, padding: 1 });
});
const big = {
  x: mk([8, 256, 32, 32]),
  w: mk([256, 128, 4, 4]),
  off: mk([8, 32, 32, 32]),
  m: mk([8, 16, 32, 32]),
  b: mk([128]),
};
probe(
  'deformConvTranspose2d tr2d-256 fp16 (host)',
  () => {
    deformConvTranspose2d(big.x, big.w, { offset: big.off, mask: big.m, bias: big.b, stride: 2, padding: 1 });
  },
  200,
);
