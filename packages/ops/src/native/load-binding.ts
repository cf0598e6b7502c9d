// SPDX-License-Identifier: MIT
// Finds and loads the kernels once per process: an explicit path (TVDCN_NATIVE_PATH), else the CUDA
// binary package of this platform when a GPU is usable, else its CPU package, else the WebAssembly build
// (@tvdcn/wasm32; the only one in browsers, where loadBackend() must be awaited first); records why each
// other candidate was not used. Never compiles or downloads anything. Node built-ins are reached only
// through process.getBuiltinModule, so this module loads in browsers.
import { NativeLoadError } from '@tvdcn/shape';
import { ABI_VERSION, type NativeBinding } from './binding.js';
import { formatLoadError, type LoadAttempt } from './load-error.js';

export type { LoadAttempt } from './load-error.js';
import { loadWasmAsync, loadWasmSync, type LoadedWasm } from './load-wasm.js';
import { withTypedErrors } from './native-errors.js';
import { resolveNumThreads } from './num-threads.js';
import { NATIVE_PACKAGES, WASM_PACKAGE, isNode, platformKey } from './platform.js';

/** Which binary the loader should prefer: `TVDCN_BACKEND` (default `'auto'`). */
export type BackendRequest = 'auto' | 'cpu' | 'cuda' | 'wasm';

/** @internal A loaded binary and what it can do here. */
export interface LoadedBinding {
  binding: NativeBinding;
  variant: 'cpu' | 'cuda';
  /** `'native'`: a .node addon; `'wasm'`: @tvdcn/wasm32. */
  kind: 'native' | 'wasm';
  /** Set when the WebAssembly build serves because no native binary could: the one-time notice. */
  fallbackNotice: string | null;
  path: string;
  candidate: string;
  cudaDeviceCount: number;
  cudaUnavailableReason: string | null;
  requested: BackendRequest;
  attempts: LoadAttempt[];
  /** The WebAssembly build when kind is 'wasm' (its variant and threads), else null. */
  wasm: LoadedWasm | null;
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
  /** Reads a package's package.json (null when unreadable). */
  readPackageJson?: (path: string) => { version?: string } | null;
  /** Loads the WebAssembly build synchronously; throws with the reason. Absent: no WebAssembly fallback. */
  loadWasm?: () => LoadedWasm;
}

// process.getBuiltinModule (Node >= 20.16, hence @tvdcn/ops' engines) reaches Node's modules without an
// import statement that a browser would try to resolve.
function nodeRequire(): NodeJS.Require {
  return process.getBuiltinModule('node:module').createRequire(import.meta.url);
}

function readOpsVersion(): string | null {
  // Walk up from this file (src/native/ in development, dist/ when built) to @tvdcn/ops' package.json.
  const { existsSync, readFileSync } = process.getBuiltinModule('node:fs');
  const { dirname, join } = process.getBuiltinModule('node:path');
  let dir = dirname(process.getBuiltinModule('node:url').fileURLToPath(import.meta.url));
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
  if (v === 'cpu' || v === 'cuda' || v === 'wasm') return v;
  throw new NativeLoadError(`TVDCN_BACKEND: expected 'auto', 'cpu', 'cuda' or 'wasm', but got '${value}'`);
}

