// SPDX-License-Identifier: MIT
// The runtime platform key (linux-x64-gnu, linux-x64-musl, darwin-arm64, ...) that names binary packages.

/** @internal libc flavour of a Linux process: glibc reports its runtime version in the process report. */
export function libcFamily(): 'gnu' | 'musl' | null {
  if (process.platform !== 'linux') return null;
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime ? 'gnu' : 'musl';
}

/** @internal glibc version of this process ('2.36'), or null. */
export function glibcVersion(): string | null {
  if (process.platform !== 'linux') return null;
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime ?? null;
}

/** @internal `${platform}-${arch}` plus `-gnu`/`-musl` on Linux. */
export function platformKey(): string {
  const libc = libcFamily();
  return `${process.platform}-${process.arch}${libc ? `-${libc}` : ''}`;
}
