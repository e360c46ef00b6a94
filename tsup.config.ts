import { rmSync } from 'node:fs';
import { defineConfig } from 'tsup';

// Empty dist/ once, before both builds start. A per-config `clean: true` would run while the
// other config (the CLI) may already be writing into dist/, and could delete its output.
rmSync('dist', { recursive: true, force: true });

export default defineConfig([
  {
    // The library: ESM + CJS + declarations. Worker entry points are built beside it
    // because worker_threads needs a file to start.
    entry: {
      index: 'src/index.ts',
      node: 'src/node/index.ts',
      io: 'src/io/index.ts',
      mtcnn: 'src/mtcnn/index.ts',
      'align-worker': 'src/datasets/align-worker.ts',
      'train-worker': 'src/train/parallel-worker.ts',
      'face-pool-worker': 'src/recognition/face-pool-worker.ts',
    },
    format: ['esm', 'cjs'],
    dts: { entry: { index: 'src/index.ts', node: 'src/node/index.ts', io: 'src/io/index.ts', mtcnn: 'src/mtcnn/index.ts' } },
    sourcemap: true,
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
