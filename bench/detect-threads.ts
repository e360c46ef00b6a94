/**
 * Where a detection's CPU goes besides the detecting thread: MTCNN on 640×480 frames (the
 * five group photos, cycled) in this thread, after a warm-up, then per frame: this thread's CPU,
 * every other thread's (V8's platform threads: garbage collection and optimizing compilers;
 * Linux `/proc/self/task`), the garbage collections by kind, and the JavaScript bytes allocated
 * (young-generation growth between collections). Run it under `node --trace-opt` or with V8
 * flags that keep one kind of background work on this thread (`--single-threaded-gc`,
 * `--no-concurrent-recompilation`) to see which work the other threads do.
 *
 *   npm run bench:detect-threads -- [--frames 100] [--warmup 10]
 *
 * Benchmarks only print; nothing here asserts on time.
 */
import { Command } from 'commander';
import v8 from 'node:v8';
import '../src/runtime/install-node.js';
import { initBackend } from '../src/runtime/backend.js';
import { loadMtcnn } from '../src/mtcnn/detector.js';
import { countCollections } from '../src/runtime/gc-count.js';
import { groupPhotos } from './bench-images.js';
import { threadCpuMs } from './thread-cpu.js';

const o = new Command('detect-threads')
  .option('--frames <n>', 'timed detections', '100')
  .option('--warmup <n>', 'detections before the clock starts', '10')
  .parse()
  .opts<{ frames: string; warmup: string }>();

/** CPU ms of this thread and of all the others (Linux), or null elsewhere. */
function threadCpu(): { self: number; others: number } | null {
  const all = threadCpuMs();
  if (!all) return null;
  const self = all.get(String(process.pid)) ?? 0;
  return { self, others: [...all.values()].reduce((a, b) => a + b, 0) - self };
}

const newSpaceUsed = (): number => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_used_size ?? 0;

await initBackend({ backend: 'wasm' });
const detector = await loadMtcnn();
const frames = await groupPhotos((img) => img.resize(640, 480, { fit: 'cover' }));
for (let i = 0; i < Number(o.warmup); i++) await detector.detect(frames[i % frames.length]!);

const gcs = countCollections();

const n = Number(o.frames);
const before = threadCpu();
const started = performance.now();
let allocated = 0;
let measured = 0;
for (let i = 0; i < n; i++) {
  const young = newSpaceUsed();
  await detector.detect(frames[i % frames.length]!);
  // Growth of the young generation during one detection; a collection within it makes the
  // difference negative, and that frame is left out of the mean.
  const grown = newSpaceUsed() - young;
  if (grown > 0) {
    allocated += grown;
    measured++;
  }
}
const wallMs = performance.now() - started;
const after = threadCpu();
await new Promise((r) => setTimeout(r, 50)); // let the observer see the last collections
gcs.stop();
detector.dispose();

console.log(`detect-threads: ${n} detections of 640×480 frames (wasm), ${Number(o.warmup)} before the clock, node ${process.version} ${process.execArgv.join(' ')}`);
console.log(`wall: ${(wallMs / n).toFixed(1)} ms per frame, ${((1000 * n) / wallMs).toFixed(2)} frames/s`);
if (before && after) {
  console.log(`CPU ms per frame: this thread ${((after.self - before.self) / n).toFixed(1)}, other threads ${((after.others - before.others) / n).toFixed(1)}`);
} else console.log('CPU per thread: n/a (no /proc/self/task)');
console.log(
  `garbage collections per 100 frames: minor ${((100 * gcs.minor) / n).toFixed(0)}, major ${((100 * gcs.major) / n).toFixed(0)}, incremental-marking steps ${((100 * gcs.incremental) / n).toFixed(0)}, other ${((100 * gcs.other) / n).toFixed(0)}`,
);
console.log(`JavaScript allocated per frame (young-generation growth, ${measured} frames without a collection): ${measured ? (allocated / measured / 1e6).toFixed(2) : 'n/a'} MB`);
