// SPDX-License-Identifier: MIT
// Run by gc-reclaim.test.ts in its own process (node --expose-gc --import tsx): tensors and graphs dropped
// without dispose() are freed by the garbage collector, and memory()'s counters come back to where they
// were. Prints one JSON line.
import { memory, mul, sigmoid, sum, tensor, zeros } from '../../src/index.js';

declare const gc: () => void;

function drop(): void {
  const w = tensor([0.5, -0.5, 2], { requiresGrad: true });
  for (let i = 0; i < 200; i++) {
    zeros([1000]); // a plain tensor
    zeros([10]).reshape([2, 5]); // a view and its base
    sum(sigmoid(mul(w, i))); // a graph with saved tensors and no backward
    const loss = sum(mul(sigmoid(w), w)); // a graph with a backward
    loss.backward();
  }
  w.grad?.dispose();
  w.dispose();
}

const before = memory();
drop();
const during = memory();
for (let i = 0; i < 10; i++) {
  gc();
  // Finalizers run as tasks between event-loop turns.
  await new Promise((resolve) => setImmediate(resolve));
}
console.log(JSON.stringify({ before, during, after: memory() }));
