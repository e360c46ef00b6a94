/**
 * Training throughput on the default backend (wasm in Node): images per second and peak
 * memory of `train()` for
 *
 * - `full`: Inception-ResNet-v1 as FaceNet trains it — 160 px, batch 8, 512-d;
 * - `small`: a narrow, shallow variant — 96 px, width ×0.5, blocks 2/4/2, batch 16, 128-d;
 *
 * each with as many accumulated micro-batches per update as there are cores, run in the
 * main thread (`workers 0`), in one worker thread, data-parallel over all cores (each
 * worker one whole micro-batch), and — for comparison — data-parallel with one micro-batch
 * per update split across the workers. Every run is a separate process (wasm memory never
 * shrinks), on real face crops from CelebA (../shared/data/celeba-faces: the first 8
 * identities in sorted order with at least 12 images, their first 12 files, scaled to
 * 182 px). LFW is the evaluation set and is never trained on. Images per second count
 * training images (micro-batch × accumulation per update). The machine may be shared:
 * "CPU s/image" (process CPU time of all threads per image) does not depend on other load.
 * Usage:
 *
 *     npm run bench:train -- [--steps N] [--warmup N] [--configs full,small] [--json out.json]
 */
import { spawn } from 'node:child_process';
import { availableParallelism, tmpdir } from 'node:os';
import { mkdtemp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
// The library reads files and decodes images through the Node platform it is handed (parent and children).
import '../src/runtime/install-node.js';

interface BenchConfig {
  name: string;
  imageSize: number;
  batchSize: number;
  embeddingSize: number;
  modelOptions: Record<string, unknown>;
}

const CONFIGS: Record<string, BenchConfig> = {
  full: { name: 'full', imageSize: 160, batchSize: 8, embeddingSize: 512, modelOptions: {} },
  small: {
    name: 'small',
    imageSize: 96,
    batchSize: 16,
    embeddingSize: 128,
    modelOptions: { widthMultiplier: 0.5, blockRepeats: { block35: 2, block17: 4, block8: 2 } },
  },
};

interface ChildJob {
  config: BenchConfig;
  workers: number;
  accumulationSteps: number;
  data: string;
  out: string;
  steps: number;
  warmup: number;
}

interface ChildResult {
  config: string;
  workers: number;
  accumulationSteps: number;
  /** Images per second over the measured steps (total time). */
  imagesPerSecond: number;
  /** Images per second of the fastest measured step (least disturbed by other load). */
  bestImagesPerSecond: number;
  secondsPerStep: number;
  /** Median seconds per step. */
  medianSecondsPerStep: number;
  /** Mean per-step breakdown over the measured steps. */
  breakdown: Record<string, number>;
  /** Process CPU time (all threads) per image over the measured steps: the work, whatever else runs on the machine. */
  cpuSecondsPerImage: number;
  peakRssMB: number;
  wasmHeapMB: number | null;
  backend: string;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

async function runChild(job: ChildJob): Promise<void> {
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-layers');
  const { initBackend } = await import('../src/runtime/backend.js');
  const { train } = await import('../src/train/trainer.js');
  const info = await initBackend();
  const stamps: number[] = [];
  const cpu: number[] = [];
  const breakdowns: Record<string, number>[] = [];
  await train(
    {
      dataDir: job.data,
      outDir: job.out,
      imageSize: job.config.imageSize,
      batchSize: job.config.batchSize,
      accumulationSteps: job.accumulationSteps,
      embeddingSize: job.config.embeddingSize,
      modelOptions: job.config.modelOptions,
      validationSplit: 0,
      epochs: 1,
      stepsPerEpoch: job.warmup + job.steps,
      learningRate: 0.01,
    },
    {
      workers: job.workers,
      maxSteps: job.warmup + job.steps,
      exportModel: false,
      progress: false,
      onStep: (s) => {
        stamps.push(performance.now());
        const u = process.cpuUsage();
        cpu.push((u.user + u.system) / 1e6);
        breakdowns.push(s.seconds);
      },
    },
  );
  // Measured interval: from the end of the last warm-up step to the end of the last step.
  const measured = stamps.slice(job.warmup - 1);
  const seconds = (measured[measured.length - 1] - measured[0]) / 1000;
  const steps = measured.length - 1;
  const durations = measured.slice(1).map((t, i) => (t - measured[i]) / 1000).sort((a, b) => a - b);
  const perStep = job.config.batchSize * job.accumulationSteps;
  const keys = Object.keys(breakdowns[breakdowns.length - 1]);
  const tail = breakdowns.slice(job.warmup);
  const breakdown = Object.fromEntries(keys.map((k) => [k, tail.reduce((s, b) => s + (b[k] ?? 0), 0) / tail.length]));
  const backend = tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } };
  const result: ChildResult = {
    config: job.config.name,
    workers: job.workers,
    accumulationSteps: job.accumulationSteps,
    imagesPerSecond: (steps * perStep) / seconds,
    bestImagesPerSecond: perStep / durations[0],
    cpuSecondsPerImage: (cpu[cpu.length - 1] - cpu[job.warmup - 1]) / (steps * perStep),
    secondsPerStep: seconds / steps,
    medianSecondsPerStep: durations[Math.floor(durations.length / 2)],
    breakdown,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    wasmHeapMB: backend.wasm ? backend.wasm.HEAPU8.buffer.byteLength / 2 ** 20 : null,
    backend: info.name,
  };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

/** Identities and images per identity of the training set (deterministic: sorted order). */
const DATA_IDENTITIES = 8;
const DATA_IMAGES_PER_IDENTITY = 12;
/** The side of the face crops `align` writes (FaceNet's 182 px); random crops of `imageSize` come from it. */
const DATA_CROP_SIZE = 182;

/**
 * A small training tree from ../shared/data/celeba-faces: the first {@link DATA_IDENTITIES}
 * identity folders (sorted) holding at least {@link DATA_IMAGES_PER_IDENTITY} images, the
 * first that many files of each, scaled to {@link DATA_CROP_SIZE} px PNG.
 */
async function makeData(): Promise<string> {
  const { loadSharp } = await import('../src/image/decode-node.js');
  const { sharedPath } = await import('../src/util/shared-data.js');
  const sharp = await loadSharp();
  const source = sharedPath('data', 'celeba-faces');
  const root = join(await mkdtemp(join(tmpdir(), 'bench-train-')), 'faces');
  let identities = 0;
  for (const id of (await readdir(source)).sort()) {
    if (identities === DATA_IDENTITIES) break;
    const files = (await readdir(join(source, id))).filter((x) => x.endsWith('.jpg')).sort();
    if (files.length < DATA_IMAGES_PER_IDENTITY) continue;
    identities++;
    await mkdir(join(root, id), { recursive: true });
    for (const f of files.slice(0, DATA_IMAGES_PER_IDENTITY)) {
      // The crops are at most 112 px; scaled up so that the loader decodes and randomly crops
      // images of the size it gets from `align`, as in a real run.
      const png = await sharp(join(source, id, f)).resize(DATA_CROP_SIZE, DATA_CROP_SIZE, { fit: 'fill' }).png().toBuffer();
      await writeFile(join(root, id, f.replace(/\.jpg$/, '.png')), png);
    }
  }
  if (identities < DATA_IDENTITIES) throw new Error(`bench:train: only ${identities} identities in ${source} have ${DATA_IMAGES_PER_IDENTITY} images`);
  return root;
}

function modeName(workers: number, accumulationSteps: number): string {
  if (workers === 0) return `main thread ×${accumulationSteps}`;
  if (workers > 1 && accumulationSteps < workers) return `${workers} workers split`;
  return `${workers} worker${workers > 1 ? 's' : ''} ×${accumulationSteps}`;
}

function spawnChild(job: ChildJob): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', JSON.stringify(job)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code === 0 && line) resolve(JSON.parse(line.slice(7)) as ChildResult);
      else reject(new Error(`benchmark child (${job.config.name}, ${job.workers} workers) exited with ${code}`));
    });
  });
}

