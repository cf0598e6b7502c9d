// SPDX-License-Identifier: MIT
// Which @tvdcn/wasm32 build the loader picks (src/native/load-wasm.ts), without loading one: threads in
// Node unless TVDCN_NUM_THREADS or the machine leaves one thread; in browsers only on a cross-origin-
// isolated page with SharedArrayBuffer, with navigator.hardwareConcurrency threads up to 16.
import { describe, expect, it } from 'vitest';
import { BROWSER_MAX_THREADS, browserThreading, nodeThreading } from '../../src/native/load-wasm.js';

describe('the WebAssembly build for this host', () => {
  it('Node: the threads build with TVDCN_NUM_THREADS or every core', () => {
    expect(nodeThreading(undefined, 8)).toMatchObject({ variant: 'threads', threads: 8 });
    expect(nodeThreading('3', 8)).toMatchObject({ variant: 'threads', threads: 3 });
    expect(nodeThreading('64', 8)).toMatchObject({ variant: 'threads', threads: 8 });
    expect(nodeThreading('abc', 4)).toMatchObject({ variant: 'threads', threads: 4 });
  });

  it('Node: the one-thread build when one thread is all there is to use', () => {
    expect(nodeThreading('1', 8)).toEqual({ variant: 'single', threads: 1, reason: 'TVDCN_NUM_THREADS=1' });
    expect(nodeThreading(undefined, 1)).toEqual({ variant: 'single', threads: 1, reason: 'one core' });
  });

  it('browsers: threads only on a cross-origin-isolated page', () => {
    const navigator = { hardwareConcurrency: 6 };
    expect(browserThreading({ crossOriginIsolated: true, SharedArrayBuffer, navigator })).toMatchObject({
      variant: 'threads',
      threads: 6,
      reason: 'cross-origin isolated page (6 threads)',
    });
    const plain = browserThreading({ crossOriginIsolated: false, SharedArrayBuffer, navigator });
    expect(plain).toMatchObject({ variant: 'single', threads: 1 });
    expect(plain.reason).toMatch(/not cross-origin isolated.*Cross-Origin-Opener-Policy: same-origin/);
    expect(browserThreading({ navigator })).toMatchObject({ variant: 'single', threads: 1 });
    expect(browserThreading({ crossOriginIsolated: true, navigator })).toEqual({
      variant: 'single',
      threads: 1,
      reason: 'this host has no SharedArrayBuffer',
    });
  });

  it('browsers: at most 16 threads, and one core means one thread', () => {
    const host = (hardwareConcurrency: number) => ({
      crossOriginIsolated: true,
      SharedArrayBuffer,
      navigator: { hardwareConcurrency },
    });
    expect(browserThreading(host(64)).threads).toBe(BROWSER_MAX_THREADS);
    expect(BROWSER_MAX_THREADS).toBe(16);
    expect(browserThreading(host(1))).toMatchObject({ variant: 'single', threads: 1 });
  });
});
