import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Example programs import the package by name, as users do; resolve it to the sources.
  resolve: { alias: { 'tfjs-facenet': fileURLToPath(new URL('./src/index.ts', import.meta.url)) } },
  test: {
    include: ['test/**/*.test.ts'],
    // Model tests are CPU-heavy; two cores, so run files in two forks.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
