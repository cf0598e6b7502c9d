import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    // The built workspace packages load natively, as in a user's program: their ESM entry re-exports the
    // CommonJS build (scripts/build/esm-over-cjs.mjs), and only Node's own module cache makes that one
    // instance (vite would run a second copy of the CommonJS file).
    server: { deps: { external: [/\/packages\/(shape|ops)\/dist\//] } },
  },
});
