/**
 * Soak test of the video pipeline: `FaceFollower`, the webcam example's loop (full MTCNN detection every k
 * frames, `Mtcnn.track` between them, each face embedded when it appears, when its picture
 * changes and once per second of video, named from a gallery) over N synthetic 640×480
 * frames, printing the process's resident memory (RSS), the JS heap, the wasm heap and
 * `tf.memory()` every M frames. The target is a flat line: no tensor, byte or RSS growth
 * once warm.
 *
 * Frames: the five group photos (samples/groups) cut to 640×480, each shown for 250 frames
 * while the camera pans slowly over it (a shift of up to ±24 px), then the next one — so
 * faces are followed, lost at the cuts and found again, as in a video.
 *
 *   npm run bench:soak -- [--frames 10000] [--every 500] [--detect-every 10] [--model default]
 *                         [--json out.json]
 *
 * Benchmarks only print; nothing here asserts.
 */
import { Command } from 'commander';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import '../src/runtime/install-node.js';
import { initBackend } from '../src/runtime/backend.js';
import { Mtcnn } from '../src/mtcnn/detector.js';
import { loadEmbedder } from '../src/recognition/models.js';
import { Gallery } from '../src/gallery/gallery.js';
import { enrollImages, listEnrollmentSources } from '../src/recognition/enroll.js';
import { sharedPath } from '../src/util/shared-data.js';
import { FaceFollower } from '../src/recognition/face-follower.js';

const program = new Command('bench:soak')
  .option('--frames <n>', 'frames to run', '10000')
  .option('--every <n>', 'print memory every n frames', '500')
  .option('--detect-every <k>', 'full detection every k frames (tracking between)', '10')
  .option('--model <name>', 'recognition model', 'default')
  .option('--json <file>', 'also write the samples as JSON')
  .parse();
const o = program.opts<{ frames: string; every: string; detectEvery: string; model: string; json?: string }>();
const total = Number(o.frames);
const every = Number(o.every);
const detectEvery = Number(o.detectEvery);
const FPS = 25;
const SCENE_FRAMES = 250;
const W = 640;
const H = 480;

await initBackend({ backend: 'wasm' });
const embedder = await loadEmbedder(o.model);
if (!(embedder.detector instanceof Mtcnn)) throw new Error('bench:soak needs the MTCNN detector');
const gallery = Gallery.create({ dimension: embedder.dimension, fingerprint: embedder.fingerprint, preprocessing: { ...embedder.preprocessing } });
const { sources } = await listEnrollmentSources([sharedPath('data', 'samples', 'people')]);
await enrollImages(gallery, embedder, sources);

// Scenes: each group photo covering 704×528, panned over at 640×480.
const dir = sharedPath('data', 'samples', 'groups');
const scenes = await Promise.all(
  (await readdir(dir))
    .filter((f) => f.endsWith('.jpg'))
    .sort()
    .map(async (f) => {
      const { data, info } = await sharp(join(dir, f)).resize(W + 64, H + 48, { fit: 'cover' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width };
    }),
);
/** Frame `i`: its scene, cut at an offset that moves a pixel or two per frame. */
function frameAt(i: number, out: Uint8Array): void {
  const scene = scenes[Math.floor(i / SCENE_FRAMES) % scenes.length];
  const t = (i % SCENE_FRAMES) / SCENE_FRAMES;
  const dx = Math.round(32 + 24 * Math.sin(2 * Math.PI * t));
  const dy = Math.round(24 + 16 * Math.sin(4 * Math.PI * t));
  for (let y = 0; y < H; y++) out.set(scene.data.subarray(((y + dy) * scene.width + dx) * 3, ((y + dy) * scene.width + dx + W) * 3), y * W * 3);
}

interface Sample {
  frame: number;
  seconds: number;
  rssMB: number;
  heapMB: number;
  wasmHeapMB: number | null;
  tensors: number;
  tensorMB: number;
  fullDetections: number;
  embeddings: number;
  faces: number;
}

function wasmHeapMB(): number | null {
  const b = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  return b.wasm?.HEAPU8 ? b.wasm.HEAPU8.length / 2 ** 20 : null;
}

const samples: Sample[] = [];
let fullDetections = 0;
let embeddings = 0;
let facesSeen = 0;
const started = performance.now();
function sample(frame: number): void {
  const m = process.memoryUsage();
  const t = tf.memory();
  const s: Sample = {
    frame,
    seconds: (performance.now() - started) / 1000,
    rssMB: m.rss / 2 ** 20,
    heapMB: m.heapUsed / 2 ** 20,
    wasmHeapMB: wasmHeapMB(),
    tensors: t.numTensors,
    tensorMB: t.numBytes / 2 ** 20,
    fullDetections,
    embeddings,
    faces: facesSeen,
  };
  samples.push(s);
  console.log(
    `| ${s.frame} | ${s.seconds.toFixed(0)} | ${s.rssMB.toFixed(1)} | ${s.heapMB.toFixed(1)} | ${s.wasmHeapMB?.toFixed(0) ?? '–'} | ${s.tensors} | ${s.tensorMB.toFixed(2)} | ${s.fullDetections} | ${s.embeddings} | ${s.faces} |`,
  );
}

console.log(`bench:soak — ${new Date().toISOString()}, load average ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
console.log(`${total} frames 640×480, full detection every ${detectEvery} frames, model ${o.model}, gallery of ${gallery.identities.length} people\n`);
console.log('| frame | s | RSS MB | JS heap MB | wasm heap MB | tensors | tensor MB | full detections | embeddings | faces |');
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');

const follower = new FaceFollower(gallery, embedder, { detectEvery, embedEveryFrames: FPS });
for (let i = 0; i < total; i++) {
  if (i % every === 0) sample(i);
  const data = new Uint8Array(W * H * 3);
  frameAt(i, data);
  const { faces, detected, embedded } = await follower.next({ data, width: W, height: H, channels: 3 });
  if (detected) fullDetections++;
  embeddings += embedded;
  facesSeen += faces.length;
}
sample(total);
const warm = samples.find((s) => s.frame >= Math.min(total, 2 * every)) ?? samples[0];
const last = samples[samples.length - 1];
console.log(
  `\nafter warm-up (frame ${warm.frame} → ${last.frame}): RSS ${(last.rssMB - warm.rssMB).toFixed(1)} MB, tensors ${last.tensors - warm.tensors}, tensor bytes ${((last.tensorMB - warm.tensorMB) * 1024).toFixed(1)} KB; ${((last.seconds - warm.seconds) > 0 ? (last.frame - warm.frame) / (last.seconds - warm.seconds) : 0).toFixed(2)} frames/s (wall)`,
);
console.log(`load average at the end: ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
embedder.dispose();
if (o.json) {
  await writeFile(o.json, JSON.stringify({ date: new Date().toISOString(), frames: total, detectEvery, model: o.model, samples }, null, 2));
  console.log(`wrote ${o.json}`);
}
