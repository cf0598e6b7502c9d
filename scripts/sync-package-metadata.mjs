#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Fills in the npm metadata every published workspace package must carry (scripts/test/metadata.test.mjs
// checks it): repository (the root's, with the package's directory), homepage, bugs, keywords, license,
// engines (the root's range), and the changesets `fixed` group (exactly the published packages). Adds
// only what is missing or different; a package that is already right is not rewritten. For a new
// package (a new platform binary, say): run it, review the diff, commit.
//   node scripts/sync-package-metadata.mjs [--check]
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const usage = `usage: node scripts/sync-package-metadata.mjs [--check]
  --check     change nothing; list what is missing and exit 1 if anything is
  -h, --help  this text`;
let check = false;
try {
  const { values } = parseArgs({
    options: { check: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  check = values.check === true;
} catch (e) {
  console.error(`sync-package-metadata: ${e.message}\n${usage}`);
  process.exit(2);
}

const root = fileURLToPath(new URL('..', import.meta.url));
const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const repoUrl = rootPkg.repository.url;
const web = repoUrl.replace(/^git\+/, '').replace(/\.git$/, '');

const dirs = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8')
  .split('\n')
  .map((l) => /^\s+-\s+(\S+)/.exec(l)?.[1])
  .filter(Boolean)
  .flatMap((g) =>
    g.endsWith('/*')
      ? readdirSync(join(root, g.slice(0, -2)), { withFileTypes: true })
          .filter((e) => e.isDirectory())
          .map((e) => join(root, g.slice(0, -2), e.name))
      : [join(root, g)],
  )
  .filter((d) => existsSync(join(d, 'package.json')));

const changes = [];
const published = [];
for (const dir of dirs) {
  const file = join(dir, 'package.json');
  const pkg = JSON.parse(readFileSync(file, 'utf8'));
  if (pkg.private) continue;
  published.push(pkg.name);
  const rel = relative(root, dir);
  const platform = basename(dir).replace(/^bin-/, '');
  const want = {
    license: 'MIT',
    keywords:
      pkg.keywords?.length >= 3 && pkg.keywords.includes('tvdcn')
        ? pkg.keywords
        : [
            'tvdcn',
            'deformable-convolution',
            ...(rel.startsWith('packages/bin-') ? ['prebuilt', 'node-api', platform] : ['dcn']),
          ],
    homepage: `${web}/tree/main/${rel}#readme`,
    bugs: { url: `${web}/issues` },
    repository: { type: 'git', url: repoUrl, directory: rel },
  };
  const missing = Object.keys(want).filter((k) => JSON.stringify(pkg[k]) !== JSON.stringify(want[k]));
  const enginesOk = JSON.stringify(pkg.engines) === JSON.stringify({ node: rootPkg.engines.node });
  if (!enginesOk) missing.push('engines');
  if (missing.length === 0) continue;
  changes.push(`${rel}/package.json: ${missing.join(', ')}`);
  if (check) continue;
  // Keys go after "license" (in the order above), engines keeps its place; the rest is untouched.
  const out = {};
  for (const [k, v] of Object.entries(pkg)) {
    if (k in want && k !== 'license') continue;
    out[k] = k === 'engines' ? { node: rootPkg.engines.node } : v;
    if (k === 'license') for (const [wk, wv] of Object.entries(want)) if (wk !== 'license') out[wk] = wv;
  }
  if (!('license' in pkg)) Object.assign(out, want);
  if (!('engines' in out)) out.engines = { node: rootPkg.engines.node };
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
}

const configFile = join(root, '.changeset', 'config.json');
const config = JSON.parse(readFileSync(configFile, 'utf8'));
const fixed = [...published].sort((a, b) =>
  a.startsWith('@tvdcn/') === b.startsWith('@tvdcn/') ? a.localeCompare(b) : a.startsWith('@tvdcn/') ? -1 : 1,
);
const current = (config.fixed?.[0] ?? []).join();
const globbed = (config.fixed?.[0] ?? []).some((p) => p.includes('*'));
if (!globbed && current !== fixed.join()) {
  changes.push(`.changeset/config.json: fixed group = ${fixed.join(', ')}`);
  if (!check) {
    config.fixed = [fixed];
    writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
  }
} else if (globbed) {
  // A group with globs is left to scripts/test/metadata.test.mjs, which expands it with changesets' parser.
}

for (const c of changes) console.log(`${check ? 'missing' : 'updated'}: ${c}`);
if (changes.length === 0) console.log('package metadata: all published packages complete');
process.exit(check && changes.length > 0 ? 1 : 0);
