/**
 * Embedding speed: milliseconds per face of each recognition model at batch 1 and batch 8
 * (wasm, 1 thread, main thread), and throughput over worker threads — each worker its own
 * tfjs-wasm instance and model copy, all embedding at once — against one worker.
 *
 *   npm run bench:embed -- [--models default,dlib,full160] [--faces 16] [--batches 1,8]
 *                          [--passes 2] [--workers 1,2] [--worker-batches 6] [--json out.json]
 *
 * Faces: the main face of `--faces` LFW images picked evenly from the sorted list, cut as each
 * model's preprocessing says (detection and cropping are not timed). `full160` is the full
 * Inception-ResNet-v1 (160 px, 512-d) with random weights: the compute of a trained one.
 * Times: wall and process CPU time (all threads). On a shared machine CPU time per face is the
 * figure that does not depend on other jobs; the worker speed-up is a wall-time ratio and
 * needs idle cores to mean anything.
 */
import { Command } from 'commander';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import '../src/runtime/install-node.js';
import { initBackend } from '../src/runtime/backend.js';
import { loadMtcnn } from '../src/mtcnn/detector.js';
import { startWorker } from '../src/runtime/workers.js';
import { sharedPath } from '../src/util/shared-data.js';
import { loadBenchModel } from './embed-models.js';
import type { EmbedWorkerData } from './embed-worker.js';

const program = new Command('bench:embed')
  .option('--models <list>', 'shipped model names, model directories, or full160', 'default,dlib,full160')
  .option('--faces <n>', 'LFW images (one face each)', '16')
  .option('--batches <list>', 'batch sizes timed in the main thread', '1,8')
  .option('--passes <n>', 'passes over the faces per batch size', '2')
  .option('--workers <list>', 'worker-thread counts (empty: skip)', '1,2')
  .option('--worker-batches <n>', 'batches of 8 each worker embeds', '6')
  .option('--json <file>', 'also write the results as JSON')
  .parse();
const o = program.opts<{ models: string; faces: string; batches: string; passes: string; workers: string; workerBatches: string; json?: string }>();
const list = (s: string) => s.split(',').filter(Boolean);
const models = list(o.models);
const batchSizes = list(o.batches).map(Number);
const workerCounts = list(o.workers).map(Number);
const passes = Number(o.passes);
const workerRounds = Number(o.workerBatches);
const WORKER_BATCH = 8;

function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
const fmt = (v: number, d = 1) => v.toFixed(d);

async function lfwFiles(count: number): Promise<string[]> {
  const dir = sharedPath('data', 'lfw');
  const all: string[] = [];
  for (const person of (await readdir(dir)).sort()) {
    for (const f of (await readdir(join(dir, person))).sort()) all.push(join(dir, person, f));
  }
  return Array.from({ length: count }, (_, i) => all[Math.floor((i * all.length) / count)]);
}

interface BatchResult {
  model: string;
  batch: number;
  faces: number;
  wallMsPerFace: number;
  cpuMsPerFace: number;
}
interface WorkerResult {
  model: string;
  workers: number;
  faces: number;
  wallMs: number;
  facesPerSecond: number;
  cpuMsPerFace: number;
}

/** Time embedding in `batch`-sized calls over all crops, `passes` times. */
async function timeBatches(embed: (x: tf.Tensor4D) => Promise<unknown>, crops: tf.Tensor4D, batch: number): Promise<{ wall: number; cpu: number; faces: number }> {
  const [n, s] = crops.shape;
  const chunks: tf.Tensor4D[] = [];
  for (let start = 0; start + batch <= n; start += batch) chunks.push(tf.slice(crops, [start, 0, 0, 0], [batch, s, s, 3]));
  await embed(chunks[0]); // warm-up at this shape
  let wall = 0;
  let cpu = 0;
  let faces = 0;
  for (let p = 0; p < passes; p++) {
    for (const c of chunks) {
      const w0 = performance.now();
      const c0 = cpuNow();
      await embed(c);
      cpu += cpuNow() - c0;
      wall += performance.now() - w0;
      faces += batch;
    }
  }
  chunks.forEach((c) => c.dispose());
  return { wall, cpu, faces };
}

