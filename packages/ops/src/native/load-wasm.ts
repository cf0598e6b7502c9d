// SPDX-License-Identifier: MIT
// Instantiates @tvdcn/wasm32: synchronously in Node (the first op may load it: the bytes are read with fs
// and compiled with `new WebAssembly.Module`), asynchronously in browsers (fetch + WebAssembly.instantiate;
// browsers refuse synchronous compilation of large modules on the main thread). Uses no Node built-in
// except through `process.getBuiltinModule`, so browsers never reach one.
//
// Two variants: tvdcn-threads (pthreads on Web Workers; shared memory) where the host allows it — Node
// (worker_threads, through a Web-Worker facade), and browsers on a cross-origin-isolated page — else
// tvdcn (one thread). The thread count is fixed when the module loads (TVDCN_NUM_THREADS or every core in
// Node, navigator.hardwareConcurrency up to 16 in browsers); the binding's setNumThreads() can lower it
// and raise it back. The Workers start while the loader returns: a kernel uses those already running
// (native/wasm/parallel_wasm.cc), and `loadBackend()` waits for all of them.
import type { NativeBinding } from './binding.js';
import { resolveNumThreads } from './num-threads.js';
import { WASM_PACKAGE } from './platform.js';
import { createWasmBinding, type TvdcnWasmModule } from './wasm-binding.js';

/** @internal What @tvdcn/wasm32's entry exports (packages/bin-wasm32/index.js). */
export interface WasmPackage {
  createTvdcnModule(options: Record<string, unknown>): Promise<unknown>;
  createTvdcnThreadsModule(options: Record<string, unknown>): Promise<unknown>;
  wasmUrl: URL;
  threadsWasmUrl: URL;
  nodeWorkerUrl: URL;
}

/** Which build of `@tvdcn/wasm32` serves, and with how many threads (`backendInfo().wasm`). */
export interface WasmBackendInfo {
  /**
   * `'threads'`: `tvdcn-threads.wasm`, pthreads on Web Workers (worker_threads in Node) sharing one
   * memory; `'single'`: `tvdcn.wasm`, everything on the calling thread.
   */
  variant: 'threads' | 'single';
  /** Why this variant, e.g. `'the page is not cross-origin isolated ...'`. */
  reason: string;
  /** Threads the kernels use now (`getNumThreads()`), the caller included. */
  numThreads: number;
  /** Worker threads started when the module loaded: `numThreads` is at most `workers + 1`. */
  workers: number;
  /** Of those, how many run already (a Worker starts once the JS event loop has turned). */
  runningWorkers: number;
}

/** @internal A loaded WebAssembly backend and where its binary came from. */
export interface LoadedWasm {
  binding: NativeBinding;
  location: string;
  /** The variant and its threads now. */
  info(): WasmBackendInfo;
  /** Resolves when every Worker runs, or after `timeoutMs` (then fewer threads serve; info() says how many). */
  whenRunning(timeoutMs?: number): Promise<void>;
  /** How many times a worker thread has run its part of a parallel region (tests: the threads take part). */
  workerRuns(): number;
}

/** @internal The variant to load and how many threads it gets. */
export interface WasmThreading {
  variant: 'threads' | 'single';
  threads: number;
  reason: string;
}

/** In browsers: at most this many threads (one Web Worker each, each with its own instance of the module). */
export const BROWSER_MAX_THREADS = 16;

/** @internal Node: worker_threads are always there; the count follows TVDCN_NUM_THREADS (num-threads.ts). */
export function nodeThreading(numThreadsEnv: string | undefined, cores: number): WasmThreading {
  const { threads } = resolveNumThreads(numThreadsEnv, cores);
  if (threads <= 1) {
    return {
      variant: 'single',
      threads: 1,
      reason: cores <= 1 ? 'one core' : `TVDCN_NUM_THREADS=${numThreadsEnv}`,
    };
  }
  return { variant: 'threads', threads, reason: `Node worker_threads (${threads} threads)` };
}

