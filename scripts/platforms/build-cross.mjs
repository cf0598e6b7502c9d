#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Cross-builds one binary package on this (x86-64 Debian) machine and copies the result into the package:
//   node scripts/platforms/build-cross.mjs linux-arm64-gnu   g++-aarch64-linux-gnu  -> packages/bin-linux-arm64-gnu/bin/tvdcn.node
//   node scripts/platforms/build-cross.mjs win32-x64-gnu     mingw-w64 (posix)      -> packages/bin-win32-x64-gnu/bin/tvdcn.node
//   node scripts/platforms/build-cross.mjs wasm32            emscripten             -> packages/bin-wasm32/bin/tvdcn{,-threads}.{mjs,wasm}
// Headers come from node-api-headers and node-addon-api (workspace devDependencies of native/): nothing is
// downloaded. The native addon's own CMakeLists.txt is used with a toolchain file (wasm32: native/wasm/).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const native = join(root, 'native');
const require = createRequire(join(native, 'package.json'));
// node-api-headers is cmake-js' dependency: resolve it from there (the version cmake-js builds with).
const headersDir = dirname(
  createRequire(require.resolve('cmake-js/package.json')).resolve('node-api-headers/package.json'),
);
const napiHeaders = join(headersDir, 'include');
const napiDef = join(headersDir, 'def', 'node_api.def');
const addonApi = dirname(require.resolve('node-addon-api/package.json'));
const jobs = String(process.env.CMAKE_BUILD_PARALLEL_LEVEL ?? 2);

