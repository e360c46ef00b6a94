import { defineConfig } from 'tsup';

export default defineConfig([
  {
    // The library: ESM + CJS + declarations. Worker entry points are built beside it
    // because worker_threads needs a file to start.
    entry: { index: 'src/index.ts', 'align-worker': 'src/mtcnn/align-worker.ts' },
    format: ['esm', 'cjs'],
    dts: { entry: { index: 'src/index.ts' } },
    sourcemap: true,
    clean: true,
    target: 'node20',
    splitting: false,
    shims: true,
    external: ['@tensorflow/tfjs-node', 'sharp'],
  },
  {
    entry: { cli: 'src/cli/main.ts' },
    format: ['esm'],
    sourcemap: true,
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
    external: ['@tensorflow/tfjs-node', 'sharp'],
  },
]);
