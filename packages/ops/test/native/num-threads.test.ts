// SPDX-License-Identifier: MIT
// Issue 9, finding 6: TVDCN_NUM_THREADS of 0, -1, abc, 3.5 or 10000 no longer silently becomes the core
// count, and 1024 no longer starts 1,023 threads: bad values are ignored and large ones capped at the core
// count, both with a process warning; the addon and the loader apply the same rule.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resolveNumThreads } from '../../src/native/num-threads.js';
import { addonBuilt, addonPath } from './helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', '..', 'dist', 'index.js');

/** getNumThreads() of the addon, and the stderr of a child that loaded it through @tvdcn/ops, for `value`. */
function child(value: string): { threads: number; stderr: string } {
  const script = `import('${dist}').then((ops) => { ops.backendInfo(); console.log(require(${JSON.stringify(addonPath)}).getNumThreads()); })`;
  const r = spawnSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    env: { ...process.env, TVDCN_NUM_THREADS: value, TVDCN_NATIVE_PATH: addonPath },
  });
  expect(r.status, r.stderr).toBe(0);
  return { threads: Number(r.stdout.trim()), stderr: r.stderr };
}

describe('TVDCN_NUM_THREADS', () => {
  it.each(['0', '-1', 'abc', '3.5', '', ' 2', '1e3'])('%j is ignored with a warning: all cores', (value) => {
    const r = resolveNumThreads(value, 8);
    expect(r.threads).toBe(8);
    expect(r.warning).toMatch(/is not a positive integer: it is ignored, the CPU kernels use all 8 cores/);
  });
  it.each(['10000', '1024', '9'])('%s is capped at the core count with a warning', (value) => {
    const r = resolveNumThreads(value, 8);
    expect(r).toEqual({
      threads: 8,
      warning: `TVDCN_NUM_THREADS=${value} is more than the 8 cores of this machine: the CPU kernels use 8 threads`,
    });
  });
  it('a count within the cores is used as given, silently; unset means all cores', () => {
    expect(resolveNumThreads('3', 8)).toEqual({ threads: 3, warning: null });
    expect(resolveNumThreads(undefined, 8)).toEqual({ threads: 8, warning: null });
  });

  describe.runIf(addonBuilt && existsSync(dist))('in a process (addon and loader agree)', () => {
    const cores = Math.min(cpus().length, 1024);
    it.each([
      ['abc', cores, /not a positive integer/],
      ['0', cores, /not a positive integer/],
      ['1024', cores, cores < 1024 ? /more than the/ : /^$/],
      ['1', 1, /^$/],
    ])('TVDCN_NUM_THREADS=%s gives %i threads', (value, threads, warning) => {
      const r = child(value);
      expect(r.threads).toBe(threads);
      if (warning.source === '^$') expect(r.stderr).not.toMatch(/TVDCN_NUM_THREADS/);
      else expect(r.stderr).toMatch(warning);
    });
  });
});
