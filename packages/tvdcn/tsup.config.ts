import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  // CommonJS only: dist/index.js is an ESM wrapper over it (scripts/build/esm-over-cjs.mjs), so that
  // import and require load one instance of the package.
  format: ['cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  shims: true,
  external: [/^@tvdcn\//],
});