async function main(): Promise<void> {
  const childArg = arg('child', '');
  if (childArg) return runChild(JSON.parse(childArg) as ChildJob);

  const steps = Number(arg('steps', '4'));
  const warmup = Number(arg('warmup', '2'));
  const names = arg('configs', 'small,full').split(',');
  const cores = availableParallelism();
  const data = await makeData();
  const results: ChildResult[] = [];
  const temps = [dirname(data)];
  try {
    for (const name of names) {
      const config = CONFIGS[name];
      if (!config) throw new Error(`unknown config ${name} (known: ${Object.keys(CONFIGS).join(', ')})`);
      const modes = [
        { workers: 0, accumulationSteps: cores },
        { workers: 1, accumulationSteps: cores },
        { workers: cores, accumulationSteps: cores },
        { workers: cores, accumulationSteps: 1 },
      ];
      for (const { workers, accumulationSteps } of modes) {
        const out = await mkdtemp(join(tmpdir(), `bench-train-${name}-${workers}-`));
        temps.push(out);
        process.stderr.write(`${name}: ${modeName(workers, accumulationSteps)} …\n`);
        const r = await spawnChild({ config, workers, accumulationSteps, data, out, steps, warmup });
        results.push(r);
        process.stderr.write(
          `  ${r.imagesPerSecond.toFixed(2)} images/s (best step ${r.bestImagesPerSecond.toFixed(2)}), ${r.secondsPerStep.toFixed(2)} s/step, ${r.cpuSecondsPerImage.toFixed(3)} CPU s/image, peak RSS ${r.peakRssMB.toFixed(0)} MB` +
            (r.wasmHeapMB !== null ? `, wasm heap ${r.wasmHeapMB.toFixed(0)} MB` : '') +
            `\n  breakdown ${JSON.stringify(r.breakdown, (_k, v) => (typeof v === 'number' ? +v.toFixed(3) : v))}\n`,
        );
      }
    }
    process.stdout.write(`\nTraining throughput (${results[0]?.backend}, ${cores} cores, ${steps} measured steps after ${warmup} warm-up)\n`);
    process.stdout.write('config  input batch  mode              images/s  best/s  s/step  CPU s/img  peak RSS MB\n');
    for (const r of results) {
      const c = CONFIGS[r.config];
      const mode = modeName(r.workers, r.accumulationSteps);
      process.stdout.write(
        `${r.config.padEnd(7)} ${String(c.imageSize).padStart(5)} ${String(c.batchSize).padStart(5)}  ${mode.padEnd(17)} ${r.imagesPerSecond.toFixed(2).padStart(9)} ${r.bestImagesPerSecond.toFixed(2).padStart(7)} ${r.secondsPerStep.toFixed(2).padStart(7)} ${r.cpuSecondsPerImage.toFixed(3).padStart(10)} ${r.peakRssMB.toFixed(0).padStart(12)}\n`,
      );
    }
    for (const name of names) {
      const of = (w: number, a = cores) => results.find((r) => r.config === name && r.workers === w && r.accumulationSteps === a)!;
      const ratio = (a: ChildResult, b: ChildResult) =>
        `×${(a.imagesPerSecond / b.imagesPerSecond).toFixed(2)} (best steps ×${(a.bestImagesPerSecond / b.bestImagesPerSecond).toFixed(2)}, CPU/image ×${(a.cpuSecondsPerImage / b.cpuSecondsPerImage).toFixed(2)})`;
      process.stdout.write(
        `${name}: ${cores} workers vs main thread ${ratio(of(cores), of(0))}; vs 1 worker ${ratio(of(cores), of(1))}; ` +
          `split batches vs main thread ${ratio(of(cores, 1), of(0))}\n`,
      );
    }
    const json = arg('json', '');
    if (json) await writeFile(json, JSON.stringify({ cores, steps, warmup, results }, null, 2));
  } finally {
    for (const t of temps) await rm(t, { recursive: true, force: true });
  }
}

await main();
