// SPDX-License-Identifier: MIT
// The loader's choices: forced cpu, forced cuda without a GPU, explicit paths, missing binaries, ABI checks.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { NativeLoadError } from '@tvdcn/shape';
import { describe, expect, it } from 'vitest';
import { ABI_VERSION, type NativeBinding } from '../../src/native/binding.js';
import {
  defaultEnvironment,
  loadBinding,
  parseBackendRequest,
  type LoaderEnvironment,
} from '../../src/native/load-binding.js';
import { cudaUnavailability } from '../../src/native/cuda-availability.js';
import { NATIVE_PACKAGES, platformKey } from '../../src/native/platform.js';

const require = createRequire(import.meta.url);
const root = join(__dirname, '..', '..', '..', '..');
// TVDCN_NATIVE_PATH: a cross-built binary tested under an emulator (scripts/platforms/test-linux-arm64.sh).
const cpuBuild = process.env.TVDCN_NATIVE_PATH ?? join(root, 'native', 'build', 'cpu', 'Release', 'tvdcn_cpu.node');
const cudaBuild = join(root, 'native', 'build', 'cuda', 'Release', 'tvdcn_cuda.node');

/** A fake binary with the given ABI and device count. */
function fakeBinding(opts: { abi?: number; withCuda?: boolean; devices?: number; reason?: string }): NativeBinding {
  return {
    abiVersion: () => opts.abi ?? ABI_VERSION,
    buildInfo: () => ({
      withCuda: opts.withCuda ?? false,
      cudaVersion: opts.withCuda ? 13000 : -1,
      cudaArchList: opts.withCuda ? '90' : '',
      hardwareConcurrency: 2,
      compiler: 'fake',
    }),
    cudaDeviceCount: () => ({
      count: opts.devices ?? 0,
      error: opts.devices ? 0 : 35,
      reason: opts.reason ?? (opts.devices ? '' : 'cudaErrorInsufficientDriver: no driver'),
    }),
  } as unknown as NativeBinding;
}

/** An environment where `files` maps package specifiers to what loading them gives. */
function fakeEnv(
  requested: 'auto' | 'cpu' | 'cuda',
  files: Record<string, NativeBinding | Error>,
  nativePath?: string,
): LoaderEnvironment {
  return {
    requested,
    nativePath,
    platform: 'linux-x64-gnu',
    resolve: (spec) => {
      if (!(spec in files))
        throw Object.assign(new Error(`Cannot find module '${spec}'`), { code: 'MODULE_NOT_FOUND' });
      return `/fake/${spec}`;
    },
    exists: (path) => path.slice('/fake/'.length) in files,
    load: (path) => {
      const f = files[path.slice('/fake/'.length)];
      if (!f) throw new Error(`cannot open ${path}`);
      if (f instanceof Error) throw f;
      return f;
    },
    opsVersion: null,
  };
}

const CPU = '@tvdcn/linux-x64-gnu/tvdcn.node';
const CUDA = '@tvdcn/linux-x64-gnu-cuda/tvdcn.node';

