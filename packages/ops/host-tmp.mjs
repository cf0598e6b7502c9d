import { deformConv2d, randn, tidy } from '@tvdcn/ops';
const B = 1, C = 2, H = 3, W = 3, K = 9, OG = 1;
const x = randn([B, C, H, W]); const w = randn([C, C, 3, 3]);
const off = randn([B, OG * 2 * K, H, W]); const m = randn([B, OG * K, H, W]); const bias = randn([C]);
const opts = { offset: off, mask: m, bias, padding: 1 };
for (let i = 0; i < 5000; i++) tidy(() => deformConv2d(x, w, opts));
const t = [];
for (let r = 0; r < 5; r++) {
  const t0 = performance.now();
  for (let i = 0; i < 5000; i++) tidy(() => deformConv2d(x, w, opts));
  t.push((performance.now() - t0) / 5000 * 1000);
}
console.log('us per call (tiny CPU op):', t.map((v) => v.toFixed(1)).join(' '));
