/**
 * FacePool throughput: detection jobs (640×480 frames as pixels) and embedding jobs (LFW
 * files, decoded in the workers: detection + alignment + the recognition model) on pools of
 * 1, 2, … worker threads, each worker its own tfjs-wasm instance. The baseline is the
 * 1-worker pool measured in the same run; the figure of interest is the wall-time
 * throughput ratio, which needs idle cores (process CPU time, all threads, is printed too:
 * when it grows with the worker count the work itself got dearer, not just waited longer).
 *
 *   npm run bench:pool -- [--workers 1,2] [--frames 40] [--faces 40] [--model default]
 *        [--initial-heap-mb 128] [--rounds N] [--ceiling-jobs 40] [--warmup 1] [--json out.json]
 *
 * This host's speed drifts by up to a quarter within a minute, which swamps a ratio of two
 * pools measured one after the other. `--rounds N` keeps one pool of each size alive and
 * measures them interleaved, A B B A per round (a drift that is linear within the round
 * cancels), with `--frames` / `--faces` jobs per block; it prints each round's ratio and their
 * median.
 *
 * `--ceiling-jobs N` adds a third kind of job measured the same way: fixed arithmetic on plain
 * worker threads (`cpu-ceiling.ts`), whose ratio is what this host gives that many threads in
 * that round — the pool's ratio is printed as a fraction of it too.
 *
 * `--warmup N`: each worker detects and embeds N times before anything is measured. One job
 * loads the model and compiles the kernels, but V8 keeps optimizing the pipeline's JavaScript
 * for a few hundred jobs more, on its own background threads — free on an idle core beside one
 * worker, taken from the other worker beside two — so a short warm-up measures start-up too.
 *
 * Benchmarks only print; nothing here asserts on time.
 */
import { Command } from 'commander';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import sharp from 'sharp';
import '../src/runtime/install-node.js';
import { FacePool, type PoolImage } from '../src/recognition/face-pool.js';
import { sharedPath } from '../src/util/shared-data.js';
import { threadCpuMs } from './thread-cpu.js';
import { CpuCeiling } from './cpu-ceiling.js';
import { median } from './stats.js';

const program = new Command('bench:pool')
  .option('--workers <list>', 'pool sizes to measure (the first is the baseline)', '1,2')
  .option('--frames <n>', 'detection jobs (the five 640×480 group frames, cycled)', '40')
  .option('--faces <n>', 'embedding jobs (LFW files spread over the sorted list)', '40')
  .option('--model <name>', 'recognition model of the embedding jobs', 'default')
  .option('--initial-heap-mb <n>', "FacePool's initialHeapMB (0: V8's own heap sizing)", '128')
  .option('--rounds <n>', 'interleave the pool sizes, A B B A, this many times (0: one pool after the other)', '0')
  .option('--ceiling-jobs <n>', "fixed-arithmetic jobs on plain threads per block: this host's own ratio (0: off)", '40')
  .option('--warmup <n>', 'detections and embeddings per worker before measuring', '1')
  .option('--json <file>', 'also write the results as JSON')
  .parse();
const o = program.opts<{ workers: string; frames: string; faces: string; model: string; initialHeapMb: string; rounds: string; ceilingJobs: string; warmup: string; json?: string }>();
const sizes = o.workers.split(',').filter(Boolean).map(Number);
const roundCount = Number(o.rounds);
if (!(Number.isInteger(roundCount) && roundCount >= 0)) throw new Error(`--rounds: a whole number ≥ 0, got ${o.rounds}`);
const ceilingJobs = Number(o.ceilingJobs);
if (!(Number.isInteger(ceilingJobs) && ceilingJobs >= 0)) throw new Error(`--ceiling-jobs: a whole number ≥ 0, got ${o.ceilingJobs}`);
const warmup = Number(o.warmup);
if (!(Number.isInteger(warmup) && warmup >= 1)) throw new Error(`--warmup: a whole number ≥ 1, got ${o.warmup}`);
type Job = 'detect' | 'embed' | 'ceiling';
const JOBS: readonly Job[] = ceilingJobs > 0 ? ['detect', 'embed', 'ceiling'] : ['detect', 'embed'];