function run(cmd, args, opts = {}) {
  console.log(`[cross] ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.error) throw r.error;
  if (r.status !== 0) {
    console.error(`[cross] failed (exit ${r.status}): ${cmd}`);
    process.exit(r.status ?? 1);
  }
}

function need(tool, apt) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    console.error(`[cross] ${tool} not found: apt-get install ${apt}`);
    process.exit(1);
  }
}

function cmakeBuild(buildDir, sourceDir, defines, wrapper = null) {
  const args = [
    '-S',
    sourceDir,
    '-B',
    buildDir,
    '-DCMAKE_BUILD_TYPE=Release',
    `-DCMAKE_LIBRARY_OUTPUT_DIRECTORY=${join(buildDir, 'Release')}`,
    `-DCMAKE_RUNTIME_OUTPUT_DIRECTORY=${join(buildDir, 'Release')}`,
  ];
  if (spawnSync('sh', ['-c', 'command -v ninja']).status === 0) args.push('-G', 'Ninja');
  for (const [k, v] of Object.entries(defines)) args.push(`-D${k}=${v}`);
  if (wrapper) run(wrapper, ['cmake', ...args]);
  else run('cmake', args);
  run('cmake', ['--build', buildDir, '--parallel', jobs]);
}

function install(files, pkgDir) {
  const bin = join(root, 'packages', pkgDir, 'bin');
  mkdirSync(bin, { recursive: true });
  for (const [from, to] of files) {
    copyFileSync(from, join(bin, to));
    console.log(`[cross] ${from} -> packages/${pkgDir}/bin/${to}`);
  }
}

const inc = `${napiHeaders};${addonApi}`;
const target = process.argv[2];
if (target === 'linux-arm64-gnu') {
  need('aarch64-linux-gnu-g++', 'g++-aarch64-linux-gnu');
  const dir = join(native, 'build', 'linux-arm64-gnu');
  cmakeBuild(dir, native, {
    CMAKE_TOOLCHAIN_FILE: join(native, 'cmake', 'toolchains', 'aarch64-linux-gnu.cmake'),
    CMAKE_JS_INC: inc,
    TVDCN_WITH_CUDA: 'OFF',
  });
  install([[join(dir, 'Release', 'tvdcn_cpu.node'), 'tvdcn.node']], 'bin-linux-arm64-gnu');
} else if (target === 'win32-x64-gnu') {
  need('x86_64-w64-mingw32-g++-posix', 'g++-mingw-w64-x86-64-posix');
  const dir = join(native, 'build', 'win32-x64-gnu');
  mkdirSync(dir, { recursive: true });
  // node.exe exports the Node-API functions; the addon links against an import library naming it.
  const importLib = join(dir, 'node_api.a');
  run('x86_64-w64-mingw32-dlltool', ['-d', napiDef, '-l', importLib, '-D', 'node.exe', '-m', 'i386:x86-64']);
  cmakeBuild(dir, native, {
    CMAKE_TOOLCHAIN_FILE: join(native, 'cmake', 'toolchains', 'x86_64-w64-mingw32.cmake'),
    CMAKE_JS_INC: inc,
    CMAKE_JS_LIB: importLib,
    TVDCN_WITH_CUDA: 'OFF',
  });
  install([[join(dir, 'Release', 'tvdcn_cpu.node'), 'tvdcn.node']], 'bin-win32-x64-gnu');
} else if (target === 'wasm32') {
  need('em++', 'emscripten');
  const dir = join(native, 'build', 'wasm32');
  // Debian's emscripten needs its bundled JS modules on NODE_PATH (else "Cannot find module 'acorn'").
  const env = { ...process.env, NODE_PATH: ['/usr/share/nodejs', process.env.NODE_PATH].filter(Boolean).join(':') };
  const args = [
    '-S',
    join(native, 'wasm'),
    '-B',
    dir,
    '-DCMAKE_BUILD_TYPE=Release',
    '-DTVDCN_WASM_THREADS=ON',
    `-DCMAKE_JS_INC=${inc}`,
  ];
  if (spawnSync('sh', ['-c', 'command -v ninja']).status === 0) args.push('-G', 'Ninja');
  run('emcmake', ['cmake', ...args], { env });
  // The link leaves undefined only the napi_* functions that tensor_arg.cc's Napi readers reference and the
  // WebAssembly API never calls (-sERROR_ON_UNDEFINED_SYMBOLS=0 keeps them from failing the link, warnings on):
  // any other undefined symbol (a function of native/src this build lacks) would abort at run time, so it
  // fails the build here.
  console.log(`[cross] cmake --build ${dir} --parallel ${jobs}`);
  const built = spawnSync('cmake', ['--build', dir, '--parallel', jobs], { cwd: root, env, encoding: 'utf8' });
  process.stdout.write(built.stdout ?? '');
  process.stderr.write(built.stderr ?? '');
  if (built.status !== 0) {
    console.error(`[cross] failed (exit ${built.status}): cmake --build ${dir}`);
    process.exit(built.status ?? 1);
  }
  const undefinedSymbols = [
    ...new Set([...`${built.stdout}${built.stderr}`.matchAll(/undefined symbol: (\S+)/g)].map((m) => m[1])),
  ];
  const unexpected = undefinedSymbols.filter((name) => !name.startsWith('napi_'));
  console.log(`[cross] undefined at link: ${undefinedSymbols.length} symbols, all napi_* but ${unexpected.length}`);
  if (unexpected.length > 0) {
    console.error(`[cross] undefined symbols other than napi_*: ${unexpected.join(', ')}`);
    process.exit(1);
  }
  // Two variants (native/wasm/CMakeLists.txt): one thread, and pthreads (its .mjs starts tvdcn-threads.worker.js).
  const want = ['tvdcn.mjs', 'tvdcn.wasm', 'tvdcn-threads.mjs', 'tvdcn-threads.wasm', 'tvdcn-threads.worker.js'];
  const out = readdirSync(dir);
  const missing = want.filter((f) => !out.includes(f));
  if (missing.length > 0) {
    console.error(`[cross] expected ${want.join(', ')} in ${dir}; missing ${missing.join(', ')}`);
    process.exit(1);
  }
  install(
    want.map((f) => [join(dir, f), f]),
    'bin-wasm32',
  );
} else {
  console.error('usage: build-cross.mjs linux-arm64-gnu|win32-x64-gnu|wasm32');
  process.exit(2);
}
