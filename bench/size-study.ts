/**
 * Size study of the Inception-ResNet-v1 builder: for each architecture (input size, width,
 * blocks per stage, embedding size) its parameters, file size (float32 and float16 weights,
 * as `saveModel` writes them) and CPU milliseconds per face at batch 1 and 8 (wasm, 1 thread),
 * against dlib's descriptor (`models/dlib`) timed in the same run — the issue's cost limit.
 * The networks have fixed random weights: cost does not depend on training. Accuracy comes
 * from trained models only: `--lfw name=eval-lfw-output.txt` adds the LFW line of an
 * `eval-lfw` report to the row of the architecture `name` (see BENCHMARKS.md).
 *
 *   npm run bench:size-study -- [--inputs 96,112,160] [--widths 0.5,1] [--blocks 2/4/2,5/10/5]
 *        [--embeddings 128] [--faces 16] [--json out/size-study.json] [--svg docs/images/size-study.svg]
 *
 * Inputs are random images: the time of a convolutional network does not depend on pixel values.
 */
import { Command } from 'commander';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-layers';
import '../src/runtime/install-node.js';
import { initBackend } from '../src/runtime/backend.js';
import { buildInceptionResnetV1 } from '../src/facenet/inception-resnet-v1.js';
import { loadModel, saveModel } from '../src/facenet/model-io.js';

const program = new Command('bench:size-study')
  .option('--inputs <list>', 'input sizes', '96,112,160')
  .option('--widths <list>', 'width multipliers', '0.5,1')
  .option('--blocks <list>', 'blocks per stage (block35/block17/block8)', '2/4/2,5/10/5')
  .option('--embeddings <list>', 'embedding sizes', '128')
  .option('--faces <n>', 'faces per timing pass', '16')
  .option('--lfw <name=file...>', 'LFW accuracy of a trained architecture: eval-lfw output file')
  .option('--json <file>', 'write the results as JSON')
  .option('--svg <file>', 'plot ms/face against file size')
  .option('--replot <json>', 'only draw --svg from the JSON of an earlier run (no measuring)')
  .parse();
const o = program.opts<{ inputs: string; widths: string; blocks: string; embeddings: string; faces: string; lfw?: string[]; json?: string; svg?: string; replot?: string }>();
const list = (s: string) => s.split(',').filter(Boolean);
const faces = Number(o.faces);

interface Row {
  name: string;
  inputSize: number;
  width: number;
  blocks: string;
  embeddingSize: number;
  parameters: number;
  mbFloat32: number;
  mbFloat16: number;
  cpuMsBatch1: number;
  cpuMsBatch8: number;
  lfw?: string;
}

const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** CPU ms per face of `model` at `batch` over `faces` random inputs (after one warm-up call). */
async function cpuMsPerFace(model: tfl.LayersModel, size: number, batch: number): Promise<number> {
  const x = tf.randomUniform([batch, size, size, 3], -1, 1, 'float32', 7);
  const run = async () => {
    const out = model.predict(x);
    const ys = Array.isArray(out) ? out : [out];
    await ys[0].data();
    tf.dispose(ys);
  };
  await run();
  const c0 = cpuNow();
  const calls = Math.max(1, Math.round(faces / batch));
  for (let i = 0; i < calls; i++) await run();
  const ms = (cpuNow() - c0) / (calls * batch);
  x.dispose();
  return ms;
}

async function folderMb(dir: string): Promise<number> {
  let bytes = 0;
  for (const f of await readdir(dir)) bytes += (await stat(join(dir, f))).size;
  return bytes / 1e6;
}

