// SPDX-License-Identifier: MIT
// Instantiates @tvdcn/wasm32: synchronously in Node (the first op may load it: the bytes are read with fs
// and compiled with `new WebAssembly.Module`), asynchronously in browsers (fetch + WebAssembly.instantiate;
// browsers refuse synchronous compilation of large modules on the main thread). Uses no Node built-in
// except through `process.getBuiltinModule`, so browsers never reach one.
import type { NativeBinding } from './binding.js';
import { WASM_PACKAGE } from './platform.js';
import { createWasmBinding, type TvdcnWasmModule } from './wasm-binding.js';

/** @internal What @tvdcn/wasm32's entry exports (packages/bin-wasm32/index.js). */
export interface WasmPackage {
  createTvdcnModule(options: Record<string, unknown>): Promise<unknown>;
  wasmUrl: URL;
}

/** @internal A loaded WebAssembly backend and where its binary came from. */
export interface LoadedWasm {
  binding: NativeBinding;
  location: string;
}

/** The part of the WebAssembly JS API used here (the DOM lib is not part of this package's types). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => object;
  instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: object; module: object }>;
}
const wasmApi = (): WasmApi => (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

function hostConcurrency(): number {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  return nav?.hardwareConcurrency ?? 1;
}

function instantiate(pkg: WasmPackage, bytes: Uint8Array, sync: true): TvdcnWasmModule;
function instantiate(pkg: WasmPackage, bytes: Uint8Array, sync: false): Promise<TvdcnWasmModule>;
function instantiate(pkg: WasmPackage, bytes: Uint8Array, sync: boolean): TvdcnWasmModule | Promise<TvdcnWasmModule> {
  const options: Record<string, unknown> = {
    // The emscripten glue calls this instead of fetching the file itself; a synchronous call of `done`
    // completes the module before the factory returns.
    instantiateWasm(imports: object, done: (instance: object, module: object) => void) {
      const api = wasmApi();
      if (sync) {
        const module = new api.Module(bytes);
        done(new api.Instance(module, imports), module);
      } else {
        void api.instantiate(bytes, imports).then((r) => done(r.instance, r.module));
      }
      return {};
    },
    print: () => {},
    printErr: () => {},
  };
  const ready = pkg.createTvdcnModule(options);
  const mod = options as unknown as TvdcnWasmModule;
  if (!sync) return ready.then(() => mod);
  if (typeof mod._tvdcn_abi_version !== 'function' || !(mod.HEAPU8 instanceof Uint8Array)) {
    throw new Error('the WebAssembly module did not initialise synchronously');
  }
  void ready.catch(() => {});
  return mod;
}

/** @internal Node: loads @tvdcn/wasm32 now (require of an ES module: Node >= 20.19). Throws with the reason. */
export function loadWasmSync(requireFn: (spec: string) => unknown): LoadedWasm {
  const fs = process.getBuiltinModule('node:fs');
  const url = process.getBuiltinModule('node:url');
  const pkg = requireFn(WASM_PACKAGE) as WasmPackage;
  const path = url.fileURLToPath(pkg.wasmUrl);
  const bytes = new Uint8Array(fs.readFileSync(path));
  const os = process.getBuiltinModule('node:os');
  return { binding: createWasmBinding(instantiate(pkg, bytes, true), os.availableParallelism()), location: path };
}

/** @internal Browsers (and Node without require of ES modules): imports, fetches and compiles @tvdcn/wasm32. */
export async function loadWasmAsync(): Promise<LoadedWasm> {
  const pkg = (await import('@tvdcn/wasm32')) as WasmPackage;
  let bytes: Uint8Array;
  if (pkg.wasmUrl.protocol === 'file:' && typeof process === 'object' && process.getBuiltinModule) {
    const fs = process.getBuiltinModule('node:fs');
    const url = process.getBuiltinModule('node:url');
    bytes = new Uint8Array(fs.readFileSync(url.fileURLToPath(pkg.wasmUrl)));
  } else {
    const response = await fetch(pkg.wasmUrl);
    if (!response.ok) throw new Error(`fetching ${pkg.wasmUrl.href} failed: HTTP ${response.status}`);
    bytes = new Uint8Array(await response.arrayBuffer());
  }
  const mod = await instantiate(pkg, bytes, false);
  return { binding: createWasmBinding(mod, hostConcurrency()), location: pkg.wasmUrl.href };
}