/** @internal Browsers (and other hosts without Node): threads only where SharedArrayBuffer may be used. */
export function browserThreading(host: {
  crossOriginIsolated?: unknown;
  SharedArrayBuffer?: unknown;
  navigator?: { hardwareConcurrency?: number };
}): WasmThreading {
  if (host.crossOriginIsolated !== true) {
    return {
      variant: 'single',
      threads: 1,
      reason:
        'the page is not cross-origin isolated, so it has no SharedArrayBuffer (serve it with the headers ' +
        'Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp for threads)',
    };
  }
  if (typeof host.SharedArrayBuffer !== 'function') {
    return { variant: 'single', threads: 1, reason: 'this host has no SharedArrayBuffer' };
  }
  const cores = host.navigator?.hardwareConcurrency ?? 1;
  const threads = Math.max(1, Math.min(cores, BROWSER_MAX_THREADS));
  if (threads <= 1) return { variant: 'single', threads: 1, reason: 'navigator.hardwareConcurrency is 1' };
  return { variant: 'threads', threads, reason: `cross-origin isolated page (${threads} threads)` };
}

/** The part of the WebAssembly JS API used here (the DOM lib is not part of this package's types). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => object;
  Memory: abstract new (...args: never[]) => { readonly buffer: ArrayBufferLike };
  instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: object; module: object }>;
}
const wasmApi = (): WasmApi => (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The memory the glue created and imports (pthreads), if any: views of it must follow its growth. */
function importedMemory(imports: object): { readonly buffer: ArrayBufferLike } | undefined {
  const api = wasmApi();
  for (const ns of Object.values(imports)) {
    if (typeof ns !== 'object' || ns === null) continue;
    for (const v of Object.values(ns as Record<string, unknown>)) if (v instanceof api.Memory) return v;
  }
  return undefined;
}

/** A Web-Worker facade over worker_threads for the pthreads of tvdcn-threads.mjs (Node has no `Worker`). */
function nodeWorkerClass(bootstrap: URL): new (url: URL | string) => object {
  const threads = process.getBuiltinModule('node:worker_threads');
  return class NodeWebWorker {
    onmessage: ((event: { data: unknown }) => void) | null = null;
    onerror: ((error: unknown) => void) | null = null;
    readonly #worker: InstanceType<typeof threads.Worker>;
    constructor(url: URL | string) {
      this.#worker = new threads.Worker(bootstrap, { workerData: { url: String(url) } });
      this.#worker.on('message', (data: unknown) => this.onmessage?.({ data }));
      this.#worker.on('error', (error: unknown) => {
        try {
          this.onerror?.(error);
        } catch {
          // emscripten rethrows; in Node that would end the process from an event handler.
        }
        process.emitWarning(`${WASM_PACKAGE}: a worker thread failed: ${String(error)}`, { code: 'TVDCN_WASM_WORKER' });
      });
      // The pool's threads never exit; they must not keep the process alive (after the listeners: adding a
      // 'message' listener refs the worker again).
      this.#worker.unref();
    }
    postMessage(message: unknown, transfer?: readonly unknown[]): void {
      this.#worker.postMessage(message, transfer as never);
    }
    terminate(): void {
      void this.#worker.terminate();
    }
  };
}

interface Instantiation {
  pkg: WasmPackage;
  bytes: Uint8Array;
  threading: WasmThreading;
  /** Node: the Worker facade for the pthreads variant. */
  worker?: new (
    url: URL | string,
  ) => object;
}

function instantiate(x: Instantiation, sync: true): TvdcnWasmModule;
function instantiate(x: Instantiation, sync: false): Promise<TvdcnWasmModule>;
function instantiate(x: Instantiation, sync: boolean): TvdcnWasmModule | Promise<TvdcnWasmModule> {
  const threads = x.threading.variant === 'threads';
  const options: Record<string, unknown> = {
    // The emscripten glue calls this instead of fetching the file itself; a synchronous call of `done`
    // completes the module before the factory returns (the pthreads build does not wait for its Workers:
    // PTHREAD_POOL_DELAY_LOAD).
    instantiateWasm(imports: object, done: (instance: object, module: object) => void) {
      const api = wasmApi();
      (options as { tvdcnMemory?: unknown }).tvdcnMemory = importedMemory(imports);
      if (sync) {
        const module = new api.Module(x.bytes);
        done(new api.Instance(module, imports), module);
      } else {
        void api.instantiate(x.bytes, imports).then((r) => done(r.instance, r.module));
      }
      return {};
    },
    print: () => {},
    printErr: () => {},
  };
  if (threads) {
    options.tvdcnWorkers = x.threading.threads - 1;
    if (x.worker) options.Worker = x.worker;
  }
  const ready = threads ? x.pkg.createTvdcnThreadsModule(options) : x.pkg.createTvdcnModule(options);
  const mod = options as unknown as TvdcnWasmModule;
  const start = (): TvdcnWasmModule => {
    if (threads) mod._tvdcn_start_threads(x.threading.threads);
    return mod;
  };
  if (!sync) return ready.then(start);
  if (typeof mod._tvdcn_abi_version !== 'function' || !(mod.HEAPU8 instanceof Uint8Array)) {
    throw new Error('the WebAssembly module did not initialise synchronously');
  }
  void ready.catch(() => {});
  return start();
}

