// SPDX-License-Identifier: MIT
// The runtime platform key (linux-x64-gnu, linux-x64-musl, darwin-arm64, win32-x64, ...) and the binary
// packages published for each key. No Node built-in is imported: in a browser the key is 'browser'.

/** @internal The native packages of one platform: the CPU one and, where published, the CUDA superset. */
export interface PlatformPackages {
  cpu: string;
  cuda?: string;
}

/**
 * @internal Every platform with a native package, by platform key. The CUDA packages are supersets of
 * the CPU ones (their CPU kernels serve when no GPU is usable). Everything else gets @tvdcn/wasm32.
 */
export const NATIVE_PACKAGES: Readonly<Record<string, PlatformPackages>> = {
  'linux-x64-gnu': { cpu: '@tvdcn/linux-x64-gnu', cuda: '@tvdcn/linux-x64-gnu-cuda' },
  'linux-arm64-gnu': { cpu: '@tvdcn/linux-arm64-gnu' },
  'darwin-arm64': { cpu: '@tvdcn/darwin-arm64' },
  'darwin-x64': { cpu: '@tvdcn/darwin-x64' },
  'win32-x64': { cpu: '@tvdcn/win32-x64-gnu', cuda: '@tvdcn/win32-x64-msvc-cuda' },
};

/** @internal The WebAssembly package: the browser backend and the fallback everywhere else. */
export const WASM_PACKAGE = '@tvdcn/wasm32';

/** @internal True in Node (or a runtime that provides Node's process object and built-ins). */
export function isNode(): boolean {
  return typeof process === 'object' && process !== null && typeof process.versions?.node === 'string';
}

/** @internal libc flavour of a Linux process: glibc reports its runtime version in the process report. */
export function libcFamily(): 'gnu' | 'musl' | null {
  if (!isNode() || process.platform !== 'linux') return null;
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime ? 'gnu' : 'musl';
}

/** @internal glibc version of this process ('2.36'), or null. */
export function glibcVersion(): string | null {
  if (!isNode() || process.platform !== 'linux') return null;
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime ?? null;
}

/** @internal `${platform}-${arch}` plus `-gnu`/`-musl` on Linux; `'browser'` outside Node. */
export function platformKey(): string {
  if (!isNode()) return 'browser';
  const libc = libcFamily();
  return `${process.platform}-${process.arch}${libc ? `-${libc}` : ''}`;
}
