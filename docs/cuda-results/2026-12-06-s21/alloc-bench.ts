// Session 21: host cost of a CUDA allocation at each layer, and of a small op, per call (medians of 20 x 2000).
import { add, tensor, tidy, zeros } from '../../../packages/ops/src/index.js';
import { CudaStorage } from '../../../packages/ops/src/backends/cuda/cuda-storage.js';
import { getCudaBinding } from '../../../packages/ops/src/native/cuda-binding.js';

const b = getCudaBinding('bench');
const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[xs.length >> 1] as number;
function per(what: string, n: number, f: () => void): void {
  const runs: number[] = [];
  for (let r = 0; r < 20; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) f();
    runs.push(((performance.now() - t0) / n) * 1000);
  }
  console.log(`${what.padEnd(44)} ${median(runs).toFixed(2)} us (min ${Math.min(...runs).toFixed(2)})`);
}
const N = 2000;
per('cudaBufferAlloc + cudaBufferFree (native)', N, () => b.cudaBufferFree(b.cudaBufferAlloc(0, 'float16', 4096)));
per('CudaStorage.allocate + release (JS + native)', N, () => {
  CudaStorage.allocate(b, 'cuda:0', 'float16', 4096).retain().release();
});
per('zeros([4096]) + dispose (a fill launch)', N, () =>
  zeros([4096], { device: 'cuda:0', dtype: 'float16' }).dispose(),
);
const x = tensor(new Float32Array(4096), { device: 'cuda:0', dtype: 'float16' });
per('add(x, 1) + dispose (one launch)', N, () => add(x, 1).dispose());
per('tidy(() => add(add(x, 1), 2))', N, () => tidy(() => add(add(x, 1), 2)));
