// SPDX-License-Identifier: MIT
// The one multi-line message shown when no native binary could be loaded: every attempt, then remedies.
import { NATIVE_PACKAGES, WASM_PACKAGE } from './platform.js';

/** One candidate the loader looked at, and what happened. */
export interface LoadAttempt {
  /** Package name, or `TVDCN_NATIVE_PATH`. */
  candidate: string;
  /** Resolved `.node` file, when one was found. */
  path?: string;
  /** `'loaded'`: in use; `'skipped'`: found or not, deliberately not used; `'failed'`: could not be used. */
  status: 'loaded' | 'skipped' | 'failed';
  /** Why (empty reason never: each status says what happened). */
  reason: string;
}

/** @internal Builds the "could not load" message from the attempts made. */
export function formatLoadError(key: string, requested: string, attempts: readonly LoadAttempt[]): string {
  const node = typeof process === 'object' && process?.versions?.node ? `Node ${process.version}` : 'no Node';
  const supported = key in NATIVE_PACKAGES;
  const lines = [
    `Could not load the tvdcn native binary for the runtime ${key} (${node}, TVDCN_BACKEND=${requested}).`,
    'Attempts:',
    ...attempts.map((a) => `  - ${a.candidate}${a.path ? ` (${a.path})` : ''}: ${a.status}: ${a.reason}`),
    `Native packages exist for: ${Object.keys(NATIVE_PACKAGES).join(', ')}; everywhere else ${WASM_PACKAGE} ` +
      '(WebAssembly, CPU) serves.',
    'Possible solutions:',
  ];
  if (supported) {
    lines.push(
      '  - Install the optional dependencies: npm install --include=optional @tvdcn/ops',
      '    (with pnpm, check `supportedArchitectures` and `ignoredOptionalDependencies` in pnpm-workspace.yaml)',
    );
  } else {
    lines.push(
      `  - Install ${WASM_PACKAGE} (an optional dependency of @tvdcn/ops): npm install --include=optional @tvdcn/ops`,
    );
  }
  if (attempts.some((a) => /GLIBC_|GLIBCXX_|CXXABI_/.test(a.reason))) {
    lines.push('  - This system C/C++ library is older than the prebuilt binary needs (glibc >= 2.28).');
  }
  if (requested === 'cuda') {
    lines.push('  - TVDCN_BACKEND=cuda needs an NVIDIA driver and GPU; use TVDCN_BACKEND=auto or cpu otherwise.');
  }
  lines.push(
    '  - Build from source (cmake >= 3.18, a C++17 compiler, optionally nvcc) in a clone of the repository:',
    '      pnpm install && pnpm --filter @tvdcn/native-src build',
    '    then point the loader at it: TVDCN_NATIVE_PATH=/path/to/native/build/cpu/Release/tvdcn_cpu.node',
  );
  return lines.join('\n');
}
