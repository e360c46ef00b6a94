/**
 * The whole pipeline — detect every face, find its landmarks, compute its 128-d descriptor —
 * ours against @vladmandic/face-api, on the same images, the same tfjs backend (wasm, SIMD,
 * 1 thread; one tfjs-core instance shared, see faceapi-vladmandic.ts) and in the same run.
 *
 *   npm run bench:pipeline -- [--lfw 30] [--groups 5] [--detectors ssd,tiny] [--passes 1]
 *                             [--json out.json]
 *
 * Ours: `loadEmbedder('default')` (dlib's ResNet ported to tfjs, 8-bit weights) and
 * `embedAllFaces(image)`: MTCNN (boxes and 5 landmarks), dlib's 150 px face chip, the network.
 * face-api: SSD MobileNet v1 and/or the tiny face detector, `faceLandmark68Net` (68 points, a
 * box-aligned crop), `faceRecognitionNet` (dlib's ResNet, float32), its own defaults.
 *
 * Images: `--lfw` LFW images (250×250) picked evenly from the sorted list of all files, and
 * the group photos (samples/groups/bbt1…5, at their own size, 594×383 to 1366×768), decoded
 * to RGB bytes before timing; each pipeline starts from those bytes (making its input tensor is
 * timed). Each image goes through every pipeline in turn (ours, then each face-api detector),
 * so all see the same machine load; one untimed call of each on the first image of each set
 * first. Times: process CPU time per image (`process.cpuUsage`; every pipeline here is
 * single-threaded, so on a shared machine this is the figure to trust) and wall time.
 * Agreement: faces both found (boxes at IoU ≥ 0.5) and the cosine between the two
 * descriptors of each (bench/pipeline-agreement.ts). Benchmarks only print.
 */
import { Command } from 'commander';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import '../src/runtime/install-node.js';
import { initBackend } from '../src/runtime/backend.js';
import { loadEmbedder } from '../src/recognition/models.js';
import { groupPhotos, lfwImages, type Rgb } from './bench-images.js';
import { loadVladFaceApi, vladFaceApiModelDir, type VladDetector } from './faceapi-vladmandic.js';
import { agreement, pairFaces, type Agreement, type DescribedFace, type ImagePairing } from './pipeline-agreement.js';

const program = new Command('bench:pipeline')
  .option('--lfw <n>', 'LFW images, picked evenly from the sorted list', '30')
  .option('--groups <n>', 'group photos (of 5)', '5')
  .option('--detectors <list>', "face-api's detectors: ssd (SSD MobileNet v1), tiny (tiny face detector)", 'ssd,tiny')
  .option('--passes <n>', 'timed passes over the images', '1')
  .option('--json <file>', 'also write every measurement as JSON')
  .parse();
const o = program.opts<{ lfw: string; groups: string; detectors: string; passes: string; json?: string }>();
const detectors = o.detectors.split(',').filter(Boolean) as VladDetector[];
const passes = Number(o.passes);
const MIN_IOU = 0.5;

/** One pipeline: every face of an RGB image, described. */
interface Pipeline {
  name: string;
  describeAll(image: Rgb): Promise<DescribedFace[]>;
}

/** What one pipeline did with one image set. */
interface Measured {
  pipeline: string;
  set: string;
  images: number;
  /** Faces found in each image (first pass). */
  faces: DescribedFace[][];
  cpuMs: number[];
  wallMs: number[];
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
const mean = (xs: readonly number[]) => sum(xs) / xs.length;
const fmt = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '—');

async function timed<T>(fn: () => Promise<T>): Promise<{ result: T; cpuMs: number; wallMs: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await fn();
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { result, cpuMs: (c.user + c.system) / 1000, wallMs };
}

/** Every pipeline on every image of one set, image by image, `passes` times. */
async function measureSet(set: string, images: readonly Rgb[], pipelines: readonly Pipeline[]): Promise<Measured[]> {
  const out = pipelines.map((p): Measured => ({ pipeline: p.name, set, images: images.length, faces: [], cpuMs: [], wallMs: [] }));
  for (const p of pipelines) await p.describeAll(images[0]); // warm-up: kernels and shapes of this set
  for (let pass = 0; pass < passes; pass++) {
    for (const image of images) {
      for (const [i, p] of pipelines.entries()) {
        const { result, cpuMs, wallMs } = await timed(() => p.describeAll(image));
        out[i].cpuMs.push(cpuMs);
        out[i].wallMs.push(wallMs);
        if (pass === 0) out[i].faces.push(result);
      }
    }
    process.stderr.write(`${set}: pass ${pass + 1}/${passes} done\n`);
  }
  return out;
}

// ---------------------------------------------------------------- run

