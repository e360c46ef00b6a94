/**
 * FacePool throughput: detection jobs (640×480 frames as pixels) and embedding jobs (LFW
 * files, decoded in the workers: detection + alignment + the recognition model) on pools of
 * 1, 2, … worker threads, each worker its own tfjs-wasm instance. The baseline is the
 * 1-worker pool measured in the same run; the figure of interest is the wall-time
 * throughput ratio, which needs idle cores (process CPU time, all threads, is printed too:
 * when it grows with the worker count the work itself got dearer, not just waited longer).
 *
 *   npm run bench:pool -- [--workers 1,2] [--frames 40] [--faces 40] [--model default]
 *        [--initial-heap-mb 128] [--json out.json]
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

const program = new Command('bench:pool')
  .option('--workers <list>', 'pool sizes to measure (the first is the baseline)', '1,2')
  .option('--frames <n>', 'detection jobs (the five 640×480 group frames, cycled)', '40')
  .option('--faces <n>', 'embedding jobs (LFW files spread over the sorted list)', '40')
  .option('--model <name>', 'recognition model of the embedding jobs', 'default')
  .option('--initial-heap-mb <n>', "FacePool's initialHeapMB (0: V8's own heap sizing)", '128')
  .option('--json <file>', 'also write the results as JSON')
  .parse();
const o = program.opts<{ workers: string; frames: string; faces: string; model: string; initialHeapMb: string; json?: string }>();
const sizes = o.workers.split(',').filter(Boolean).map(Number);

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
  job: 'detect' | 'embed';
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
console.log(`jobs: ${frameJobs.length} detections of 640×480 frames, ${faceJobs.length} embeddings (model ${o.model}) of LFW files; workers' initial heap ${o.initialHeapMb} MB\n`);

const rows: Row[] = [];
for (const workers of sizes) {
  const pool = await FacePool.start({ workers, model: o.model, initialHeapMB: Number(o.initialHeapMb) });
  try {
    // Warm-up: every worker detects once and embeds once (loads the model, compiles kernels).
    await Promise.all(Array.from({ length: workers }, () => pool.detect(frameJobs[0])));
    await Promise.all(Array.from({ length: workers }, (_, i) => pool.embed(faceJobs[i % faceJobs.length]).catch(() => undefined)));
    rows.push(await timeJobs('detect', workers, () => frameJobs.map((f) => pool.detect(f))));
    rows.push(await timeJobs('embed', workers, () => faceJobs.map((f) => pool.embed(f))));
  } finally {
    await pool.close();
  }
  console.log(`  ${workers} worker(s) done`);
}

console.log('\n| job | workers | jobs | failed | wall s | jobs/s (wall) | × the first pool size | process CPU ms per job | of which workers / other threads |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const base = rows.find((b) => b.job === r.job && b.workers === sizes[0])!;
  console.log(
    `| ${r.job} | ${r.workers} | ${r.jobs} | ${r.failed} | ${(r.wallMs / 1000).toFixed(2)} | ${r.perSecond.toFixed(2)} | ×${(r.perSecond / base.perSecond).toFixed(2)} | ${r.cpuMsPerJob.toFixed(1)} | ${r.threads ? `${r.threads.workersMsPerJob.toFixed(1)} / ${r.threads.othersMsPerJob.toFixed(1)}` : 'n/a'} |`,
  );
}
console.log(`\nload average at the end: ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
if (o.json) {
  await writeFile(o.json, JSON.stringify({ date: new Date().toISOString(), loadavg: loadavg(), model: o.model, rows }, null, 2));
  console.log(`wrote ${o.json}`);
}
