// SPDX-License-Identifier: MIT
// Issue 10, memory without tidy(): the training loop written as in PyTorch (no tidy(), no dispose()) peaks
// at most 2x the resident memory of the same loop with each step in tidy(). Each runs in its own process;
// the exact figures are in docs/perf/memory.md. Before the fix the loop without tidy() grew by ~2.7 MB per
// step (nothing was freed until the loop ended).

import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
// Under user-mode emulation (the arm64 suite runs Node through qemu-aarch64, scripts/platforms/) a child
// process of process.execPath cannot start: measure only where Node can spawn itself.
const canSpawnNode = spawnSync(process.execPath, ['-e', '0']).status === 0;

interface Run {
  mode: string;
  maxRssKb: number;
  first: number;
  last: number;
}

function train(mode: 'none' | 'tidy', steps: number): Run {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(here, 'training-memory.program.ts'), mode, `${steps}`],
    {
      encoding: 'utf8',
      timeout: 110_000,
      cwd: here,
    },
  );
  expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
  return JSON.parse(r.stdout) as Run;
}

describe.runIf(canSpawnNode)('training without tidy()', () => {
  it('peaks at most 2x the RSS of the tidy() version, and trains the same', () => {
    const steps = 200;
    const none = train('none', steps);
    const tidied = train('tidy', steps);
    expect(none.last).toBe(tidied.last); // the same computation
    expect(none.last).toBeLessThan(none.first);
    expect(none.maxRssKb).toBeLessThanOrEqual(2 * tidied.maxRssKb);
  }, 240_000);
});