/** @internal The loader's view of this process (Node only). */
export function defaultEnvironment(): LoaderEnvironment {
  const require = nodeRequire();
  const { existsSync, readFileSync } = process.getBuiltinModule('node:fs');
  return {
    requested: parseBackendRequest(process.env.TVDCN_BACKEND),
    nativePath: process.env.TVDCN_NATIVE_PATH || undefined,
    platform: platformKey(),
    resolve: (spec) => require.resolve(spec),
    load: (path) => require(path),
    exists: existsSync,
    opsVersion: readOpsVersion(),
    readPackageJson: (path) => JSON.parse(readFileSync(path, 'utf8')) as { version?: string },
    loadWasm: () => loadWasmSync(require),
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
    typeof x === 'object' &&
    x !== null &&
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
  if (env.opsVersion && env.readPackageJson) {
    try {
      const meta = env.readPackageJson(env.resolve(`${pkg}/package.json`)) ?? {};
      if (meta.version && meta.version !== env.opsVersion) {
        return { reason: `version ${meta.version} does not match @tvdcn/ops ${env.opsVersion}` };
      }
    } catch {
      // version unknown: accept, the ABI check still guards the interface
    }
  }
  return { path };
}

/** Why the WebAssembly build was not used, or the loaded build; the attempt is recorded. */
function tryWasm(env: LoaderEnvironment, attempts: LoadAttempt[]): LoadedWasm | null {
  if (!env.loadWasm) {
    attempts.push({ candidate: WASM_PACKAGE, status: 'skipped', reason: 'no WebAssembly loader in this environment' });
    return null;
  }
  let loaded: LoadedWasm;
  try {
    loaded = env.loadWasm();
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    const reason =
      code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND'
        ? 'package not installed'
        : code === 'ERR_REQUIRE_ESM'
          ? `loading it on first use needs Node >= 20.19 (require of an ES module); call \`await loadBackend()\` once first`
          : errorText(e);
    attempts.push({ candidate: WASM_PACKAGE, status: 'failed', reason });
    return null;
  }
  const abi = loaded.binding.abiVersion();
  if (abi !== ABI_VERSION) {
    attempts.push({
      candidate: WASM_PACKAGE,
      path: loaded.location,
      status: 'failed',
      reason: `binary ABI version ${abi} does not match @tvdcn/ops ABI version ${ABI_VERSION}`,
    });
    return null;
  }
  return loaded;
}

/** @internal Runs the candidate order of packaging-notes §8.3 against `env`. */
export function loadBinding(env: LoaderEnvironment): LoadedBinding {
  const attempts: LoadAttempt[] = [];
  const finish = (
    binding: NativeBinding,
    path: string,
    candidate: string,
    attempt: LoadAttempt,
    kind: 'native' | 'wasm' = 'native',
    fallbackNotice: string | null = null,
  ): LoadedBinding => {
    const info = binding.buildInfo();
    const dc = info.withCuda ? binding.cudaDeviceCount() : { count: 0, error: -1, reason: 'built without CUDA' };
    attempts.push(attempt);
    return {
      binding: withTypedErrors(binding),
      variant: info.withCuda ? 'cuda' : 'cpu',
      kind,
      fallbackNotice,
      path,
      candidate,
      cudaDeviceCount: dc.count,
      cudaUnavailableReason: dc.count > 0 ? null : dc.reason,
      requested: env.requested,
      attempts,
      wasm: null,
    };
  };
  const fail = (): never => {
    throw new NativeLoadError(formatLoadError(env.platform, env.requested, attempts));
  };

  if (env.requested === 'wasm') {
    const wasm = tryWasm(env, attempts);
    if (!wasm) return fail();
    const l = finish(
      wasm.binding,
      wasm.location,
      WASM_PACKAGE,
      {
        candidate: WASM_PACKAGE,
        path: wasm.location,
        status: 'loaded',
        reason: 'TVDCN_BACKEND=wasm',
      },
      'wasm',
    );
    return { ...l, wasm };
  }

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
      candidate,
      path: env.nativePath,
      status: 'loaded',
      reason: 'explicit path',
    });
  }

  const packages = NATIVE_PACKAGES[env.platform];
  if (!packages) {
    attempts.push({
      candidate: `@tvdcn/${env.platform}`,
      status: 'failed',
      reason: `no native package is published for ${env.platform}`,
    });
    return wasmFallback(env, attempts, finish, fail);
  }
  const cpuPkg = packages.cpu;
  const cudaPkg = packages.cuda;
  let cudaFallback: { binding: NativeBinding; path: string; why: string } | null = null;

  if (!cudaPkg) {
    if (env.requested === 'cuda') {
      attempts.push({
        candidate: `@tvdcn/${env.platform}-cuda`,
        status: 'failed',
        reason: `no CUDA package is published for ${env.platform}`,
      });
      return fail();
    }
  } else if (env.requested !== 'cpu') {
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
            candidate: cudaPkg,
            path: found.path,
            status: 'loaded',
            reason: `${dc.count} CUDA device(s) usable`,
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
        attempts.push({
          candidate: cudaPkg ?? '',
          path: cudaFallback.path,
          status: 'skipped',
          reason: cudaFallback.why,
        });
      }
      return finish(loaded, found.path, cpuPkg, {
        candidate: cpuPkg,
        path: found.path,
        status: 'loaded',
        reason: env.requested === 'cpu' ? 'TVDCN_BACKEND=cpu' : 'CPU binary',
      });
    }
  }
  if (cudaFallback && cudaPkg) {
    // The CUDA binary is a superset: it serves CPU calls when no device is usable.
    return finish(cudaFallback.binding, cudaFallback.path, cudaPkg, {
      candidate: cudaPkg,
      path: cudaFallback.path,
      status: 'loaded',
      reason: `CPU kernels of the CUDA binary (${cudaFallback.why})`,
    });
  }
  if (env.requested === 'cpu' && cudaPkg) {
    // Forced CPU and no CPU package: the CUDA superset still serves CPU calls.
    const cuda = resolvePackage(env, cudaPkg);
    if ('path' in cuda) {
      const loaded = tryLoad(env, cuda.path);
      if (typeof loaded !== 'string') {
        attempts.splice(0, 1);
        return finish(loaded, cuda.path, cudaPkg, {
          candidate: cudaPkg,
          path: cuda.path,
          status: 'loaded',
          reason: 'CPU kernels of the CUDA binary (TVDCN_BACKEND=cpu)',
        });
      }
    }
  }
  return wasmFallback(env, attempts, finish, fail);
}