function loaded(mod: TvdcnWasmModule, threading: WasmThreading, location: string, cores: number): LoadedWasm {
  const binding = createWasmBinding(mod, cores);
  const workers = threading.variant === 'threads' ? threading.threads - 1 : 0;
  const running = (): number => (threading.variant === 'threads' ? mod._tvdcn_running_threads() : 0);
  return {
    binding,
    location,
    info: () => ({
      variant: threading.variant,
      reason: threading.reason,
      numThreads: binding.getNumThreads(),
      workers,
      runningWorkers: running(),
    }),
    async whenRunning(timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      while (running() < workers && Date.now() < until) await new Promise((r) => setTimeout(r, 2));
    },
    workerRuns: () => mod._tvdcn_worker_runs(),
  };
}

/** @internal Node: loads @tvdcn/wasm32 now (require of an ES module: Node >= 20.19). Throws with the reason. */
export function loadWasmSync(requireFn: (spec: string) => unknown, threading?: WasmThreading): LoadedWasm {
  const fs = process.getBuiltinModule('node:fs');
  const url = process.getBuiltinModule('node:url');
  const os = process.getBuiltinModule('node:os');
  const cores = os.availableParallelism();
  const pkg = requireFn(WASM_PACKAGE) as WasmPackage;
  const how = threading ?? nodeThreading(process.env.TVDCN_NUM_THREADS, cores);
  const path = url.fileURLToPath(how.variant === 'threads' ? pkg.threadsWasmUrl : pkg.wasmUrl);
  const bytes = new Uint8Array(fs.readFileSync(path));
  const worker = how.variant === 'threads' ? nodeWorkerClass(pkg.nodeWorkerUrl) : undefined;
  return loaded(instantiate({ pkg, bytes, threading: how, worker }, true), how, path, cores);
}

/** @internal Browsers (and Node without require of ES modules): imports, fetches and compiles @tvdcn/wasm32. */
export async function loadWasmAsync(): Promise<LoadedWasm> {
  const pkg = (await import('@tvdcn/wasm32')) as WasmPackage;
  const node = typeof process === 'object' && typeof process.getBuiltinModule === 'function';
  const cores = node
    ? process.getBuiltinModule('node:os').availableParallelism()
    : ((globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1);
  const how = node ? nodeThreading(process.env.TVDCN_NUM_THREADS, cores) : browserThreading(globalThis);
  const wasmUrl = how.variant === 'threads' ? pkg.threadsWasmUrl : pkg.wasmUrl;
  let bytes: Uint8Array;
  if (wasmUrl.protocol === 'file:' && node) {
    const fs = process.getBuiltinModule('node:fs');
    const url = process.getBuiltinModule('node:url');
    bytes = new Uint8Array(fs.readFileSync(url.fileURLToPath(wasmUrl)));
  } else {
    const response = await fetch(wasmUrl);
    if (!response.ok) throw new Error(`fetching ${wasmUrl.href} failed: HTTP ${response.status}`);
    bytes = new Uint8Array(await response.arrayBuffer());
  }
  const worker = node && how.variant === 'threads' ? nodeWorkerClass(pkg.nodeWorkerUrl) : undefined;
  const mod = await instantiate({ pkg, bytes, threading: how, worker }, false);
  const result = loaded(mod, how, wasmUrl.href, cores);
  await result.whenRunning();
  return result;
}