describe('loader with fake binaries', () => {
  const env = fakeEnv;

  it('auto: picks CUDA when a device is usable', () => {
    const l = loadBinding(env('auto', { [CUDA]: fakeBinding({ withCuda: true, devices: 2 }), [CPU]: fakeBinding({}) }));
    expect(l.candidate).toBe('@tvdcn/linux-x64-gnu-cuda');
    expect(l.variant).toBe('cuda');
    expect(l.cudaDeviceCount).toBe(2);
    expect(l.attempts.at(-1)).toMatchObject({ status: 'loaded', reason: '2 CUDA device(s) usable' });
  });

  it('auto: falls back to the CPU package without a GPU and says why', () => {
    const l = loadBinding(env('auto', { [CUDA]: fakeBinding({ withCuda: true, devices: 0 }), [CPU]: fakeBinding({}) }));
    expect(l.candidate).toBe('@tvdcn/linux-x64-gnu');
    expect(l.cudaDeviceCount).toBe(0);
    const skipped = l.attempts.find((a) => a.candidate === '@tvdcn/linux-x64-gnu-cuda');
    expect(skipped).toMatchObject({ status: 'skipped' });
    expect(skipped?.reason).toMatch(/no usable GPU: cudaErrorInsufficientDriver/);
  });

  it('auto: uses the CUDA superset in CPU mode when the CPU package is missing', () => {
    const l = loadBinding(env('auto', { [CUDA]: fakeBinding({ withCuda: true, devices: 0 }) }));
    expect(l.candidate).toBe('@tvdcn/linux-x64-gnu-cuda');
    expect(l.cudaDeviceCount).toBe(0);
    expect(l.attempts.at(-1)?.reason).toMatch(/CPU kernels of the CUDA binary/);
  });

  it('cpu: never looks at CUDA', () => {
    const l = loadBinding(env('cpu', { [CUDA]: fakeBinding({ withCuda: true, devices: 1 }), [CPU]: fakeBinding({}) }));
    expect(l.candidate).toBe('@tvdcn/linux-x64-gnu');
    expect(l.attempts[0]).toMatchObject({
      candidate: '@tvdcn/linux-x64-gnu-cuda',
      status: 'skipped',
      reason: 'TVDCN_BACKEND=cpu',
    });
  });

  it('cuda without a GPU: a clear error naming the reason and the remedy', () => {
    const e = env('cuda', { [CUDA]: fakeBinding({ withCuda: true, devices: 0 }), [CPU]: fakeBinding({}) });
    expect(() => loadBinding(e)).toThrow(NativeLoadError);
    expect(() => loadBinding(e)).toThrow(/no usable GPU: cudaErrorInsufficientDriver/);
    expect(() => loadBinding(e)).toThrow(/TVDCN_BACKEND=cuda needs an NVIDIA driver/);
  });

  it('cuda without the CUDA package: error lists the attempt', () => {
    const e = env('cuda', { [CPU]: fakeBinding({}) });
    expect(() => loadBinding(e)).toThrow(/@tvdcn\/linux-x64-gnu-cuda: failed: package not installed/);
  });

  it('nothing installed: one error listing every attempt and the build command', () => {
    const e = env('auto', {});
    let message = '';
    try {
      loadBinding(e);
    } catch (err) {
      expect(err).toBeInstanceOf(NativeLoadError);
      expect((err as NativeLoadError).code).toBe('ERR_DCN_NATIVE_LOAD');
      message = (err as Error).message;
    }
    expect(message).toMatch(/runtime linux-x64-gnu/);
    expect(message).toMatch(/@tvdcn\/linux-x64-gnu-cuda: failed: package not installed/);
    expect(message).toMatch(/@tvdcn\/linux-x64-gnu: failed: package not installed/);
    expect(message).toMatch(/Possible solutions:/);
    expect(message).toMatch(/npm install --include=optional @tvdcn\/ops/);
    expect(message).toMatch(/pnpm --filter @tvdcn\/native-src build/);
  });

  it('a binary that fails to load is reported with its error, glibc hint included', () => {
    const e = env('auto', { [CPU]: new Error("/lib/libstdc++.so.6: version `GLIBCXX_3.4.32' not found") });
    expect(() => loadBinding(e)).toThrow(/GLIBCXX_3\.4\.32/);
    expect(() => loadBinding(e)).toThrow(/older than the prebuilt binary needs/);
  });

  it('refuses a binary of another ABI version', () => {
    const e = env('cpu', { [CPU]: fakeBinding({ abi: ABI_VERSION + 1 }) });
    expect(() => loadBinding(e)).toThrow(new RegExp(`ABI version ${ABI_VERSION + 1} does not match`));
  });

  it('refuses a file that is not a tvdcn binary', () => {
    const e = env('cpu', { [CPU]: {} as NativeBinding });
    expect(() => loadBinding(e)).toThrow(/not a tvdcn binary/);
  });

  it('TVDCN_NATIVE_PATH that does not load is an error, with no silent fallback', () => {
    const e = env('auto', { [CPU]: fakeBinding({}) }, '/nonexistent/tvdcn.node');
    expect(() => loadBinding(e)).toThrow(/TVDCN_NATIVE_PATH \(\/nonexistent\/tvdcn\.node\): failed/);
  });

  it('TVDCN_BACKEND values are checked', () => {
    expect(parseBackendRequest(undefined)).toBe('auto');
    expect(parseBackendRequest(' CPU ')).toBe('cpu');
    expect(parseBackendRequest('cuda')).toBe('cuda');
    expect(parseBackendRequest('wasm')).toBe('wasm');
    expect(() => parseBackendRequest('gpu')).toThrow(
      /TVDCN_BACKEND: expected 'auto', 'cpu', 'cuda' or 'wasm', but got 'gpu'/,
    );
  });
});

