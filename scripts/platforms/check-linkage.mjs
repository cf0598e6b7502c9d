#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// The test of a binary package (run from its folder, `pnpm test`): what the packaged binary needs from the
// system it is loaded on, checked against what the package promises.
//   ELF (Linux): the machine matches package.json `cpu`; every GLIBC_x.y it needs is at most the floor
//     in `config.glibc` (">=2.28"); it needs no GLIBCXX_/CXXABI_/GCC_ version and no libstdc++/libgcc_s
//     (both linked statically); only libc, libm, libpthread, libdl, ld-linux are NEEDED.
//   PE (Windows): x86-64, and the DLL imports only KERNEL32, msvcrt and node.exe (mingw runtime static).
//   WebAssembly: tvdcn.wasm and tvdcn-threads.wasm are wasm modules with one import module, SIMD128, the
//     exports the loader calls, no require() in the glue; the threads build imports a shared memory and
//     starts its worker script from next to itself.
// Prints the versions and imports it found, then "linkage: N passed, M failed" (or "skipped" when the
// package has no binary on this machine: cross-built packages are filled by scripts/platforms/build-cross.mjs).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const pkgDir = process.argv[2] ?? process.cwd();
const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
const failures = [];
let checks = 0;
const check = (ok, what) => {
  checks++;
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
};
const cmp = (a, b) => {
  const x = a.split('.').map(Number),
    y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++)
    if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
};
const tool = (cmd, args) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.error || r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.error?.message ?? r.stderr}`);
  return r.stdout;
};

function checkElf(file) {
  const header = tool('readelf', ['-h', file]);
  const machine = /Machine:\s+(.*)/.exec(header)?.[1].trim() ?? '?';
  const want = { x64: 'Advanced Micro Devices X86-64', arm64: 'AArch64' }[pkg.cpu[0]];
  check(machine === want, `ELF machine ${machine} (package cpu ${pkg.cpu[0]})`);
  const versions = [...new Set(tool('readelf', ['-V', '--wide', file]).match(/Name: [A-Z]+_[0-9.]+/g) ?? [])]
    .map((s) => s.slice(6))
    .sort();
  const glibc = versions
    .filter((v) => v.startsWith('GLIBC_'))
    .map((v) => v.slice(6))
    .sort(cmp);
  const floor = /^>=\s*([0-9.]+)$/.exec(pkg.config?.glibc ?? '')?.[1];
  const needed = [...tool('readelf', ['-d', file]).matchAll(/\(NEEDED\).*\[(.*)\]/g)].map((m) => m[1]);
  console.log(`  versions needed: ${versions.join(' ')}`);
  console.log(`  libraries needed: ${needed.join(' ')}`);
  check(Boolean(floor), `package.json config.glibc states the floor (${pkg.config?.glibc})`);
  if (floor) {
    const max = glibc.at(-1) ?? '0';
    check(cmp(max, floor) <= 0, `highest GLIBC_ version needed is ${max}, floor ${floor}`);
  }
  const cxx = versions.filter((v) => /^(GLIBCXX|CXXABI|GCC)_/.test(v));
  check(cxx.length === 0, `no libstdc++/libgcc symbol versions needed (${cxx.join(' ') || 'none'})`);
  const allowed = /^(libc|libm|libpthread|libdl|librt|ld-linux[-a-z0-9_]*)\.so\.[0-9]+$/;
  const extra = needed.filter((n) => !allowed.test(n));
  check(extra.length === 0, `only libc/libm/libpthread/libdl/ld-linux needed (others: ${extra.join(' ') || 'none'})`);
}

function checkPe(file) {
  const out = tool('objdump', ['-p', file]);
  check(/pei-x86-64/.test(tool('objdump', ['-f', file])), 'PE format pei-x86-64');
  const dlls = [...new Set([...out.matchAll(/DLL Name: (\S+)/g)].map((m) => m[1]))];
  console.log(`  DLL imports: ${dlls.join(' ')}`);
  // mingw builds link everything statically; MSVC builds (the CUDA package) use the Universal CRT.
  const allowed = pkg.name.includes('-msvc')
    ? /^(KERNEL32\.dll|ADVAPI32\.dll|node\.exe|VCRUNTIME140(_1)?\.dll|MSVCP140\.dll|api-ms-win-crt-[a-z0-9-]+\.dll)$/i
    : /^(KERNEL32\.dll|msvcrt\.dll|node\.exe)$/i;
  const extra = dlls.filter((d) => !allowed.test(d));
  check(extra.length === 0, `imports only ${allowed.source} (others: ${extra.join(' ') || 'none'})`);
  check(
    dlls.some((d) => /^node\.exe$/i.test(d)),
    'Node-API functions imported from node.exe',
  );
  check(/napi_register_module_v1/.test(out), 'exports napi_register_module_v1');
}

function checkWasm(file, threads) {
  const name = file.split('/').at(-1);
  const bytes = readFileSync(file);
  check(WebAssembly.validate(bytes), `${name}: a valid WebAssembly module (SIMD128 validated by this V8)`);
  const mod = new WebAssembly.Module(bytes);
  const imports = WebAssembly.Module.imports(mod);
  const modules = [...new Set(imports.map((i) => i.module))];
  console.log(`  ${name} import modules: ${modules.join(' ')} (names minified by emscripten -O3)`);
  check(modules.length === 1, `${name}: one import module (the emscripten glue, no WASI host needed)`);
  // The pthreads build imports its (shared) memory from the glue; the one-thread build defines its own.
  const memory = imports.some((i) => i.kind === 'memory');
  check(memory === threads, `${name}: ${threads ? 'imports its shared memory' : 'defines its own memory'}`);
  const glue = readFileSync(file.replace(/\.wasm$/, '.mjs'), 'utf8');
  const api = [
    'tvdcn_abi_version',
    'tvdcn_deform_conv_forward',
    'tvdcn_deform_conv_backward',
    'tvdcn_mask_softmax_forward',
    'tvdcn_mask_softmax_backward',
    'tvdcn_start_threads',
    'tvdcn_running_threads',
  ];
  check(
    api.every((f) => glue.includes(`_${f}`)),
    `${name}: the glue exports ${api.join(', ')}`,
  );
  check(!/\brequire\(/.test(glue), `${name}: the glue calls no require() (runs in browsers as an ES module)`);
  // 0xfd is the SIMD opcode prefix; a build without -msimd128 has none of its v128 loads (0xfd 0x00).
  check(
    bytes.includes(Buffer.from([0xfd, 0x00])) && bytes.includes(Buffer.from([0x7b])),
    `${name}: contains SIMD128 instructions`,
  );
  if (threads) {
    const worker = readFileSync(file.replace(/\.wasm$/, '.worker.js'), 'utf8');
    check(!/\brequire\(/.test(worker), `${name}: its worker script calls no require()`);
    check(
      /new Worker\(new URL\("tvdcn-threads\.worker\.js",import\.meta\.url\)\)/.test(glue),
      `${name}: the glue starts tvdcn-threads.worker.js next to itself (new URL(..., import.meta.url))`,
    );
  }
}

function checkMachO(file) {
  const cpuType = readFileSync(file).readUInt32LE(4);
  const want = { x64: 0x01000007, arm64: 0x0100000c }[pkg.cpu[0]];
  check(cpuType === want, `Mach-O cpu type 0x${cpuType.toString(16)} (package cpu ${pkg.cpu[0]})`);
  if (process.platform === 'darwin') {
    const libs = [...tool('otool', ['-L', file]).matchAll(/^\s+(\S+)/gm)].map((m) => m[1]);
    console.log(`  libraries: ${libs.join(' ')}`);
    const extra = libs.filter(
      (l) => !/^(\/usr\/lib\/(libc\+\+\.1|libSystem\.B)\.dylib|@rpath\/tvdcn_[a-z]+\.node)$/.test(l),
    );
    check(extra.length === 0, `only system libc++/libSystem linked (others: ${extra.join(' ') || 'none'})`);
  }
}

const wasm = join(pkgDir, 'bin', 'tvdcn.wasm');
const node = join(pkgDir, 'bin', 'tvdcn.node');
console.log(`linkage of ${pkg.name}:`);
if (pkg.config?.variant === 'wasm') {
  if (!existsSync(wasm)) {
    console.log(`linkage: skipped (${wasm} not built here: node scripts/platforms/build-cross.mjs wasm32)`);
    process.exit(0);
  }
  checkWasm(wasm, false);
  checkWasm(join(pkgDir, 'bin', 'tvdcn-threads.wasm'), true);
} else {
  if (!existsSync(node)) {
    console.log(`linkage: skipped (${node} not built on this machine)`);
    process.exit(0);
  }
  const magic = readFileSync(node).subarray(0, 4);
  if (magic.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) checkElf(node);
  else if (magic.subarray(0, 2).toString() === 'MZ') checkPe(node);
  else if (magic.equals(Buffer.from([0xcf, 0xfa, 0xed, 0xfe]))) checkMachO(node);
  else check(false, `unknown binary format (magic ${magic.toString('hex')})`);
}
console.log(`linkage: ${checks - failures.length} passed, ${failures.length} failed`);
process.exit(failures.length ? 1 : 0);
