// SPDX-License-Identifier: MIT
/** Options the emscripten factories take; @tvdcn/ops passes `instantiateWasm` with bytes it read itself. */
export interface TvdcnModuleOptions {
  /** Called with the import object; instantiate it and pass the WebAssembly.Instance and Module to `done`. */
  instantiateWasm?: (imports: object, done: (instance: object, module: object) => void) => object;
  wasmBinary?: ArrayBuffer | Uint8Array;
  /** Pthreads build: the number of Web Workers to start (threads - 1). */
  tvdcnWorkers?: number;
  /** Pthreads build: the Worker class (browsers have one; in Node, a facade over worker_threads). */
  Worker?: new (
    url: URL | string,
  ) => object;
  [key: string]: unknown;
}
/** The emscripten MODULARIZE factory of tvdcn.mjs (one thread): fills `options` with the module's exports. */
export declare function createTvdcnModule(options?: TvdcnModuleOptions): Promise<unknown>;
/** The factory of tvdcn-threads.mjs (pthreads; needs SharedArrayBuffer). */
export declare function createTvdcnThreadsModule(options?: TvdcnModuleOptions): Promise<unknown>;
/** Location of tvdcn.wasm next to this package's entry. */
export declare const wasmUrl: URL;
/** Location of tvdcn-threads.wasm. */
export declare const threadsWasmUrl: URL;
/** Node only: the worker_threads entry that hosts one pthread of the threads build. */
export declare const nodeWorkerUrl: URL;