describe('platforms without a native package, and the WebAssembly fallback', () => {
  const wasm = fakeBinding({});
  const withWasm = (e: LoaderEnvironment, ok = true): LoaderEnvironment => ({
    ...e,
    loadWasm: () => {
      if (!ok) throw Object.assign(new Error("Cannot find module '@tvdcn/wasm32'"), { code: 'MODULE_NOT_FOUND' });
      const info = { variant: 'single' as const, reason: 'fake', numThreads: 1, workers: 0, runningWorkers: 0 };
      return {
        binding: wasm,
        location: '/fake/@tvdcn/wasm32/bin/tvdcn.wasm',
        info: () => info,
        whenRunning: async () => {},
        workerRuns: () => 0,
      };
    },
  });

  it('an unsupported platform takes the WebAssembly build and says so once, naming the supported ones', () => {
    const l = loadBinding(withWasm({ ...fakeEnv('auto', {}), platform: 'linux-riscv64-gnu' }));
    expect(l.binding.buildInfo().compiler).toBe('fake'); // the fake wasm binding, wrapped for typed errors
    expect(l.kind).toBe('wasm');
    expect(l.candidate).toBe('@tvdcn/wasm32');
    expect(l.attempts[0]).toMatchObject({
      status: 'failed',
      reason: 'no native package is published for linux-riscv64-gnu',
    });
    expect(l.fallbackNotice).toMatch(/no native binary serves linux-riscv64-gnu/);
    expect(l.fallbackNotice).toMatch(/using the WebAssembly build @tvdcn\/wasm32/);
    expect(l.fallbackNotice).toMatch(
      /Native packages exist for: linux-x64-gnu, linux-arm64-gnu, darwin-arm64, darwin-x64, win32-x64/,
    );
  });

  it('a supported platform whose package is missing falls back too, and keeps the reason', () => {
    const l = loadBinding(withWasm(fakeEnv('cpu', {})));
    expect(l.kind).toBe('wasm');
    expect(l.fallbackNotice).toMatch(/@tvdcn\/linux-x64-gnu: package not installed/);
  });

  it('a native package that loads is preferred, without notice', () => {
    const l = loadBinding(withWasm(fakeEnv('auto', { [CPU]: fakeBinding({}) })));
    expect(l.kind).toBe('native');
    expect(l.fallbackNotice).toBeNull();
  });

  it('TVDCN_BACKEND=wasm loads the WebAssembly build even where a native one exists', () => {
    const l = loadBinding({ ...withWasm(fakeEnv('auto', { [CPU]: fakeBinding({}) })), requested: 'wasm' });
    expect(l.candidate).toBe('@tvdcn/wasm32');
    expect(l.attempts).toEqual([expect.objectContaining({ status: 'loaded', reason: 'TVDCN_BACKEND=wasm' })]);
  });

  it('TVDCN_BACKEND=cuda never falls back to WebAssembly', () => {
    expect(() => loadBinding(withWasm(fakeEnv('cuda', {})))).toThrow(NativeLoadError);
  });

  it('macOS without its package: one error naming the platform, the supported ones and why WebAssembly failed', () => {
    const e = withWasm({ ...fakeEnv('auto', {}), platform: 'darwin-arm64' }, false);
    let message = '';
    try {
      loadBinding(e);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/runtime darwin-arm64/);
    expect(message).toMatch(/@tvdcn\/darwin-arm64: failed: package not installed/);
    expect(message).not.toMatch(/darwin-arm64-cuda/);
    expect(message).toMatch(/@tvdcn\/wasm32: failed: package not installed/);
    expect(message).toMatch(
      /Native packages exist for: linux-x64-gnu, linux-arm64-gnu, darwin-arm64, darwin-x64, win32-x64/,
    );
  });

  it('Windows resolves the mingw CPU package and the MSVC CUDA package', () => {
    const l = loadBinding({
      ...fakeEnv('auto', { '@tvdcn/win32-x64-gnu/tvdcn.node': fakeBinding({}) }),
      platform: 'win32-x64',
    });
    expect(l.candidate).toBe('@tvdcn/win32-x64-gnu');
    expect(l.attempts[0]).toMatchObject({ candidate: '@tvdcn/win32-x64-msvc-cuda', reason: 'package not installed' });
  });
});

describe('loader with the real binaries of this checkout', () => {
  it.runIf(existsSync(cpuBuild))('TVDCN_NATIVE_PATH loads the CPU build as-is', () => {
    const l = loadBinding({ ...defaultEnvironment(), requested: 'auto', nativePath: cpuBuild });
    expect(l.variant).toBe('cpu');
    expect(l.binding.abiVersion()).toBe(ABI_VERSION);
  });

  // The CUDA build of this checkout is for the build host (linux-x64); an emulated arm64 run cannot load it.
  it.runIf(existsSync(cudaBuild) && platformKey() === 'linux-x64-gnu')(
    'the CUDA build loads without a GPU and says why CUDA is unusable',
    () => {
      const b = require(cudaBuild) as NativeBinding;
      expect(b.buildInfo().withCuda).toBe(true);
      const dc = b.cudaDeviceCount();
      if (dc.count === 0) {
        expect(dc.error).toBeGreaterThan(0);
        expect(dc.reason).toMatch(/^cuda[A-Za-z]+: /);
        const e = { ...defaultEnvironment(), requested: 'cuda' as const, nativePath: cudaBuild };
        expect(() => loadBinding(e)).toThrow(/no usable GPU/);
      }
    },
  );

  it('the default environment loads a binary from the workspace packages', () => {
    const e = { ...defaultEnvironment(), nativePath: undefined, requested: 'auto' as const };
    const l = loadBinding(e);
    expect(l.binding.abiVersion()).toBe(ABI_VERSION);
    const pkgs = NATIVE_PACKAGES[platformKey()]!;
    expect([pkgs.cpu, pkgs.cuda]).toContain(l.candidate);
    if (l.cudaDeviceCount === 0) expect(l.candidate).toBe(pkgs.cpu);
  });

  it('forced cpu loads the CPU package', () => {
    const l = loadBinding({ ...defaultEnvironment(), nativePath: undefined, requested: 'cpu' });
    expect(l.candidate).toBe(NATIVE_PACKAGES[platformKey()]!.cpu);
    expect(l.variant).toBe('cpu');
  });
});

