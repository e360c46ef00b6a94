import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/runtime/backend.js';
import { loadMtcnnParams } from '../src/mtcnn/weights.js';
import { pyramidLevels } from '../src/mtcnn/pyramid.js';
import { runPnet, runRefine } from '../src/mtcnn/stages.js';
import { generateBoundingBox, nms, bbregPnet, rerec, fixBox, pad } from '../src/mtcnn/box.js';
import { FACENET_LAYOUT, writeFacenetCrop, writePyramidLevel } from '../src/mtcnn/patches.js';
const be = process.argv[2] as 'wasm' | 'cpu';
await initBackend({ backend: be });
const params = await loadMtcnnParams('faceapi');
const { data, info } = await sharp('/work/shared/data/samples/groups/bbt1.jpg').resize(640, 480, { fit: 'cover' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
const image = { data: new Uint8Array(data), width: info.width, height: info.height, channels: 3 };
const levels = pyramidLevels(480, 640, 20, 0.709);
console.log('levels', levels.map(l => `${l.width}x${l.height}`).join(' '));
for (let rep = 0; rep < 2; rep++) {
  let t = performance.now();
  let px = 0;
  for (const level of levels) { const buf = new Float32Array(level.height * level.width * 3); writePyramidLevel(image, level.height, level.width, 'area', FACENET_LAYOUT, buf, 0); px += level.height * level.width; }
  const tPyr = performance.now() - t;
  t = performance.now();
  const maps = await runPnet(params, levels.map(level => ({ image, level })), 'area', FACENET_LAYOUT);
  const tPnet = performance.now() - t;
  t = performance.now();
  const all: any[] = [];
  maps.forEach((m, j) => { const boxes = generateBoundingBox({ data: m.prob, rows: m.rows, cols: m.cols }, m.reg, levels[j].scale, 0.6); const pick = nms(boxes, 0.5, 'Union'); for (const p of pick) all.push(boxes[p]); });
  const pick = nms(all, 0.7, 'Union');
  const cands = pick.map(p => fixBox(rerec(bbregPnet(all[p], all[p].reg))));
  const tPost = performance.now() - t;
  t = performance.now();
  const input = new Float32Array(cands.length * 24 * 24 * 3);
  let k = 0; for (const b of cands) if (writeFacenetCrop(image, pad(b, 640, 480), 24, FACENET_LAYOUT, input, k * 1728)) k++;
  const tCrop = performance.now() - t;
  t = performance.now();
  const out = await runRefine(params, 'rnet', input, k, 1024);
  const tRnet = performance.now() - t;
  let pass = 0; for (let i = 0; i < k; i++) if (out[i * 5] > 0.7) pass++;
  t = performance.now();
  const input48 = new Float32Array(pass * 48 * 48 * 3);
  let k2 = 0; for (let i = 0; i < k && k2 < pass; i++) if (out[i*5] > 0.7) { if (writeFacenetCrop(image, pad(cands[i], 640, 480), 48, FACENET_LAYOUT, input48, k2 * 6912)) k2++; }
  const tCrop48 = performance.now() - t;
  t = performance.now();
  await runRefine(params, 'onet', input48, k2, 256);
  const tOnet = performance.now() - t;
  console.log(be, JSON.stringify({ pyramidPx: px, tPyr, tPnet, tPost, candsRnet: k, tCrop, tRnet, rnetPass: pass, note: 'no rnet nms', tCrop48, tOnet }));
}
// R-Net cost per crop vs batch size
for (const n of [1, 16, 64, 256]) {
  const x = new Float32Array(n * 1728).fill(0.1);
  await runRefine(params, 'rnet', x, n, 1024);
  const t = performance.now(); await runRefine(params, 'rnet', x, n, 1024); const dt = performance.now() - t;
  console.log(be, 'rnet batch', n, (dt / n).toFixed(2), 'ms/crop');
}