/** Parameters, file sizes and costs of one model (saved twice into a temp folder). */
async function measure(name: string, model: tfl.LayersModel, size: number): Promise<Omit<Row, 'inputSize' | 'width' | 'blocks' | 'embeddingSize'>> {
  const tmp = await mkdtemp(join(tmpdir(), 'size-study-'));
  try {
    await saveModel(model, join(tmp, 'f32'));
    await saveModel(model, join(tmp, 'f16'), { weightStorage: () => 'float16' });
    return {
      name,
      parameters: model.countParams(),
      mbFloat32: await folderMb(join(tmp, 'f32')),
      mbFloat16: await folderMb(join(tmp, 'f16')),
      cpuMsBatch1: await cpuMsPerFace(model, size, 1),
      cpuMsBatch8: await cpuMsPerFace(model, size, 8),
    };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** `Accuracy: 0.98883+-0.00420` of an eval-lfw report. */
async function lfwOf(file: string): Promise<string> {
  const m = /Accuracy:\s*([\d.]+)\+-([\d.]+)/.exec(await readFile(resolve(file), 'utf8'));
  if (!m) throw new Error(`bench:size-study: no "Accuracy:" line in ${file}`);
  return `${Number(m[1]).toFixed(4)} ± ${Number(m[2]).toFixed(4)}`;
}

if (o.replot) {
  if (!o.svg) throw new Error('bench:size-study: --replot needs --svg');
  const earlier = JSON.parse(await readFile(resolve(o.replot), 'utf8')) as { baseline: Row; rows: Row[] };
  await writeFile(resolve(o.svg), sizeStudySvg(earlier.baseline, earlier.rows));
  process.exit(0);
}

const info = await initBackend({ backend: 'wasm' });
console.log(`backend ${info.name}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);

const root = resolve(import.meta.dirname, '..');
const dlib = await loadModel(join(root, 'models', 'dlib'));
const baseline = { inputSize: 150, width: 1, blocks: 'ResNet-29', embeddingSize: 128, ...(await measure('dlib', dlib, 150)) };
dlib.dispose();
console.log(`dlib baseline: ${baseline.cpuMsBatch1.toFixed(1)} / ${baseline.cpuMsBatch8.toFixed(1)} CPU ms per face (batch 1 / 8), ${baseline.mbFloat32.toFixed(1)} MB`);

const rows: Row[] = [];
for (const inputSize of list(o.inputs).map(Number)) {
  for (const width of list(o.widths).map(Number)) {
    for (const blocks of list(o.blocks)) {
      for (const embeddingSize of list(o.embeddings).map(Number)) {
        const [block35, block17, block8] = blocks.split('/').map(Number);
        const name = `irv1-${inputSize}-w${width}-b${blocks.replaceAll('/', '.')}-e${embeddingSize}`;
        const model = buildInceptionResnetV1({ inputSize, embeddingSize, widthMultiplier: width, blockRepeats: { block35, block17, block8 }, seed: 3 });
        const r = { inputSize, width, blocks, embeddingSize, ...(await measure(name, model, inputSize)) };
        model.dispose();
        rows.push(r);
        console.log(
          `${name}: ${(r.parameters / 1e6).toFixed(2)} M params, ${r.mbFloat32.toFixed(1)} MB (${r.mbFloat16.toFixed(1)} fp16), ` +
            `${r.cpuMsBatch1.toFixed(1)} / ${r.cpuMsBatch8.toFixed(1)} CPU ms/face — ×${(r.cpuMsBatch1 / baseline.cpuMsBatch1).toFixed(2)} / ×${(r.cpuMsBatch8 / baseline.cpuMsBatch8).toFixed(2)} dlib`,
        );
      }
    }
  }
}
for (const spec of o.lfw ?? []) {
  const [name, file] = spec.split('=');
  const row = name === 'dlib' ? baseline : rows.find((r) => r.name === name);
  if (!row) throw new Error(`bench:size-study: --lfw ${name}: no such architecture in this run (${rows.map((r) => r.name).join(', ')})`);
  row.lfw = await lfwOf(file);
}
console.log(`load average at the end ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);

console.log('\n| architecture | input | width | blocks | emb | params (M) | MB fp32 | MB fp16 | CPU ms/face b1 | b8 | ×dlib b1 | ×dlib b8 | LFW |');
console.log('|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|');
for (const r of [baseline, ...rows]) {
  console.log(
    `| ${r.name} | ${r.inputSize} | ${r.width} | ${r.blocks} | ${r.embeddingSize} | ${(r.parameters / 1e6).toFixed(2)} | ${r.mbFloat32.toFixed(1)} | ${r.mbFloat16.toFixed(1)} | ` +
      `${r.cpuMsBatch1.toFixed(1)} | ${r.cpuMsBatch8.toFixed(1)} | ${(r.cpuMsBatch1 / baseline.cpuMsBatch1).toFixed(2)} | ${(r.cpuMsBatch8 / baseline.cpuMsBatch8).toFixed(2)} | ${r.lfw ?? '—'} |`,
  );
}

if (o.svg) {
  await mkdir(dirname(resolve(o.svg)), { recursive: true });
  await writeFile(resolve(o.svg), sizeStudySvg(baseline, rows));
}
if (o.json) {
  await mkdir(dirname(resolve(o.json)), { recursive: true });
  await writeFile(resolve(o.json), JSON.stringify({ date: new Date().toISOString(), loadavg: loadavg(), baseline, rows }, null, 2));
}

/** CPU ms per face (batch 8) against float32 file size, log-log; labelled points; dlib's cost as a line. */
function sizeStudySvg(base: Row, points: Row[]): string {
  const W = 820;
  const H = 440;
  const m = { l: 70, r: 150, t: 30, b: 50 };
  const all = [base, ...points];
  const lx = (v: number) => Math.log10(v);
  const [x0, x1] = [Math.min(...all.map((r) => lx(r.mbFloat32))) - 0.1, Math.max(...all.map((r) => lx(r.mbFloat32))) + 0.1];
  const [y0, y1] = [Math.min(...all.map((r) => lx(r.cpuMsBatch8))) - 0.1, Math.max(...all.map((r) => lx(r.cpuMsBatch8))) + 0.1];
  const px = (v: number) => m.l + ((lx(v) - x0) / (x1 - x0)) * (W - m.l - m.r);
  const py = (v: number) => H - m.b - ((lx(v) - y0) / (y1 - y0)) * (H - m.t - m.b);
  const ticks = (a: number, b: number) => {
    const out: number[] = [];
    for (let e = Math.floor(a); e <= Math.ceil(b); e++) for (const k of [1, 2, 5]) if (lx(k * 10 ** e) >= a && lx(k * 10 ** e) <= b) out.push(k * 10 ** e);
    return out;
  };
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="13">Inception-ResNet-v1 sizes: CPU ms per face (wasm, batch 8) against file size</text>`,
  ];
  for (const t of ticks(x0, x1)) parts.push(`<line x1="${px(t)}" x2="${px(t)}" y1="${m.t}" y2="${H - m.b}" stroke="#eee"/><text x="${px(t)}" y="${H - m.b + 15}" text-anchor="middle">${t}</text>`);
  for (const t of ticks(y0, y1)) parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${py(t)}" y2="${py(t)}" stroke="#eee"/><text x="${m.l - 6}" y="${py(t) + 4}" text-anchor="end">${t}</text>`);
  parts.push(`<text x="${W / 2}" y="${H - 12}" text-anchor="middle">MB (float32 weights)</text>`);
  parts.push(`<text x="16" y="${H / 2}" text-anchor="middle" transform="rotate(-90 16 ${H / 2})">CPU ms per face</text>`);
  parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${py(base.cpuMsBatch8)}" y2="${py(base.cpuMsBatch8)}" stroke="#c33" stroke-dasharray="5 4"/>`);
  parts.push(`<text x="${W - m.r + 4}" y="${py(base.cpuMsBatch8) + 4}" fill="#c33">dlib's cost (the limit)</text>`);
  for (const r of all) {
    const fill = r === base ? '#c33' : r.lfw ? '#16a' : '#888';
    const label = r === base ? `dlib${r.lfw ? ` · LFW ${r.lfw.split(' ')[0]}` : ''}` : `${r.inputSize}px w${r.width} ${r.blocks}${r.lfw ? ` · LFW ${r.lfw.split(' ')[0]}` : ''}`;
    parts.push(`<circle cx="${px(r.mbFloat32)}" cy="${py(r.cpuMsBatch8)}" r="4" fill="${fill}"/><text x="${px(r.mbFloat32) + 6}" y="${py(r.cpuMsBatch8) - 5}" fill="${fill}">${esc(label)}</text>`);
  }
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
