/**
 * MTCNN detection benchmark: milliseconds per 640×480 frame and per 250×250 LFW image for our
 * detector (wasm and cpu backends) against face-api.js 0.22.2's MTCNN with the same weights,
 * the same images and the same settings, measured in the same process.
 *
 *   npm run bench:detect -- [--backends wasm,cpu] [--runs 5] [--cpu-runs 1] [--frames 5]
 *                           [--lfw 50] [--no-faceapi] [--no-breakdown] [--json out.json]
 *
 * Images: the five group photos (samples/groups) resized to cover 640×480 and centre-cropped
 * (sharp, in memory); 50 LFW images picked evenly from the sorted list of all 7,701. All are
 * decoded to RGB bytes before timing. One warm-up pass (wasm) or call (cpu) is excluded.
 *
 * face-api runs in a worker thread of the same process (its bundled tfjs-core 1.7 would
 * otherwise share tfjs's global engine with ours), on that tfjs-core's cpu backend — it has no
 * other in Node — so the like-for-like comparison is ours on cpu against it; its calls are
 * interleaved with ours on cpu, image by image, so that both see the same machine load.
 * Times are wall clock (`performance.now`) and, beside them, the process's CPU time per call
 * (`process.cpuUsage`): both detectors are single-threaded, so on a busy machine CPU time is
 * the steadier figure. The component breakdown (detect-breakdown.ts) splits our wasm time
 * into resampling (WebAssembly SIMD, or JavaScript without it), network calls and box
 * arithmetic. Benchmarks only print; nothing here asserts on time.
 */
import { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import '../src/runtime/install-node.js';
import { initBackend } from '../src/runtime/backend.js';
import { loadMtcnn, type Mtcnn } from '../src/mtcnn/detector.js';
import { DEFAULT_OPTIONS, resolveOptions } from '../src/mtcnn/pipeline-types.js';
import { disposeParams, loadMtcnnParams } from '../src/mtcnn/weights.js';
import type { Box, FaceDetection } from '../src/face/types.js';
import { associate, boxIou } from '../src/recognition/face-tracks.js';
import { sharedPath } from '../src/util/shared-data.js';
import { breakdown, type Breakdown } from './detect-breakdown.js';
import { groupPhotos, lfwImages, type Rgb } from './bench-images.js';
import { startFaceApi, type FaceApiClient, type FaceApiFace } from './faceapi-client.js';
import { median } from './stats.js';

const program = new Command('bench:detect')
  .option('--backends <list>', 'our backends to measure', 'wasm,cpu')
  .option('--runs <n>', 'timed passes over each image set on wasm', '5')
  .option('--cpu-runs <n>', 'timed passes on cpu (ours, interleaved with face-api)', '1')
  .option('--frames <n>', 'group photos to use as 640×480 frames (of 5)', '5')
  .option('--lfw <n>', 'LFW images', '50')
  .option('--no-faceapi', 'skip the face-api.js baseline')
  .option('--no-breakdown', 'skip the component breakdown')
  .option('--json <file>', 'also write all results as JSON')
  .parse();
const o = program.opts<{
  backends: string;
  runs: string;
  cpuRuns: string;
  frames: string;
  lfw: string;
  faceapi: boolean;
  breakdown: boolean;
  json?: string;
}>();
const backends = o.backends.split(',').filter(Boolean) as ('wasm' | 'cpu')[];
const SETTINGS = { minFaceSize: 20, scaleFactor: 0.709, thresholds: [0.6, 0.7, 0.7] as [number, number, number] };

// ---------------------------------------------------------------- images

/** The five group photos resized to cover 640×480 and centre-cropped: webcam-sized frames. */
const frames = (): Promise<Rgb[]> => groupPhotos((img) => img.resize(640, 480, { fit: 'cover', position: 'centre' }));

// ---------------------------------------------------------------- statistics

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const fmt = (v: number, d = 1): string => (Number.isFinite(v) ? v.toFixed(d) : '—');

/** Timings of one detector on one image set. */
interface Series {
  label: string;
  set: string;
  backend: string;
  calls: number;
  wall: number[];
  cpu: number[];
  /** Stage sums over the calls (ms). */
  stages: Record<string, number>;
  faces: number[][][];
  /** face-api only: candidates handed to R-Net and O-Net per call (first timed pass). */
  inputs: [number, number][];
}

function newSeries(label: string, set: string, backend: string): Series {
  return { label, set, backend, calls: 0, wall: [], cpu: [], stages: {}, faces: [], inputs: [] };
}

async function timed<T>(s: Series, fn: () => Promise<T>): Promise<T> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await fn();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  s.wall.push(wall);
  s.cpu.push((c.user + c.system) / 1000);
  s.calls++;
  return r;
}

