// SPDX-License-Identifier: MIT
// Node only: the entry of one worker_threads Worker that hosts a pthread of bin/tvdcn-threads.mjs.
// emscripten's bin/tvdcn-threads.worker.js is written for Web Workers; this gives it their globals (self,
// postMessage, onmessage, location, importScripts) over worker_threads' parentPort, then loads it.
// @tvdcn/ops starts it through a Web-Worker facade (packages/ops/src/native/load-wasm.ts).
import { parentPort, workerData } from 'node:worker_threads';

const early = [];
let loaded = false;
Object.assign(globalThis, {
  self: globalThis,
  location: { href: workerData.url },
  postMessage: (message, transfer) => parentPort.postMessage(message, transfer),
  // emscripten tells a Worker from the main thread by this function; it is never called (ES modules).
  importScripts: () => {
    throw new Error('importScripts is not available in a Node worker');
  },
});
// Messages that arrive while the worker script loads are handed over once it has set `onmessage`.
parentPort.on('message', (data) => {
  if (loaded) globalThis.onmessage({ data });
  else early.push(data);
});
await import(workerData.url);
loaded = true;
for (const data of early.splice(0)) globalThis.onmessage({ data });
