// SPDX-License-Identifier: MIT
// @tvdcn/wasm32: the emscripten module factory and the URL of its .wasm file. The loader in @tvdcn/ops
// reads the bytes itself (fs in Node, fetch in browsers) and instantiates through `instantiateWasm`, so
// this module reaches no Node built-in and works unbundled in browsers and with bundlers that understand
// `new URL(..., import.meta.url)` (Vite, webpack 5, esbuild with a file loader).
export { default as createTvdcnModule } from './bin/tvdcn.mjs';

/** Location of tvdcn.wasm next to this file. */
export const wasmUrl = new URL('./bin/tvdcn.wasm', import.meta.url);
