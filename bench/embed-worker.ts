/**
 * One worker thread of bench/embed.ts: its own tfjs (wasm, 1 thread) and its own copy of the
 * model; embeds the crops it was given in batches when told to go, and reports its time.
 *
 * Messages: → `{ type: 'ready' }` after loading and one warm-up batch; ← `'go'`;
 * → `{ type: 'done', ms, faces }`; → `{ type: 'error', message }` on failure.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import '../src/runtime/install-node.js';
import { initBackend } from '../src/runtime/backend.js';
import { loadBenchModel } from './embed-models.js';

/** What the parent sends. */
export interface EmbedWorkerData {
  model: string;
  /** `[n, s, s, 3]` RGB crops, 0…255. */
  crops: Float32Array;
  shape: [number, number, number, number];
  batch: number;
  /** Batches to embed after the go signal. */
  rounds: number;
}

const port = parentPort!;
const job = workerData as EmbedWorkerData;

async function main(): Promise<void> {
  await initBackend({ backend: 'wasm' });
  const embedder = await loadBenchModel(job.model);
  const [n, s] = job.shape;
  const all = tf.tensor4d(job.crops, job.shape);
  // Batches cycle through the crops.
  const batches: tf.Tensor4D[] = [];
  for (let start = 0; start < n; start += job.batch) {
    const size = Math.min(job.batch, n - start);
    batches.push(tf.slice(all, [start, 0, 0, 0], [size, s, s, 3]));
  }
  all.dispose();
  await embedder.embedCrops(batches[0]);
  port.postMessage({ type: 'ready' });
  await new Promise<void>((go) => port.once('message', () => go()));
  const t0 = performance.now();
  let faces = 0;
  for (let r = 0; r < job.rounds; r++) {
    const b = batches[r % batches.length];
    faces += (await embedder.embedCrops(b)).length;
  }
  const ms = performance.now() - t0;
  batches.forEach((b) => b.dispose());
  embedder.dispose();
  port.postMessage({ type: 'done', ms, faces });
}

main().catch((e: unknown) => port.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e) }));
