// SPDX-License-Identifier: MIT
// Memory without tidy(): tensors nobody disposes are reclaimed by the garbage collector, also inside a
// synchronous loop (where finalizers never run), and memory()'s counters do not drift.

import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { add, memory, zeros } from '../../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));

describe('tensors dropped without dispose()', () => {
  it('are reclaimed inside a synchronous loop', () => {
    // 100 iterations drop 2 tensors of 4 MB each: 800 MB if nothing were reclaimed before the loop ends
    // (as when the storage waited for a finalizer). V8 counts the typed arrays as external memory and
    // collects under that pressure. Each iteration synchronises once, as a training step does with
    // loss.item(): queued CPU work holds its arrays until it ran, and the CPU queue does not yet limit how
    // much work may be pending (docs/perf/memory.md).
    const base = process.memoryUsage().arrayBuffers;
    let peak = 0;
    for (let i = 0; i < 100; i++) {
      const t = zeros([1 << 20]);
      add(t, 1).cpuData();
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
    }
    expect(peak).toBeLessThan(300 * 2 ** 20);
    expect(memory().tensors).toBeGreaterThanOrEqual(0);
  });

  it('are counted as freed once collected, graphs included (no drift in memory())', () => {
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(here, 'gc-reclaim.program.ts')], {
      encoding: 'utf8',
      timeout: 60_000,
      cwd: here,
    });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    const { before, during, after } = JSON.parse(r.stdout) as Record<string, ReturnType<typeof memory>>;
    expect(during.tensors).toBeGreaterThan(before.tensors + 100); // dropped, not yet finalized
    expect(after).toEqual(before);
  });
});