function addStages(s: Series, stages: Record<string, number>): void {
  for (const [k, v] of Object.entries(stages)) s.stages[k] = (s.stages[k] ?? 0) + v;
}

// ---------------------------------------------------------------- runners

const rawOf = (img: Rgb) => ({ data: img.data, width: img.width, height: img.height, channels: 3 as const });

async function oursCall(m: Mtcnn, img: Rgb, s: Series | null, runIndex: number): Promise<FaceDetection[]> {
  const faces = s ? await timed(s, () => m.detect(rawOf(img), SETTINGS)) : await m.detect(rawOf(img), SETTINGS);
  if (s) {
    const t = m.lastTimings!;
    addStages(s, { pnet: t.pnet, rnet: t.rnet, onet: t.onet, other: t.total - t.pnet - t.rnet - t.onet });
    if (runIndex === 0) s.faces.push(faces.map((f) => [...f.box, f.score]));
  }
  return faces;
}

async function faceapiCall(fa: FaceApiClient, image: number, s: Series | null, runIndex: number): Promise<FaceApiFace[]> {
  const { faces, stats, wall, cpu } = await fa.detect(image);
  if (s) {
    s.wall.push(wall);
    s.cpu.push(cpu);
    s.calls++;
    addStages(s, { pnet: stats.stage1, rnet: stats.stage2, onet: stats.stage3, other: wall - stats.stage1 - stats.stage2 - stats.stage3 });
    if (runIndex === 0) {
      s.faces.push(faces.map((f) => [...f.box, f.score]));
      s.inputs.push([stats.rnetInputs, stats.onetInputs]);
    }
  }
  return faces;
}

// ---------------------------------------------------------------- box comparison

/** Greedy one-to-one matching at IoU ≥ 0.5, best pairs first. */
function compareBoxes(ours: number[][][], theirs: number[][][]) {
  let matched = 0;
  let onlyOurs = 0;
  let onlyTheirs = 0;
  const ious: number[] = [];
  const corner: number[] = [];
  const size: number[] = [];
  ours.forEach((A, i) => {
    const B = theirs[i];
    const match = associate(A as Box[], B as Box[], 0.5);
    match.forEach((ia, ib) => {
      if (ia < 0) return;
      matched++;
      const a = A[ia];
      const b = B[ib];
      ious.push(boxIou(a as Box, b as Box));
      for (let k = 0; k < 4; k++) corner.push(Math.abs(a[k] - b[k]));
      size.push((b[2] - b[0]) / (a[2] - a[0]));
    });
    const paired = match.filter((ia) => ia >= 0).length;
    onlyOurs += A.length - paired;
    onlyTheirs += B.length - paired;
  });
  return {
    oursFaces: ours.reduce((n, a) => n + a.length, 0),
    theirFaces: theirs.reduce((n, b) => n + b.length, 0),
    matched,
    onlyOurs,
    onlyTheirs,
    meanIoU: ious.length ? mean(ious) : NaN,
    meanCornerDiffPx: corner.length ? mean(corner) : NaN,
    maxCornerDiffPx: corner.length ? Math.max(...corner) : NaN,
    meanWidthRatioTheirsOverOurs: size.length ? mean(size) : NaN,
  };
}

// ---------------------------------------------------------------- main