describe('CUDA unavailable: the message names the real cause', () => {
  const cpu = fakeBinding({});
  const cudaNoGpu = fakeBinding({
    withCuda: true,
    devices: 0,
    reason: 'cudaErrorNoDevice: no CUDA-capable device is detected',
  });

  it('the CUDA package installed, no usable GPU: says so (not "built without CUDA")', () => {
    const loaded = loadBinding(
      fakeEnv('auto', {
        '@tvdcn/linux-x64-gnu/tvdcn.node': cpu,
        '@tvdcn/linux-x64-gnu-cuda/tvdcn.node': cudaNoGpu,
      }),
    );
    expect(loaded.candidate).toBe('@tvdcn/linux-x64-gnu');
    const why = cudaUnavailability(loaded);
    expect(why?.cause).toBe(
      'no GPU is usable (cudaErrorNoDevice: no CUDA-capable device is detected), although @tvdcn/linux-x64-gnu-cuda is installed',
    );
    expect(why?.remedy).toMatch(/NVIDIA GPU and driver are visible to this process \(nvidia-smi/);
    expect(`${why?.cause} ${why?.remedy}`).not.toMatch(/built without CUDA|install @tvdcn/);
  });

  it('only the CUDA package (serving CPU calls), no GPU', () => {
    const loaded = loadBinding(fakeEnv('auto', { '@tvdcn/linux-x64-gnu-cuda/tvdcn.node': cudaNoGpu }));
    expect(cudaUnavailability(loaded)?.cause).toBe(
      'no GPU is usable (cudaErrorNoDevice: no CUDA-capable device is detected) for the loaded CUDA binary (@tvdcn/linux-x64-gnu-cuda)',
    );
  });

  it('the CUDA package not installed: names the package to install', () => {
    const loaded = loadBinding(fakeEnv('auto', { '@tvdcn/linux-x64-gnu/tvdcn.node': cpu }));
    const why = cudaUnavailability(loaded);
    expect(why?.cause).toBe(
      'the loaded binary (@tvdcn/linux-x64-gnu) has no CUDA kernels and @tvdcn/linux-x64-gnu-cuda is not installed',
    );
    expect(why?.remedy).toMatch(/^install @tvdcn\/linux-x64-gnu-cuda on a machine with an NVIDIA GPU/);
  });

  it('TVDCN_BACKEND=cpu, a CUDA package that fails to load, an explicit CPU binary', () => {
    const forced = loadBinding(
      fakeEnv('cpu', { '@tvdcn/linux-x64-gnu/tvdcn.node': cpu, '@tvdcn/linux-x64-gnu-cuda/tvdcn.node': cudaNoGpu }),
    );
    expect(cudaUnavailability(forced)?.cause).toBe('TVDCN_BACKEND=cpu chose the CPU binary');
    const broken = loadBinding(
      fakeEnv('auto', {
        '@tvdcn/linux-x64-gnu/tvdcn.node': cpu,
        '@tvdcn/linux-x64-gnu-cuda/tvdcn.node': new Error('libcuda.so.1: cannot open shared object file'),
      }),
    );
    expect(cudaUnavailability(broken)?.cause).toBe(
      '@tvdcn/linux-x64-gnu-cuda is installed but could not be used: libcuda.so.1: cannot open shared object file',
    );
    const explicit = loadBinding(fakeEnv('auto', { 'x.node': cpu }, '/fake/x.node'));
    expect(cudaUnavailability(explicit)?.cause).toBe(
      'the binary at TVDCN_NATIVE_PATH (/fake/x.node) was built without CUDA',
    );
  });

  it('a usable GPU: no cause', () => {
    const loaded = loadBinding(
      fakeEnv('auto', { '@tvdcn/linux-x64-gnu-cuda/tvdcn.node': fakeBinding({ withCuda: true, devices: 2 }) }),
    );
    expect(cudaUnavailability(loaded)).toBeNull();
  });
});