const startLoad = loadavg();
const backend = await initBackend({ backend: 'wasm' });
const embedder = await loadEmbedder('default');
const faceapi = await loadVladFaceApi(vladFaceApiModelDir(), detectors);
const pipelines: Pipeline[] = [
  {
    name: 'ours (MTCNN + dlib chip + dlib ResNet)',
    async describeAll(image) {
      const faces = await embedder.embedAllFaces({ data: image.data, width: image.width, height: image.height, channels: 3 });
      return faces.map((f) => ({ box: f.detection.box, descriptor: f.embedding }));
    },
  },
  ...detectors.map(
    (d): Pipeline => ({
      name: `face-api ${faceapi.version} (${d === 'ssd' ? 'SSD MobileNet v1' : 'tiny face detector'} + landmark68 + recognition)`,
      describeAll: (image) => faceapi.describeAll(image, d),
    }),
  ),
];
const sets = {
  lfw: await lfwImages(Number(o.lfw)),
  groups: (await groupPhotos()).slice(0, Number(o.groups)),
};
console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}, load average ${startLoad.map((l) => l.toFixed(2)).join(' ')}`);
console.log(`backend: ${backend.name} (tfjs-core ${tf.version_core}, shared by both), face-api backend ${faceapi.backend}; ${passes} timed pass(es)`);
console.log(`images: ${sets.lfw.length} LFW (${sets.lfw[0]?.name} … ${sets.lfw[sets.lfw.length - 1]?.name}), ${sets.groups.length} group photos (${sets.groups.map((g) => `${g.name} ${g.width}×${g.height}`).join(', ')})\n`);

const tensorsBefore = tf.memory().numTensors;
const results: Measured[] = [];
for (const [set, images] of Object.entries(sets)) if (images.length) results.push(...(await measureSet(set, images, pipelines)));
const leaked = tf.memory().numTensors - tensorsBefore;

// ---------------------------------------------------------------- report

/** The measurements of one pipeline over some sets, merged. */
function merged(pipeline: string, setNames: readonly string[]): Measured {
  const parts = results.filter((r) => r.pipeline === pipeline && setNames.includes(r.set));
  return {
    pipeline,
    set: setNames.join('+'),
    images: sum(parts.map((p) => p.images)),
    faces: parts.flatMap((p) => p.faces),
    cpuMs: parts.flatMap((p) => p.cpuMs),
    wallMs: parts.flatMap((p) => p.wallMs),
  };
}

const setGroups: [string, string[]][] = [
  ['LFW 250×250', ['lfw']],
  ['group photos', ['groups']],
  ['all', Object.keys(sets)],
];
const [ours, ...baselines] = pipelines.map((p) => p.name);
console.log('| images | pipeline | faces found | CPU ms / image | wall ms / image | ours ÷ this: CPU | ours ÷ this: wall |');
console.log('|---|---|---:|---:|---:|---:|---:|');
const table: Record<string, unknown>[] = [];
for (const [label, names] of setGroups) {
  const mine = merged(ours, names);
  for (const name of [ours, ...baselines]) {
    const m = merged(name, names);
    if (!m.cpuMs.length) continue;
    const row = {
      images: `${label} (${m.images})`,
      pipeline: name,
      faces: sum(m.faces.map((f) => f.length)),
      cpuMs: mean(m.cpuMs),
      wallMs: mean(m.wallMs),
      cpuRatio: mean(mine.cpuMs) / mean(m.cpuMs),
      wallRatio: mean(mine.wallMs) / mean(m.wallMs),
    };
    table.push(row);
    const ratio = name === ours ? ['1', '1'] : [fmt(row.cpuRatio, 2), fmt(row.wallRatio, 2)];
    console.log(`| ${row.images} | ${name} | ${row.faces} | ${fmt(row.cpuMs)} | ${fmt(row.wallMs)} | ${ratio[0]} | ${ratio[1]} |`);
  }
}

console.log(`\nAgreement with ours (faces paired at IoU ≥ ${MIN_IOU}; cosine between the two descriptors of a face, and between ours and face-api's of other paired faces):`);
console.log('| images | face-api detector | paired | only ours | only face-api (its best IoU with ours) | same face: mean cosine | min | max | other faces: mean cosine |');
console.log('|---|---|---:|---:|---|---:|---:|---:|---:|');
const agreements: Record<string, Agreement> = {};
const iouRange = (xs: readonly number[]) => (xs.length ? ` (${fmt(xs[0], 2)}–${fmt(xs[xs.length - 1], 2)})` : '');
for (const [label, names] of setGroups) {
  const mine = merged(ours, names);
  for (const name of baselines) {
    const theirs = merged(name, names);
    const pairings: ImagePairing[] = mine.faces.map((f, i) => pairFaces(f, theirs.faces[i], MIN_IOU));
    const a = agreement(pairings);
    agreements[`${label} / ${name}`] = a;
    console.log(
      `| ${label} | ${name} | ${a.paired} | ${a.onlyOurs} | ${a.onlyTheirs}${iouRange(a.unpairedTheirsBestIou)} | ${fmt(a.sameFace.mean, 4)} | ${fmt(a.sameFace.min, 4)} | ${fmt(a.sameFace.max, 4)} | ${fmt(a.otherFaces, 4)} |`,
    );
  }
}
const endLoad = loadavg();
console.log(`\ntensors left after the timed passes: ${leaked}; load average at the end ${endLoad.map((l) => l.toFixed(2)).join(' ')}`);

if (o.json) {
  await mkdir(dirname(o.json), { recursive: true });
  const perImage = results.map((r) => ({ ...r, faces: r.faces.map((f) => f.map((x) => ({ box: x.box }))) }));
  await writeFile(o.json, JSON.stringify({ backend: backend.name, passes, startLoad, endLoad, table, agreements, perImage }, null, 2));
}
embedder.dispose();