/** Run `count` workers at once on the crops; wall time from the go signal to the last one done. */
async function timeWorkers(model: string, crops: tf.Tensor4D, count: number): Promise<WorkerResult> {
  const data: EmbedWorkerData = {
    model,
    crops: (await crops.data()) as Float32Array,
    shape: crops.shape,
    batch: WORKER_BATCH,
    rounds: workerRounds,
  };
  const workers = Array.from({ length: count }, () => {
    const w = startWorker(import.meta.url, { bundled: './embed-worker.js', source: './embed-worker.ts' }, data);
    if (!w) throw new Error('bench:embed: cannot start a worker thread (tsx not found)');
    return w;
  });
  const next = (w: (typeof workers)[number]) =>
    new Promise<{ type: string; ms?: number; faces?: number; message?: string }>((res, rej) => {
      w.once('message', res);
      w.once('error', rej);
    });
  try {
    const ready = await Promise.all(workers.map(next));
    for (const r of ready) if (r.type !== 'ready') throw new Error(`worker: ${r.message}`);
    const done = workers.map(next);
    const w0 = performance.now();
    const c0 = cpuNow();
    workers.forEach((w) => w.postMessage('go'));
    const results = await Promise.all(done);
    const wallMs = performance.now() - w0;
    const cpu = cpuNow() - c0;
    for (const r of results) if (r.type !== 'done') throw new Error(`worker: ${r.message}`);
    const faces = results.reduce((n, r) => n + (r.faces ?? 0), 0);
    return { model, workers: count, faces, wallMs, facesPerSecond: faces / (wallMs / 1000), cpuMsPerFace: cpu / faces };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

const info = await initBackend({ backend: 'wasm' });
console.log(`backend ${info.name}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
const files = await lfwFiles(Number(o.faces));
const detector = await loadMtcnn();
const batchResults: BatchResult[] = [];
const workerResults: WorkerResult[] = [];

for (const name of models) {
  const embedder = await loadBenchModel(name, detector);
  const size = embedder.preprocessing.imageSize;
  const crops: tf.Tensor4D[] = [];
  for (const f of files) {
    const c = await embedder.cropFaces(f, 'main');
    if (c.crops.shape[0] > 0) crops.push(c.crops);
    else c.crops.dispose();
  }
  const all = tf.concat(crops) as tf.Tensor4D;
  crops.forEach((c) => c.dispose());
  console.log(`\n${name}: ${size} px, ${embedder.dimension}-d, ${all.shape[0]} faces from ${files.length} LFW images`);
  for (const b of batchSizes) {
    const t = await timeBatches((x) => embedder.embedCrops(x), all, b);
    const r: BatchResult = { model: name, batch: b, faces: t.faces, wallMsPerFace: t.wall / t.faces, cpuMsPerFace: t.cpu / t.faces };
    batchResults.push(r);
    const base = batchResults.find((x) => x.model === name && x.batch === batchSizes[0])!;
    console.log(
      `  batch ${b}: ${fmt(r.wallMsPerFace)} ms/face wall, ${fmt(r.cpuMsPerFace)} ms/face CPU (${fmt(1000 / r.cpuMsPerFace)} faces/s of CPU); CPU vs batch ${base.batch}: ×${fmt(base.cpuMsPerFace / r.cpuMsPerFace, 2)}`,
    );
  }
  embedder.dispose();
  for (const w of workerCounts) {
    const r = await timeWorkers(name, all, w);
    workerResults.push(r);
    const base = workerResults.find((x) => x.model === name && x.workers === workerCounts[0])!;
    console.log(
      `  ${w} worker${w > 1 ? 's' : ''} × batch ${WORKER_BATCH}: ${fmt(r.facesPerSecond, 2)} faces/s wall, ${fmt(r.cpuMsPerFace)} ms/face CPU; throughput vs ${base.workers} worker: ×${fmt(r.facesPerSecond / base.facesPerSecond, 2)}`,
    );
  }
  all.dispose();
}
detector.dispose();
console.log(`\nload average at the end ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);

console.log('\n| model | batch | wall ms/face | CPU ms/face | faces/s (CPU) |');
console.log('|---|---:|---:|---:|---:|');
for (const r of batchResults) console.log(`| ${r.model} | ${r.batch} | ${fmt(r.wallMsPerFace)} | ${fmt(r.cpuMsPerFace)} | ${fmt(1000 / r.cpuMsPerFace)} |`);
if (workerResults.length) {
  console.log('\n| model | workers | faces | wall s | faces/s | ×1 worker | CPU ms/face |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const r of workerResults) {
    const base = workerResults.find((x) => x.model === r.model && x.workers === workerCounts[0])!;
    console.log(`| ${r.model} | ${r.workers} | ${r.faces} | ${fmt(r.wallMs / 1000, 2)} | ${fmt(r.facesPerSecond, 2)} | ${fmt(r.facesPerSecond / base.facesPerSecond, 2)} | ${fmt(r.cpuMsPerFace)} |`);
  }
}
if (o.json) {
  await mkdir(dirname(o.json), { recursive: true });
  await writeFile(o.json, JSON.stringify({ date: new Date().toISOString(), loadavg: loadavg(), batchResults, workerResults }, null, 2));
}
