// SPDX-License-Identifier: MIT
// @tvdcn/wasm32: the emscripten module factories of its two builds and the URLs of their .wasm files. The
// loader in @tvdcn/ops reads the bytes itself (fs in Node, fetch in browsers) and instantiates through
// `instantiateWasm`, so this module reaches no Node built-in and works unbundled in browsers and with
// bundlers that understand `new URL(..., import.meta.url)` (Vite, webpack 5, esbuild with a file loader).
//   tvdcn.mjs / tvdcn.wasm                    one thread (any host)
//   tvdcn-threads.mjs / tvdcn-threads.wasm    pthreads: Web Workers running bin/tvdcn-threads.worker.js
//                                             (shared memory: Node, or a cross-origin-isolated page)
export { default as createTvdcnModule } from './bin/tvdcn.mjs';
export { default as createTvdcnThreadsModule } from './bin/tvdcn-threads.mjs';

/** Location of tvdcn.wasm (one thread) next to this file. */
export const wasmUrl = new URL('./bin/tvdcn.wasm', import.meta.url);
/** Location of tvdcn-threads.wasm (pthreads). */
export const threadsWasmUrl = new URL('./bin/tvdcn-threads.wasm', import.meta.url);
/** Node only: the worker_threads entry that hosts one pthread (node-worker.js). */
export const nodeWorkerUrl = new URL('./node-worker.js', import.meta.url);
