// SPDX-License-Identifier: MIT
// --pre-js of the pthreads variant (inside the factory, before emscripten's runtime): the Worker class that
// hosts the pthreads. Browsers have one; Node has none, so @tvdcn/ops passes `Module.Worker`, a Web-Worker
// facade over worker_threads that starts @tvdcn/wasm32's node-worker.js (packages/ops/src/native/load-wasm.ts).
// biome-ignore lint/correctness/noUnusedVariables: read by emscripten's runtime, which this file precedes
var Worker = Module['Worker'] || globalThis.Worker;
