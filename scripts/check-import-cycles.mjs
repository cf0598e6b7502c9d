#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Fails when the TypeScript sources of a package import each other in a loop. Reads every .ts file under
// the given folders (default: packages/*/src) with the TypeScript parser, follows relative imports and
// re-exports (type-only ones too: `import type` is erased at run time, but a loop of types is still a loop
// between layers), and reports every strongly connected component of more than one file.
// Used by `pnpm lint` and CI (.ci/run). No dependency beyond `typescript`, which the workspace has.
//   node scripts/check-import-cycles.mjs [folder ...]
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const folders = process.argv.slice(2).length
  ? process.argv.slice(2).map((f) => resolve(f))
  : readdirSync(join(root, 'packages'))
      .map((p) => join(root, 'packages', p, 'src'))
      .filter((p) => existsSync(p));

function tsFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

// './x.js' -> the .ts file it compiles from (or './x/index.ts').
function resolveImport(from, spec) {
  if (!spec.startsWith('.')) return null;
  const base = resolve(dirname(from), spec);
  for (const c of [base.replace(/\.(m|c)?js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')]) {
    if (existsSync(c) && statSync(c).isFile()) return c;
  }
  return null;
}

// The relative modules `file` imports or re-exports, type-only imports included: a loop of types is a
// loop of layers too.
function imports(file) {
  const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const deps = [];
  for (const st of src.statements) {
    let spec = null;
    if (ts.isImportDeclaration(st)) spec = st.moduleSpecifier.text;
    else if (ts.isExportDeclaration(st) && st.moduleSpecifier) spec = st.moduleSpecifier.text;
    const target = spec && resolveImport(file, spec);
    if (target) deps.push(target);
  }
  return deps;
}

// Tarjan's strongly connected components.
function cycles(graph) {
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const found = [];
  const visit = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const scc = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(scc);
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return found;
}

let failed = 0;
for (const folder of folders) {
  const graph = new Map();
  for (const f of tsFiles(folder)) graph.set(f, imports(f));
  for (const scc of cycles(graph)) {
    failed++;
    console.error(`import cycle of ${scc.length} files in ${relative(root, folder)}:`);
    for (const f of scc.sort()) console.error(`  ${relative(folder, f)}`);
  }
}
if (failed > 0) {
  console.error(`${failed} import cycle(s); see ARCHITECTURE.md for which layer may import which.`);
  process.exit(1);
}
console.log(`no import cycles in ${folders.map((f) => relative(root, f)).join(', ')}`);