const load = loadavg();
console.log(`bench:detect — ${new Date().toISOString()}`);
console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}, load average ${load.map((l) => l.toFixed(2)).join(' ')}`);
console.log(`settings: minFaceSize ${SETTINGS.minFaceSize}, scaleFactor ${SETTINGS.scaleFactor}, thresholds ${SETTINGS.thresholds.join('/')}; weights mtcnn-faceapi (both sides)`);

const sets = { frames: (await frames()).slice(0, Number(o.frames)), lfw: await lfwImages(Number(o.lfw)) };
console.log(`images: ${sets.frames.length} frames 640×480 (${sets.frames.map((f) => f.name).join(', ')}), ${sets.lfw.length} LFW 250×250 (${sets.lfw[0]?.name} … ${sets.lfw[sets.lfw.length - 1]?.name})\n`);

const series: Series[] = [];
const batchRows: { set: string; backend: string; perImage: number[]; cpuPerImage: number[] }[] = [];
const trackRows: { backend: string; wall: number[]; cpu: number[]; found: number; detected: number }[] = [];
let fa: FaceApiClient | null = null;
const imageIds = new Map<Rgb, number>();
if (o.faceapi) {
  fa = await startFaceApi(sharedPath('weights', 'mtcnn-faceapi'), SETTINGS);
  console.log(`face-api.js 0.22.2 (worker thread) on its bundled tfjs-core ${fa.tfVersion}, backend ${fa.backend}`);
  for (const img of [...sets.frames, ...sets.lfw]) {
    imageIds.set(img, imageIds.size);
    await fa.addImage(imageIds.size - 1, img.data, img.width, img.height);
  }
}
const faSeries: Record<string, Series> = {};
type BreakdownRow = Breakdown & { image: string; detectorFaces: number };
const TIMED_PARTS = ['pyramid', 'pnetNet', 'pnetPost', 'rnetCrops', 'rnetNet', 'rnetPost', 'onetCrops', 'onetNet', 'onetPost'] as const;
const breakdowns: { backend: string; set: string; passes: number; rows: BreakdownRow[] }[] = [];

for (const backend of backends) {
  const info = await initBackend({ backend });
  const tensors0 = tf.memory().numTensors;
  const m = await loadMtcnn({ weights: 'faceapi' });
  const onCpu = backend === 'cpu';
  const runs = Number(onCpu ? o.cpuRuns : o.runs);
  const withFaceApi = fa !== null && (onCpu || !backends.includes('cpu'));
  console.log(`--- ours on ${info.name}${withFaceApi ? ', interleaved with face-api' : ''}: ${runs} timed pass(es)`);
  const faTensors0 = (await fa?.numTensors()) ?? 0;
  for (const [setName, imgs] of Object.entries(sets)) {
    const s = newSeries('ours', setName, info.name);
    const sf = withFaceApi ? newSeries('face-api', setName, fa!.backend) : null;
    // Warm-up: a whole pass on wasm (cheap), one call on cpu (nothing to compile there).
    for (const img of onCpu ? imgs.slice(0, 1) : imgs) {
      await oursCall(m, img, null, -1);
      if (sf) await faceapiCall(fa!, imageIds.get(img)!, null, -1);
    }
    for (let r = 0; r < runs; r++) {
      for (const img of imgs) {
        await oursCall(m, img, s, r);
        if (sf) await faceapiCall(fa!, imageIds.get(img)!, sf, r);
      }
      process.stdout.write(`  ${setName} pass ${r + 1}/${runs} done\n`);
    }
    series.push(s);
    if (sf) {
      series.push(sf);
      faSeries[setName] = sf;
    }
    // Batch mode on LFW: all images in one detectBatch call (P-Net shares calls per level size).
    if (setName === 'lfw' && !onCpu) {
      const perImage: number[] = [];
      const cpuPerImage: number[] = [];
      await m.detectBatch(imgs.map(rawOf), SETTINGS);
      for (let r = 0; r < runs; r++) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        await m.detectBatch(imgs.map(rawOf), SETTINGS);
        perImage.push((performance.now() - t0) / imgs.length);
        const c = process.cpuUsage(c0);
        cpuPerImage.push((c.user + c.system) / 1000 / imgs.length);
      }
      batchRows.push({ set: setName, backend: info.name, perImage, cpuPerImage });
    }
  }
  // Following faces between frames (Mtcnn.track): R-Net and O-Net around the boxes detect
  // found, no P-Net — the per-frame cost of a video between two full detections.
  if (!onCpu && sets.frames.length) {
    const wall: number[] = [];
    const cpu: number[] = [];
    let found = 0;
    let detected = 0;
    for (const img of sets.frames) {
      const boxes = (await m.detect(rawOf(img), SETTINGS)).map((f) => f.box);
      await m.track(rawOf(img), boxes, SETTINGS); // warm-up
      detected += boxes.length;
      for (let r = 0; r < runs; r++) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        const faces = await m.track(rawOf(img), boxes, SETTINGS);
        wall.push(performance.now() - t0);
        const c = process.cpuUsage(c0);
        cpu.push((c.user + c.system) / 1000);
        if (r === 0) found += faces.length;
      }
    }
    trackRows.push({ backend: info.name, wall, cpu, found, detected });
  }
  if (o.breakdown && !onCpu) {
    const params = await loadMtcnnParams('faceapi');
    const opts = resolveOptions(DEFAULT_OPTIONS.facenet, SETTINGS);
    for (const [setName, imgs] of Object.entries(sets)) {
      // Frames: every timed pass; LFW (50 images): one pass.
      const passes = setName === 'frames' ? Math.max(1, runs) : 1;
      const rows: BreakdownRow[] = [];
      for (const img of imgs) {
        const px = { data: img.data, width: img.width, height: img.height, channels: 3 };
        await breakdown(params, px, opts); // warm-up
        const parts: Breakdown[] = [];
        for (let r = 0; r < passes; r++) parts.push(await breakdown(params, px, opts));
        const avg = { ...parts[0] };
        for (const k of TIMED_PARTS) avg[k] = mean(parts.map((p) => p[k]));
        rows.push({ ...avg, image: img.name, detectorFaces: (await m.detect(rawOf(img), SETTINGS)).length });
      }
      breakdowns.push({ backend: info.name, set: setName, passes, rows });
    }
    disposeParams(params);
  }
  m.dispose();
  const leaked = tf.memory().numTensors - tensors0;
  const faLeaked = ((await fa?.numTensors()) ?? 0) - faTensors0;
  if (leaked !== 0 || faLeaked !== 0) console.log(`  WARNING: tensors left over: ours ${leaked}, face-api ${faLeaked}`);
}
// face-api alone when ours ran on wasm only: it was interleaved with wasm above.
await fa?.close();

// ---------------------------------------------------------------- report

console.log('\n## Milliseconds per image (warm-up excluded; N = images × passes)\n');
console.log('| detector | backend | images | N | wall median | wall mean | CPU mean | P-Net | R-Net | O-Net | other |');
console.log('|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const s of series) {
  const st = s.stages;
  const total = (st.pnet ?? 0) + (st.rnet ?? 0) + (st.onet ?? 0) + (st.other ?? 0);
  const share = (k: string) => `${fmt((100 * (st[k] ?? 0)) / total, 0)} %`;
  const setLabel = s.set === 'frames' ? '640×480 frames' : '250×250 LFW';
  console.log(
    `| ${s.label} | ${s.backend} | ${setLabel} | ${s.calls} | ${fmt(median(s.wall))} | ${fmt(mean(s.wall))} | ${fmt(mean(s.cpu))} | ${share('pnet')} | ${share('rnet')} | ${share('onet')} | ${share('other')} |`,
  );
}
for (const b of batchRows) {
  console.log(`| ours, detectBatch(${sets.lfw.length}) | ${b.backend} | 250×250 LFW | ${b.perImage.length} calls | ${fmt(median(b.perImage))} | ${fmt(mean(b.perImage))} | ${fmt(mean(b.cpuPerImage))} | | | | |`);
}
for (const t of trackRows) {
  const full = series.find((x) => x.label === 'ours' && x.set === 'frames' && x.backend === t.backend);
  const ratio = full ? ` (CPU ×${fmt(mean(full.cpu) / mean(t.cpu), 1)} less than a full detection)` : '';
  console.log(`| ours, track() from the detected boxes${ratio} | ${t.backend} | 640×480 frames | ${t.cpu.length} | ${fmt(median(t.wall))} | ${fmt(mean(t.wall))} | ${fmt(mean(t.cpu))} | | | | |`);
  console.log(`\ntrack(): ${t.found} of ${t.detected} detected faces found again from their boxes (first timed pass)`);
}
console.log(
  '\nStage shares: ours from Mtcnn.lastTimings (P-Net = pyramid resampling + P-Net + its NMS/regression; R-Net / O-Net = crops + network + NMS/regression; other = reading the RawImage into pixels); face-api from its own stats (stage1/2/3, whole ms; other = fromPixels, BGR swap, result objects).',
);

const ratios: Record<string, number> = {};
if (Object.keys(faSeries).length) {
  console.log('\n## Ratios ours / face-api (mean per image, same images, same run; < 1 means ours is faster)\n');
  console.log('| images | ours backend | wall ratio | CPU-time ratio |');
  console.log('|---|---|---:|---:|');
  for (const s of series.filter((x) => x.label === 'ours')) {
    const f = faSeries[s.set];
    if (!f) continue;
    const wr = mean(s.wall) / mean(f.wall);
    const cr = mean(s.cpu) / mean(f.cpu);
    ratios[`${s.set}:${s.backend}`] = wr;
    console.log(`| ${s.set === 'frames' ? '640×480 frames' : '250×250 LFW'} | ${s.backend} (face-api: ${f.backend}) | ${fmt(wr, 3)} | ${fmt(cr, 3)} |`);
  }
  console.log('\n## Faces found (first timed pass), ours vs face-api, matched at IoU ≥ 0.5\n');
  for (const set of Object.keys(faSeries)) {
    const ours = series.find((x) => x.label === 'ours' && x.set === set && x.faces.length)!;
    const c = compareBoxes(ours.faces, faSeries[set].faces);
    console.log(
      `${set}: ours ${c.oursFaces}, face-api ${c.theirFaces}; matched ${c.matched}, only ours ${c.onlyOurs}, only face-api ${c.onlyTheirs}; ` +
        `mean IoU ${fmt(c.meanIoU, 3)}, mean |corner diff| ${fmt(c.meanCornerDiffPx)} px (max ${fmt(c.maxCornerDiffPx)}), width face-api/ours ${fmt(c.meanWidthRatioTheirsOverOurs, 3)}`,
    );
  }
}

const oursByBackend = series.filter((x) => x.label === 'ours' && x.set === 'frames');
if (oursByBackend.length === 2) {
  const [a, b] = oursByBackend;
  let maxDiff = 0;
  let sameCounts = true;
  a.faces.forEach((facesA, i) => {
    if (facesA.length !== b.faces[i].length) sameCounts = false;
    else facesA.forEach((box, j) => box.slice(0, 4).forEach((v, k) => (maxDiff = Math.max(maxDiff, Math.abs(v - b.faces[i][j][k])))));
  });
  console.log(`\nours ${a.backend} vs ours ${b.backend} on the frames: ${sameCounts ? `same face counts, largest box-coordinate difference ${maxDiff.toExponential(2)} px` : 'DIFFERENT face counts'}`);
}

const COUNTED_PARTS = ['levels', 'pyramidPixels', 'rnetInputs', 'onetInputs', 'faces'] as const;
const bdRow = (label: string, f: Breakdown, note = ''): string => {
  const total = TIMED_PARTS.reduce((a, k) => a + f[k], 0);
  return (
    `| ${label} | ${fmt(f.levels, 0)} | ${fmt(f.pyramidPixels, 0)} | ${fmt(f.pyramid)} | ${fmt(f.pnetNet)} | ${fmt(f.pnetPost)} | ${fmt(f.rnetInputs, 0)} | ${fmt(f.rnetCrops)} | ${fmt(f.rnetNet)} | ` +
    `${fmt(f.rnetPost)} | ${fmt(f.onetInputs, 0)} | ${fmt(f.onetCrops)} | ${fmt(f.onetNet)} | ${fmt(f.onetPost)} | ${fmt(total)} | ${fmt(f.faces, 0)}${note} |`
  );
};
const meanBreakdown = (rows: Breakdown[]): Breakdown => {
  const m = { ...rows[0] };
  for (const k of [...TIMED_PARTS, ...COUNTED_PARTS]) m[k] = mean(rows.map((r) => r[k]));
  return m;
};
for (const b of breakdowns) {
  const what = b.set === 'frames' ? '640×480 frames' : `${b.rows.length} LFW images`;
  console.log(`\n## Component breakdown, ours on ${b.backend}, ${what} (process CPU ms per image, mean of ${b.passes} pass(es))\n`);
  console.log('| image | levels | pyramid px | pyramid | P-Net net | P-Net post | R-Net in | R-Net crops | R-Net net | R-Net post | O-Net in | O-Net crops | O-Net net | O-Net post | sum | faces |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  if (b.set === 'frames') for (const f of b.rows) console.log(bdRow(f.image, f));
  const drift = b.rows.filter((f) => f.faces !== f.detectorFaces).length;
  console.log(bdRow('mean', meanBreakdown(b.rows), drift ? ` (differs from the detector on ${drift} image(s)!)` : ''));
}
const faInputs = series.filter((x) => x.label === 'face-api' && x.inputs.length);
if (faInputs.length) {
  console.log('\nCandidates per image handed to R-Net / O-Net (first timed pass):');
  for (const f of faInputs) {
    const ours = breakdowns.find((b) => b.set === f.set);
    const oursText = ours ? `ours ${fmt(mean(ours.rows.map((r) => r.rnetInputs)))} / ${fmt(mean(ours.rows.map((r) => r.onetInputs)))}` : 'ours not measured';
    console.log(`  ${f.set}: ${oursText}; face-api ${fmt(mean(f.inputs.map((i) => i[0])))} / ${fmt(mean(f.inputs.map((i) => i[1])))}`);
  }
}
console.log(`\nload average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

if (o.json) {
  await writeFile(
    o.json,
    JSON.stringify({ date: new Date().toISOString(), loadStart: load, loadEnd: loadavg(), settings: SETTINGS, series, batchRows, trackRows, ratios, breakdowns }, null, 1),
  );
  console.log(`wrote ${o.json}`);
}
