// SPDX-License-Identifier: MIT
/** Options the emscripten factory takes; @tvdcn/ops passes `instantiateWasm` with bytes it read itself. */
export interface TvdcnModuleOptions {
  /** Called with the import object; instantiate it and pass the WebAssembly.Instance and Module to `done`. */
  instantiateWasm?: (imports: object, done: (instance: object, module: object) => void) => object;
  wasmBinary?: ArrayBuffer | Uint8Array;
  [key: string]: unknown;
}
/** The emscripten MODULARIZE factory of tvdcn.mjs: fills `options` with the module's exports. */
export declare function createTvdcnModule(options?: TvdcnModuleOptions): Promise<unknown>;
/** Location of tvdcn.wasm next to this package's entry. */
export declare const wasmUrl: URL;
