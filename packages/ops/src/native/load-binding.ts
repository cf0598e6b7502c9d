// SPDX-License-Identifier: MIT
// Finds and loads tvdcn.node once per process: an explicit path (TVDCN_NATIVE_PATH), else the CUDA
// binary package when a GPU is usable, else the CPU package; records why each other candidate was not
// used. Never compiles or downloads anything.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeLoadError } from '@tvdcn/shape';
import { ABI_VERSION, type NativeBinding } from './binding.js';
import { formatLoadError } from './load-error.js';
import { withTypedErrors } from './native-errors.js';
import { resolveNumThreads } from './num-threads.js';
import { platformKey } from './platform.js';

/** Which binary the loader should prefer: `TVDCN_BACKEND` (default `'auto'`). */
export type BackendRequest = 'auto' | 'cpu' | 'cuda';

/** One candidate the loader looked at, and what happened. */
export interface LoadAttempt {
  /** Package name, or `TVDCN_NATIVE_PATH`. */
  candidate: string;
  /** Resolved `.node` file, when one was found. */
  path?: string;
  /** `'loaded'`: in use; `'skipped'`: found or not, deliberately not used; `'failed'`: could not be used. */
  status: 'loaded' | 'skipped' | 'failed';
  /** Why (empty reason never: each status says what happened). */
  reason: string;
}

/** @internal A loaded binary and what it can do here. */
export interface LoadedBinding {
  binding: NativeBinding;
  variant: 'cpu' | 'cuda';
  path: string;
  candidate: string;
  cudaDeviceCount: number;
  cudaUnavailableReason: string | null;
  requested: BackendRequest;
  attempts: LoadAttempt[];
}

/** @internal Everything the loader reads from its surroundings, injectable for tests. */
export interface LoaderEnvironment {
  requested: BackendRequest;
  nativePath: string | undefined;
  platform: string;
  /** Resolves a module specifier to a file path; throws when absent. */
  resolve: (specifier: string) => string;
  /** Loads a `.node` file. */
  load: (path: string) => unknown;
  /** True when a file exists. */
  exists: (path: string) => boolean;
  /** The version of `@tvdcn/ops`, compared with a binary package's version (null: skip the check). */
  opsVersion: string | null;
}

const require = createRequire(import.meta.url);

function readOpsVersion(): string | null {
  // Walk up from this file (src/native/ in development, dist/ when built) to @tvdcn/ops' package.json.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      try {
        const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === '@tvdcn/ops') return pkg.version ?? null;
      } catch {
        return null;
      }
    }
    dir = dirname(dir);
  }
  return null;
}

/** @internal Parses TVDCN_BACKEND; anything else is an error naming the variable. */
export function parseBackendRequest(value: string | undefined): BackendRequest {
  const v = (value ?? 'auto').trim().toLowerCase();
  if (v === '' || v === 'auto') return 'auto';
  if (v === 'cpu' || v === 'cuda') return v;
  throw new NativeLoadError(
    `TVDCN_BACKEND: expected 'auto', 'cpu' or 'cuda', but got '${value}'`,
  );
}

/** @internal The loader's view of this process. */
export function defaultEnvironment(): LoaderEnvironment {
  return {
    requested: parseBackendRequest(process.env.TVDCN_BACKEND),
    nativePath: process.env.TVDCN_NATIVE_PATH || undefined,
    platform: platformKey(),
    resolve: (spec) => require.resolve(spec),
    load: (path) => require(path),
    exists: existsSync,
    opsVersion: readOpsVersion(),
  };
}

function errorText(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return `${typeof code === 'string' ? `${code} ` : ''}${e.message.split('\n')[0]}`;
  }
  return String(e);
}

function isBinding(x: unknown): x is NativeBinding {
  return (
    typeof x === 'object' && x !== null &&
    typeof (x as NativeBinding).abiVersion === 'function' &&
    typeof (x as NativeBinding).cudaDeviceCount === 'function'
  );
}

/** Loads one file and checks its ABI; returns the binding or the reason it cannot be used. */
function tryLoad(env: LoaderEnvironment, path: string): NativeBinding | string {
  let mod: unknown;
  try {
    mod = env.load(path);
  } catch (e) {
    return errorText(e);
  }
  if (!isBinding(mod)) return 'not a tvdcn binary (abiVersion/cudaDeviceCount missing)';
  const abi = mod.abiVersion();
  if (abi !== ABI_VERSION) {
    return `binary ABI version ${abi} does not match @tvdcn/ops ABI version ${ABI_VERSION}`;
  }
  return mod;
}

/** Resolves `<pkg>/tvdcn.node`, checking it is really there and of the matching version. */
function resolvePackage(env: LoaderEnvironment, pkg: string): { path: string } | { reason: string } {
  let path: string;
  try {
    path = env.resolve(`${pkg}/tvdcn.node`);
  } catch {
    return { reason: 'package not installed' };
  }
  if (!env.exists(path)) return { reason: `package has no binary (${path} missing)` };
  if (env.opsVersion) {
    try {
      const meta = JSON.parse(readFileSync(env.resolve(`${pkg}/package.json`), 'utf8')) as { version?: string };
      if (meta.version && meta.version !== env.opsVersion) {
        return { reason: `version ${meta.version} does not match @tvdcn/ops ${env.opsVersion}` };
      }
    } catch {
      // version unknown: accept, the ABI check still guards the interface
    }
  }
  return { path };
}

