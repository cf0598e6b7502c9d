// SPDX-License-Identifier: MIT
// The addon of another revision for `--compare <git ref | path/to/addon.node>`: the ref's native/ tree
// is exported with `git archive` into a cache directory under the OS temp dir and built there, CPU only,
// with this checkout's build tools (native/node_modules); a second run with the same commit reuses it.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

/** Path of the CPU addon for `ref`: `ref` itself when it names an existing .node file, else built. */
export function refAddon(ref: string, repoRoot: string): { path: string; label: string } {
  if (ref.endsWith('.node')) {
    if (!existsSync(ref)) throw new Error(`bench: --compare ${ref}: no such file`);
    return { path: ref, label: ref };
  }
  const git = (...a: string[]): string => execFileSync('git', a, { cwd: repoRoot, encoding: 'utf8' }).trim();
  let sha: string;
  try {
    sha = git('rev-parse', '--verify', `${ref}^{commit}`);
  } catch {
    throw new Error(`bench: --compare ${ref}: not a commit of this repository`);
  }
  const dir = join(os.tmpdir(), `tvdcn-bench-${sha.slice(0, 12)}`);
  const addon = join(dir, 'native', 'build', 'cpu', 'Release', 'tvdcn_cpu.node');
  const label = `${ref} (${sha.slice(0, 9)})`;
  if (existsSync(addon)) return { path: addon, label };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const archive = spawnSync('sh', ['-c', `git archive ${sha} native | tar -x -C "${dir}"`], {
    cwd: repoRoot,
    stdio: 'inherit',
  });
  if (archive.status !== 0) throw new Error(`bench: --compare ${ref}: git archive failed`);
  symlinkSync(join(repoRoot, 'native', 'node_modules'), join(dir, 'native', 'node_modules'));
  console.error(`bench: building the addon of ${label} in ${dir} (CPU only; a few minutes on 2 cores)`);
  const build = spawnSync(process.execPath, [join(dir, 'native', 'scripts', 'build-native.mjs')], {
    cwd: join(dir, 'native'),
    env: { ...process.env, TVDCN_CUDA: 'off' },
    stdio: ['ignore', process.stderr, process.stderr],
  });
  if (build.status !== 0 || !existsSync(addon)) throw new Error(`bench: --compare ${ref}: the native build failed`);
  return { path: addon, label };
}
