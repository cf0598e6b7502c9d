// SPDX-License-Identifier: MIT
// The prerequisites of building this repository (README "Quick start"), checked before anything is
// installed or compiled so that a missing tool gives one clear line instead of a cmake-js stack:
//   Node (the root package.json's engines range), npm (only when pnpm must be fetched), cmake >= 3.18,
//   a build tool for cmake (make or ninja) and a C++17 compiler (CXX, c++, g++ or clang++).
import { spawnSync } from 'node:child_process';

/** `[major, minor, patch]` of a version string such as `v20.19.2` or `cmake version 3.25.1`. */
export function parseVersion(text) {
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text ?? '');
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : null;
}

/** True when version `v` is at least `min` (both `[major, minor, patch]`). */
export function atLeast(v, min) {
  for (let i = 0; i < 3; i++) if (v[i] !== min[i]) return v[i] > min[i];
  return true;
}

function probe(cmd, args, env) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, timeout: 20_000 });
  if (r.error || r.status !== 0) return null;
  return `${r.stdout ?? ''}${r.stderr ?? ''}`;
}

/**
 * The missing prerequisites, one message each (empty when everything is there).
 * @param {{ env?: NodeJS.ProcessEnv, nodeVersion?: string, engines: string, needNpm?: boolean }} o
 *   engines: the root package.json's `engines.node`, of the form `>=MAJOR.MINOR[.PATCH]`
 */
export function missingPrerequisites({ env = process.env, nodeVersion = process.version, engines, needNpm = false }) {
  const problems = [];
  const min = parseVersion(engines);
  const node = parseVersion(nodeVersion);
  if (min && node && !atLeast(node, min)) {
    problems.push(
      `Node ${engines.replace(/^>=\s*/, '')} or newer is needed, but this is Node ${nodeVersion} (https://nodejs.org)`,
    );
  }
  if (needNpm && probe('npm', ['--version'], env) === null) {
    problems.push('npm is needed to fetch pnpm (it comes with Node), but `npm --version` failed');
  }
  const cmake = probe('cmake', ['--version'], env);
  const cmakeVersion = parseVersion(cmake);
  if (cmake === null) {
    problems.push(
      'cmake 3.18 or newer is needed to build the native addon, but `cmake` was not found on PATH (Debian/Ubuntu: apt-get install cmake)',
    );
  } else if (!cmakeVersion || !atLeast(cmakeVersion, [3, 18, 0])) {
    problems.push(`cmake 3.18 or newer is needed, but \`cmake --version\` says ${cmake.split('\n')[0]}`);
  }
  if (probe('make', ['--version'], env) === null && probe('ninja', ['--version'], env) === null) {
    problems.push(
      'make (or ninja) is needed by cmake, but neither was found on PATH (Debian/Ubuntu: apt-get install make)',
    );
  }
  const compilers = env.CXX ? [env.CXX] : ['c++', 'g++', 'clang++'];
  if (!compilers.some((cxx) => probe(cxx, ['--version'], env) !== null)) {
    problems.push(
      env.CXX
        ? `a C++17 compiler is needed, but CXX=${env.CXX} does not run`
        : 'a C++17 compiler is needed (g++ >= 9 or clang++ >= 10), but none of c++, g++, clang++ was found on PATH (Debian/Ubuntu: apt-get install g++)',
    );
  }
  return problems;
}