const cpuNow = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function frames(count: number): Promise<PoolImage[]> {
  const dir = sharedPath('data', 'samples', 'groups');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.jpg')).sort();
  const decoded = await Promise.all(
    files.map(async (f) => {
      const { data, info } = await sharp(join(dir, f)).resize(640, 480, { fit: 'cover' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
    }),
  );
  return Array.from({ length: count }, (_, i) => decoded[i % decoded.length]);
}

async function lfwFiles(count: number): Promise<string[]> {
  const dir = sharedPath('data', 'lfw');
  const people = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  const all: string[] = [];
  for (const p of people) for (const f of (await readdir(join(dir, p))).filter((f) => f.endsWith('.jpg')).sort()) all.push(join(dir, p, f));
  return Array.from({ length: Math.min(count, all.length) }, (_, i) => all[Math.floor(((i + 0.5) * all.length) / count)]);
}

interface Row {
  job: Job;
  workers: number;
  jobs: number;
  failed: number;
  wallMs: number;
  perSecond: number;
  cpuMsPerJob: number;
  /**
   * Of that, the busiest `workers` threads (the pool's workers) and all other threads (main,
   * V8's platform threads: garbage collection, optimizing compilers; libuv's); null off Linux.
   */
  threads: { workersMsPerJob: number; othersMsPerJob: number } | null;
}

/** All jobs submitted at once; wall time from the first submission to the last result. */
async function timeJobs(job: Row['job'], workers: number, run: () => Promise<unknown>[]): Promise<Row> {
  const c0 = cpuNow();
  const th0 = threadCpuMs();
  const t0 = performance.now();
  const settled = await Promise.allSettled(run());
  const wallMs = performance.now() - t0;
  const cpu = cpuNow() - c0;
  const th1 = threadCpuMs();
  const failed = settled.filter((s) => s.status === 'rejected').length;
  const n = settled.length;
  let threads: Row['threads'] = null;
  if (th0 && th1) {
    const used = [...th1].map(([tid, ms]) => ms - (th0.get(tid) ?? 0)).sort((a, b) => b - a);
    const busiest = used.slice(0, workers).reduce((a, b) => a + b, 0);
    const all = used.reduce((a, b) => a + b, 0);
    threads = { workersMsPerJob: busiest / n, othersMsPerJob: (all - busiest) / n };
  }
  return { job, workers, jobs: n, failed, wallMs, perSecond: n / (wallMs / 1000), cpuMsPerJob: cpu / n, threads };
}

console.log(`bench:pool — ${new Date().toISOString()}`);
console.log(`machine: ${cpus().length} × ${cpus()[0]?.model.trim()}, Node ${process.version}, load average ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
const frameJobs = await frames(Number(o.frames));
const faceJobs = await lfwFiles(Number(o.faces));
console.log(`jobs: ${frameJobs.length} detections of 640×480 frames, ${faceJobs.length} embeddings (model ${o.model}) of LFW files; workers' initial heap ${o.initialHeapMb} MB; warm-up ${warmup} of each per worker\n`);

/** What one pool size runs: the face pool and, with `--ceiling-jobs`, as many plain threads. */
interface Subjects {
  pool: FacePool;
  ceiling: CpuCeiling | null;
}

// Passes per arithmetic job: about 50 ms on one thread, fixed for the whole run.
const ceilingPasses = await (async () => {
  if (ceilingJobs === 0) return 0;
  const probe = CpuCeiling.start(1);
  try {
    return await probe.calibrate(50);
  } finally {
    await probe.close();
  }
})();

async function startSubjects(workers: number): Promise<Subjects> {
  const pool = await FacePool.start({ workers, model: o.model, initialHeapMB: Number(o.initialHeapMb) });
  // Warm-up: every worker detects and embeds `warmup` times (the first loads the model and
  // compiles kernels; later ones let V8 finish optimizing). All at once: the pool spreads them.
  await Promise.all(Array.from({ length: workers * warmup }, (_, i) => pool.detect(frameJobs[i % frameJobs.length])));
  await Promise.all(Array.from({ length: workers * warmup }, (_, i) => pool.embed(faceJobs[i % faceJobs.length]).catch(() => undefined)));
  const ceiling = ceilingJobs > 0 ? CpuCeiling.start(workers) : null;
  await ceiling?.run(workers * 2, ceilingPasses);
  return { pool, ceiling };
}

async function closeSubjects(s: Subjects): Promise<void> {
  await s.pool.close();
  await s.ceiling?.close();
}

function measure(s: Subjects, job: Job, workers: number): Promise<Row> {
  switch (job) {
    case 'detect':
      return timeJobs(job, workers, () => frameJobs.map((f) => s.pool.detect(f)));
    case 'embed':
      return timeJobs(job, workers, () => faceJobs.map((f) => s.pool.embed(f)));
    case 'ceiling':
      // One promise per job, so the row counts jobs like the others.
      return timeJobs(job, workers, () => {
        const all = s.ceiling!.run(ceilingJobs, ceilingPasses);
        return Array.from({ length: ceilingJobs }, () => all);
      });
  }
}

const rows: Row[] = [];
/** Per interleaved round and job: jobs/s of each pool size over its two blocks. */
const rounds: { job: Job; perSecond: Map<number, number> }[] = [];
if (roundCount > 0) {
  const distinct = [...new Set(sizes)];
  const subjects = new Map<number, Subjects>();
  try {
    for (const w of distinct) subjects.set(w, await startSubjects(w));
    for (let r = 0; r < roundCount; r++) {
      for (const job of JOBS) {
        const blocks: Row[] = [];
        for (const w of [...distinct, ...[...distinct].reverse()]) blocks.push(await measure(subjects.get(w)!, job, w));
        rows.push(...blocks);
        const perSecond = new Map<number, number>();
        for (const w of distinct) {
          const mine = blocks.filter((b) => b.workers === w);
          perSecond.set(w, mine.reduce((a, b) => a + b.jobs, 0) / (mine.reduce((a, b) => a + b.wallMs, 0) / 1000));
        }
        rounds.push({ job, perSecond });
      }
      console.log(`  round ${r + 1} of ${roundCount} done`);
    }
  } finally {
    for (const s of subjects.values()) await closeSubjects(s);
  }
} else {
  for (const workers of sizes) {
    const s = await startSubjects(workers);
    try {
      for (const job of JOBS) rows.push(await measure(s, job, workers));
    } finally {
      await closeSubjects(s);
    }
    console.log(`  ${workers} worker(s) done`);
  }
}

console.log(`\n| job | workers | jobs | failed | wall s | jobs/s (wall) | × the first ${roundCount > 0 ? 'block' : 'pool'} of ${sizes[0]} | process CPU ms per job | of which workers / other threads |`);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const base = rows.find((b) => b.job === r.job && b.workers === sizes[0])!;
  console.log(
    `| ${r.job} | ${r.workers} | ${r.jobs} | ${r.failed} | ${(r.wallMs / 1000).toFixed(2)} | ${r.perSecond.toFixed(2)} | ×${(r.perSecond / base.perSecond).toFixed(2)} | ${r.cpuMsPerJob.toFixed(1)} | ${r.threads ? `${r.threads.workersMsPerJob.toFixed(1)} / ${r.threads.othersMsPerJob.toFixed(1)}` : 'n/a'} |`,
  );
}
if (rounds.length) {
  const base = sizes[0];
  console.log(`\nInterleaved rounds (A B B A): jobs/s of each pool size over its two blocks, and × ${base} worker(s) in the same round`);
  const ratiosOf = (job: Job, w: number): number[] =>
    rounds.filter((r) => r.job === job).map((r) => r.perSecond.get(w)! / r.perSecond.get(base)!);
  for (const job of JOBS) {
    const mine = rounds.filter((r) => r.job === job);
    for (const w of [...new Set(sizes)].filter((w) => w !== base)) {
      const ratios = ratiosOf(job, w);
      console.log(
        `${job}, ${w} vs ${base}: ${mine.map((r, i) => `${r.perSecond.get(base)!.toFixed(2)} → ${r.perSecond.get(w)!.toFixed(2)} (×${ratios[i].toFixed(2)})`).join(', ')}; median ×${median(ratios).toFixed(2)}, range ×${Math.min(...ratios).toFixed(2)}–×${Math.max(...ratios).toFixed(2)}`,
      );
    }
  }
  if (ceilingJobs > 0) {
    console.log(`\nThe pool's ratio as a fraction of the host's (plain threads, same round), per round, and the median`);
    for (const job of ['detect', 'embed'] as const) {
      for (const w of [...new Set(sizes)].filter((w) => w !== base)) {
        const host = ratiosOf('ceiling', w);
        const f = ratiosOf(job, w).map((x, i) => x / host[i]);
        console.log(`${job}, ${w} vs ${base}: ${f.map((x) => x.toFixed(2)).join(', ')}; median ${median(f).toFixed(2)}`);
      }
    }
  }
}
console.log(`\nload average at the end: ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
if (o.json) {
  await writeFile(o.json, JSON.stringify({ date: new Date().toISOString(), loadavg: loadavg(), model: o.model, warmup, ceilingPasses, rows, rounds: rounds.map((r) => ({ job: r.job, perSecond: Object.fromEntries(r.perSecond) })) }, null, 2));
  console.log(`wrote ${o.json}`);
}
