import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string): string => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

export default defineConfig({
  // Example programs import the package by name, as users do; resolve it to the sources.
  // Longest first: an alias matches a prefix of the specifier.
  resolve: {
    alias: [
      { find: /^tfjs-facenet\/node$/, replacement: src('node/index.ts') },
      { find: /^tfjs-facenet\/io$/, replacement: src('io/index.ts') },
      { find: /^tfjs-facenet\/mtcnn$/, replacement: src('mtcnn/index.ts') },
      { find: /^tfjs-facenet$/, replacement: src('index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // The tests run in Node, as Node users do: with Node's built-ins installed (what
    // importing tfjs-facenet/node does). The browser entry is checked by test/browser-entry.test.ts.
    setupFiles: ['test/setup-node.ts'],
    // Model tests are CPU-heavy; two cores, so run files in two forks.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
