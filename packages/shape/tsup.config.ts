import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  // Node: the CommonJS build dist/index.cjs; dist/index.js is an ESM wrapper over it
  // (scripts/build/esm-over-cjs.mjs), so that import and require load one instance of the package.
  // Browsers (the "browser" export condition, import maps): a real ES module, dist/index.browser.js; a
  // page has one module system, so there is no second instance to avoid.
  format: ['cjs', 'esm'],
  outExtension: ({ format }) => ({ js: format === 'esm' ? '.browser.js' : '.cjs' }),
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  shims: true,
  external: [/^@tvdcn\//],
});