/** @internal Runs the candidate order of packaging-notes §8.3 against `env`. */
export function loadBinding(env: LoaderEnvironment): LoadedBinding {
  const attempts: LoadAttempt[] = [];
  const finish = (binding: NativeBinding, path: string, candidate: string, attempt: LoadAttempt): LoadedBinding => {
    const info = binding.buildInfo();
    const dc = info.withCuda ? binding.cudaDeviceCount() : { count: 0, error: -1, reason: 'built without CUDA' };
    attempts.push(attempt);
    return {
      binding: withTypedErrors(binding),
      variant: info.withCuda ? 'cuda' : 'cpu',
      path,
      candidate,
      cudaDeviceCount: dc.count,
      cudaUnavailableReason: dc.count > 0 ? null : dc.reason,
      requested: env.requested,
      attempts,
    };
  };
  const fail = (): never => {
    throw new NativeLoadError(formatLoadError(env.platform, env.requested, attempts));
  };

  if (env.nativePath) {
    const candidate = 'TVDCN_NATIVE_PATH';
    const loaded = tryLoad(env, env.nativePath);
    if (typeof loaded === 'string') {
      attempts.push({ candidate, path: env.nativePath, status: 'failed', reason: loaded });
      return fail();
    }
    if (env.requested === 'cuda' && loaded.cudaDeviceCount().count === 0) {
      const why = loaded.buildInfo().withCuda ? loaded.cudaDeviceCount().reason : 'built without CUDA';
      attempts.push({ candidate, path: env.nativePath, status: 'failed', reason: `no usable GPU: ${why}` });
      return fail();
    }
    return finish(loaded, env.nativePath, candidate, {
      candidate, path: env.nativePath, status: 'loaded', reason: 'explicit path',
    });
  }

  const cpuPkg = `@tvdcn/${env.platform}`;
  const cudaPkg = `@tvdcn/${env.platform}-cuda`;
  let cudaFallback: { binding: NativeBinding; path: string; why: string } | null = null;

  if (env.requested !== 'cpu') {
    const found = resolvePackage(env, cudaPkg);
    if ('reason' in found) {
      attempts.push({ candidate: cudaPkg, status: 'failed', reason: found.reason });
    } else {
      const loaded = tryLoad(env, found.path);
      if (typeof loaded === 'string') {
        attempts.push({ candidate: cudaPkg, path: found.path, status: 'failed', reason: loaded });
      } else {
        const dc = loaded.cudaDeviceCount();
        if (dc.count > 0) {
          return finish(loaded, found.path, cudaPkg, {
            candidate: cudaPkg, path: found.path, status: 'loaded', reason: `${dc.count} CUDA device(s) usable`,
          });
        }
        const why = `no usable GPU: ${dc.reason}`;
        if (env.requested === 'cuda') {
          attempts.push({ candidate: cudaPkg, path: found.path, status: 'failed', reason: why });
          return fail();
        }
        cudaFallback = { binding: loaded, path: found.path, why };
      }
    }
    if (env.requested === 'cuda') return fail();
  } else {
    attempts.push({ candidate: cudaPkg, status: 'skipped', reason: 'TVDCN_BACKEND=cpu' });
  }

  const found = resolvePackage(env, cpuPkg);
  if ('reason' in found) {
    attempts.push({ candidate: cpuPkg, status: 'failed', reason: found.reason });
  } else {
    const loaded = tryLoad(env, found.path);
    if (typeof loaded === 'string') {
      attempts.push({ candidate: cpuPkg, path: found.path, status: 'failed', reason: loaded });
    } else {
      if (cudaFallback) {
        attempts.push({ candidate: cudaPkg, path: cudaFallback.path, status: 'skipped', reason: cudaFallback.why });
      }
      return finish(loaded, found.path, cpuPkg, {
        candidate: cpuPkg, path: found.path, status: 'loaded',
        reason: env.requested === 'cpu' ? 'TVDCN_BACKEND=cpu' : 'CPU binary',
      });
    }
  }
  if (cudaFallback) {
    // The CUDA binary is a superset: it serves CPU calls when no device is usable.
    return finish(cudaFallback.binding, cudaFallback.path, cudaPkg, {
      candidate: cudaPkg, path: cudaFallback.path, status: 'loaded',
      reason: `CPU kernels of the CUDA binary (${cudaFallback.why})`,
    });
  }
  if (env.requested === 'cpu') {
    // Forced CPU and no CPU package: the CUDA superset still serves CPU calls.
    const cuda = resolvePackage(env, cudaPkg);
    if ('path' in cuda) {
      const loaded = tryLoad(env, cuda.path);
      if (typeof loaded !== 'string') {
        attempts.splice(0, 1);
        return finish(loaded, cuda.path, cudaPkg, {
          candidate: cudaPkg, path: cuda.path, status: 'loaded', reason: 'CPU kernels of the CUDA binary (TVDCN_BACKEND=cpu)',
        });
      }
    }
  }
  return fail();
}

let cached: LoadedBinding | null = null;
let cachedError: Error | null = null;

/** @internal The process-wide binding, loaded on first use. Throws NativeLoadError when none loads. */
export function getLoaded(): LoadedBinding {
  if (cached) return cached;
  if (cachedError) throw cachedError;
  try {
    cached = loadBinding(defaultEnvironment());
    const { warning } = resolveNumThreads(process.env.TVDCN_NUM_THREADS, cached.binding.buildInfo().hardwareConcurrency);
    if (warning !== null) process.emitWarning(warning, { code: 'TVDCN_NUM_THREADS' });
    return cached;
  } catch (e) {
    cachedError = e as Error;
    throw e;
  }
}

/** @internal The native exports (see binding.ts). */
export function getBinding(): NativeBinding {
  return getLoaded().binding;
}

/** @internal Forgets the cached binding (tests only; a `.node` stays loaded in the process). */
export function _resetLoaderForTests(): void {
  cached = null;
  cachedError = null;
}
