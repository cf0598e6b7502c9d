// SPDX-License-Identifier: MIT
// npm metadata of the workspace: every published package links back to its folder of the repository
// (so relative README links work on the registry page), has keywords, the license, and the one engines
// range of the root; the changesets `fixed` group is exactly the published packages (changesets' own
// parser expands its globs), and private packages are never versioned. `node scripts/sync-package-metadata.mjs`
// fills in what a new package lacks.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const read = (p) => JSON.parse(readFileSync(p, 'utf8'));
const rootPkg = read(join(root, 'package.json'));

/** Every workspace package: `{ dir, pkg }` (pnpm-workspace.yaml's globs are `a/*` or a folder). */
function workspacePackages() {
  const globs = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8')
    .split('\n')
    .map((l) => /^\s+-\s+(\S+)/.exec(l)?.[1])
    .filter(Boolean);
  const dirs = globs.flatMap((g) =>
    g.endsWith('/*')
      ? readdirSync(join(root, g.slice(0, -2)), { withFileTypes: true })
          .filter((e) => e.isDirectory())
          .map((e) => join(root, g.slice(0, -2), e.name))
      : [join(root, g)],
  );
  return dirs
    .filter((d) => existsSync(join(d, 'package.json')))
    .map((dir) => ({ dir: relative(root, dir), pkg: read(join(dir, 'package.json')) }));
}

const all = workspacePackages();
const published = all.filter((p) => !p.pkg.private);

test('the root names the repository, and one engines range', () => {
  assert.match(rootPkg.repository.url, /^git\+https:\/\/.+\.git$/);
  assert.match(rootPkg.engines.node, /^>=\d+\.\d+\.\d+$/);
  assert.ok(published.length >= 5, published.map((p) => p.pkg.name).join());
});

test('every published package: repository with directory, homepage, bugs, keywords, license, engines', () => {
  const repo = rootPkg.repository.url.replace(/^git\+/, '').replace(/\.git$/, '');
  for (const { dir, pkg } of published) {
    const where = `${pkg.name} (${dir})`;
    assert.deepEqual(pkg.repository, { type: 'git', url: rootPkg.repository.url, directory: dir }, where);
    assert.equal(pkg.homepage, `${repo}/tree/main/${dir}#readme`, where);
    assert.deepEqual(pkg.bugs, { url: `${repo}/issues` }, where);
    assert.ok(Array.isArray(pkg.keywords) && pkg.keywords.length >= 3 && pkg.keywords.includes('tvdcn'), where);
    assert.equal(pkg.license, 'MIT', where);
    assert.deepEqual(pkg.engines, { node: rootPkg.engines.node }, where);
    assert.ok(pkg.description?.length > 20, where);
    assert.ok(
      existsSync(join(root, dir, 'README.md')) && existsSync(join(root, dir, 'LICENSE.txt')),
      `${where}: README.md and LICENSE.txt`,
    );
  }
});

test('every private package stays private (no engines drift either)', () => {
  for (const { pkg } of all.filter((p) => p.pkg.private)) {
    if (pkg.engines) assert.deepEqual(pkg.engines, { node: rootPkg.engines.node }, pkg.name);
  }
});

test('sync-package-metadata.mjs --check finds nothing to add', () => {
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'sync-package-metadata.mjs'), '--check'], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('the changesets fixed group is exactly the published packages; private ones are not versioned', async () => {
  const cli = createRequire(createRequire(join(root, 'package.json')).resolve('@changesets/cli/package.json'));
  const { parse } = cli('@changesets/config');
  const { getPackages } = cli('@manypkg/get-packages');
  const config = parse(read(join(root, '.changeset', 'config.json')), await getPackages(root));
  assert.equal(config.fixed.length, 1);
  assert.deepEqual([...config.fixed[0]].sort(), published.map((p) => p.pkg.name).sort());
  assert.deepEqual(config.privatePackages, { version: false, tag: false });
});