/** The last resort of 'auto' and 'cpu': the WebAssembly build, with a notice saying why. */
function wasmFallback(
  env: LoaderEnvironment,
  attempts: LoadAttempt[],
  finish: (
    b: NativeBinding,
    path: string,
    c: string,
    a: LoadAttempt,
    k: 'native' | 'wasm',
    n: string | null,
  ) => LoadedBinding,
  fail: () => never,
): LoadedBinding {
  if (env.requested === 'cuda') return fail();
  const wasm = tryWasm(env, attempts);
  if (!wasm) return fail();
  const supported = Object.keys(NATIVE_PACKAGES).join(', ');
  const why = attempts.map((a) => `${a.candidate}: ${a.reason}`).join('; ');
  const notice =
    `tvdcn: no native binary serves ${env.platform} (${why}); using the WebAssembly build ${WASM_PACKAGE} ` +
    `(CPU kernels, ${wasm.info().variant === 'threads' ? `${wasm.info().workers + 1} threads` : 'one thread'}, ` +
    `several times slower). Native packages exist for: ${supported}.`;
  const l = finish(
    wasm.binding,
    wasm.location,
    WASM_PACKAGE,
    {
      candidate: WASM_PACKAGE,
      path: wasm.location,
      status: 'loaded',
      reason: 'fallback: no native binary loaded',
    },
    'wasm',
    notice,
  );
  return { ...l, wasm };
}

let cached: LoadedBinding | null = null;
let cachedError: Error | null = null;

function announce(l: LoadedBinding): LoadedBinding {
  if (l.fallbackNotice && isNode()) process.emitWarning(l.fallbackNotice, { code: 'TVDCN_WASM_FALLBACK' });
  return l;
}

/** @internal The process-wide binding, loaded on first use. Throws NativeLoadError when none loads. */
export function getLoaded(): LoadedBinding {
  if (cached) return cached;
  if (cachedError) throw cachedError;
  if (!isNode()) {
    throw new NativeLoadError(
      `tvdcn: in a browser the WebAssembly backend (${WASM_PACKAGE}) loads asynchronously: ` +
        'call `await loadBackend()` once before the first operation.',
    );
  }
  try {
    cached = announce(loadBinding(defaultEnvironment()));
    const { warning } = resolveNumThreads(
      process.env.TVDCN_NUM_THREADS,
      cached.binding.buildInfo().hardwareConcurrency,
    );
    if (warning !== null) process.emitWarning(warning, { code: 'TVDCN_NUM_THREADS' });
    return cached;
  } catch (e) {
    cachedError = e as Error;
    throw e;
  }
}

/**
 * @internal Loads the backend without blocking: in browsers fetches and compiles @tvdcn/wasm32; in Node
 * runs the synchronous loader, or imports the WebAssembly build when only it is usable and Node cannot
 * require an ES module.
 */
export async function loadBackendAsync(): Promise<LoadedBinding> {
  // The WebAssembly build's Workers start once the event loop turns: wait for them here, also when the
  // first op has loaded it already.
  if (cached) {
    await cached.wasm?.whenRunning();
    return cached;
  }
  if (isNode()) {
    try {
      const l = getLoaded();
      await l.wasm?.whenRunning();
      return l;
    } catch (e) {
      const requested = parseBackendRequest(process.env.TVDCN_BACKEND);
      if (requested === 'cuda' || !(e instanceof NativeLoadError) || !/require of an ES module/.test(e.message))
        throw e;
      cachedError = null;
    }
  }
  const wasm = await loadWasmAsync();
  if (wasm.binding.abiVersion() !== ABI_VERSION) {
    throw new NativeLoadError(
      `${WASM_PACKAGE}: binary ABI version ${wasm.binding.abiVersion()} does not match @tvdcn/ops ABI version ${ABI_VERSION}`,
    );
  }
  const attempt: LoadAttempt = {
    candidate: WASM_PACKAGE,
    path: wasm.location,
    status: 'loaded',
    reason: isNode() ? 'loaded asynchronously' : 'browser',
  };
  cached = {
    binding: withTypedErrors(wasm.binding),
    variant: 'cpu',
    kind: 'wasm',
    fallbackNotice: null,
    path: wasm.location,
    candidate: WASM_PACKAGE,
    cudaDeviceCount: 0,
    cudaUnavailableReason: 'the WebAssembly build has no CUDA',
    requested: isNode() ? parseBackendRequest(process.env.TVDCN_BACKEND) : 'auto',
    attempts: [attempt],
    wasm,
  };
  return cached;
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
