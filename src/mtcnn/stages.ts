/**
 * Running the networks on many inputs at once: pyramid levels of equal size share one P-Net
 * call, and all R-Net (O-Net) crops of a whole batch of images go through one call (split
 * only past `maxBatch` crops). One download per call, no per-face synchronisation.
 */
import * as tf from '@tensorflow/tfjs-core';
import { isRawImage, loadImage, rawToRgbBytes } from '../image/load.js';
import type { ImageInput } from '../image/types.js';
import type { Candidate, HeatMap } from './box.js';
import { faceProbability, onetMarginRows, pnetMarginMap, rnetMarginRows } from './networks.js';
import { writePyramidLevel, type InputLayout } from './patches.js';
import type { PixelBuffer } from '../image/pixels.js';
import type { PyramidLevel } from './pyramid.js';
import { pnetLevelWeights, type MtcnnParams } from './weights.js';
import { FloatScratch } from '../util/scratch.js';

/**
 * Read an image into a pixel buffer. Integer-valued 0…255 pixels (anything decoded from a
 * file) become a `Uint8Array`, so resampling follows OpenCV's 8-bit arithmetic exactly as the
 * reference (which reads uint8 images) does; other values stay float64.
 */
export async function readPixels(input: ImageInput): Promise<PixelBuffer & { scale: number }> {
  // Files and encoded bytes (Node) decode straight to 8-bit RGB, no tensor round trip; past
  // the decoder's pixel cap they come downscaled, by `scale`.
  if (isNode && (typeof input === 'string' || input instanceof Uint8Array)) {
    const { decodeImageFile, decodeImageBytes } = await import('../image/decode-node.js');
    const raw = typeof input === 'string' ? await decodeImageFile(input) : await decodeImageBytes(input, 'image buffer');
    return { data: raw.data as Uint8Array, height: raw.height, width: raw.width, channels: 3, scale: raw.scale };
  }
  // Raw 8-bit frames (video, FacePool jobs) are 8-bit already: no tensor round trip either.
  if (isRawImage(input)) return { data: rawToRgbBytes(input), height: input.height, width: input.width, channels: 3, scale: 1 };
  const t = await loadImage(input);
  let values: Float32Array;
  try {
    values = (await t.data()) as Float32Array;
  } finally {
    t.dispose();
  }
  const [height, width] = t.shape;
  let integral = true;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v >= 0 && v <= 255 && v === Math.floor(v))) {
      integral = false;
      break;
    }
  }
  const data = integral ? Uint8Array.from(values) : Float64Array.from(values);
  return { data, height, width, channels: 3, scale: 1 };
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

/** One P-Net input: a pyramid level of one image. */
export interface PnetJob {
  image: PixelBuffer;
  level: PyramidLevel;
  /** The level's place in its image's pyramid (0 = the largest); picks P-Net's weight copy. */
  index: number;
}

/**
 * One P-Net result, in the layout of the network output: `rows × cols` cells
 * (`rows` along the first spatial axis of the input as fed).
 */
export interface PnetMaps {
  prob: Float32Array;
  /** 4 values per cell, interleaved. */
  reg: Float32Array;
  rows: number;
  cols: number;
}

/** Upper bound on input pixels per P-Net call (keeps activations of big batches in check). */
const PNET_PIXEL_BUDGET = 4_000_000;

/** P-Net's input batch, filled and turned into a tensor without an `await` in between. */
const pnetInput = new FloatScratch();

/**
 * Run P-Net on every job; jobs whose levels have the same size are batched together.
 * Results come back in job order.
 */
export async function runPnet(
  params: MtcnnParams,
  jobs: readonly PnetJob[],
  resample: 'area' | 'linear',
  layout: InputLayout,
): Promise<PnetMaps[]> {
  const results: PnetMaps[] = new Array(jobs.length);
  const groups = new Map<string, number[]>();
  for (let i = 0; i < jobs.length; i++) {
    const key = `${jobs[i].level.height}x${jobs[i].level.width}`;
    const g = groups.get(key);
    if (g) g.push(i);
    else groups.set(key, [i]);
  }
  for (const members of groups.values()) {
    const { height, width } = jobs[members[0]].level;
    const per = Math.max(1, Math.floor(PNET_PIXEL_BUDGET / (height * width)));
    for (let start = 0; start < members.length; start += per) {
      const chunk = members.slice(start, start + per);
      const n = chunk.length;
      const plane = height * width * 3;
      const buf = pnetInput.take(n * plane);
      for (let k = 0; k < n; k++) writePyramidLevel(jobs[chunk[k]].image, height, width, resample, layout, buf, k * plane);
      const shape: [number, number, number, number] = layout.transpose ? [n, width, height, 3] : [n, height, width, 3];
      const weights = pnetLevelWeights(params.pnet, jobs[chunk[0]].index);
      const out = tf.tidy(() => pnetMarginMap(weights, tf.tensor4d(buf, shape)));
      let data: Float32Array;
      try {
        data = (await out.data()) as Float32Array;
      } finally {
        out.dispose();
      }
      const [, rows, cols] = out.shape;
      const cells = rows * cols;
      for (let k = 0; k < n; k++) {
        const prob = new Float32Array(cells);
        const reg = new Float32Array(cells * 4);
        const base = k * cells * 5;
        for (let i = 0; i < cells; i++) {
          const s = base + i * 5;
          prob[i] = faceProbability(data[s]);
          reg[i * 4] = data[s + 1];
          reg[i * 4 + 1] = data[s + 2];
          reg[i * 4 + 2] = data[s + 3];
          reg[i * 4 + 3] = data[s + 4];
        }
        results[chunk[k]] = { prob, reg, rows, cols };
      }
    }
  }
  return results;
}

/** One pyramid level's P-Net output: the face probability map, its regressions, the level's scale. */
export interface PnetLevelMap {
  heat: HeatMap;
  reg: Float32Array;
  scale: number;
}

/**
 * The first stage's network work for a batch of images: P-Net over each image's pyramid
 * `levels` (equal-sized levels batched together). Per image, the maps level by level in order.
 */
export async function pnetMaps(
  params: MtcnnParams,
  images: readonly PixelBuffer[],
  levels: readonly (readonly PyramidLevel[])[],
  resample: 'area' | 'linear',
  layout: InputLayout,
): Promise<PnetLevelMap[][]> {
  const jobs: PnetJob[] = [];
  const jobImage: number[] = [];
  for (let i = 0; i < images.length; i++) {
    for (let index = 0; index < levels[i].length; index++) {
      jobs.push({ image: images[i], level: levels[i][index], index });
      jobImage.push(i);
    }
  }
  const maps = await runPnet(params, jobs, resample, layout);
  const perImage: PnetLevelMap[][] = [];
  for (let i = 0; i < images.length; i++) perImage.push([]);
  for (let j = 0; j < maps.length; j++) {
    const m = maps[j];
    perImage[jobImage[j]].push({ heat: { data: m.prob, rows: m.rows, cols: m.cols }, reg: m.reg, scale: jobs[j].level.scale });
  }
  return perImage;
}

/**
 * Run R-Net (`size` 24) or O-Net (`size` 48) on `n` crops laid out back to back in `input`,
 * at most `maxBatch` per call. Returns per crop `[prob, reg×4]` (R-Net, 5 values) or
 * `[prob, reg×4, landmarks×10]` (O-Net, 15 values).
 */
export async function runRefine(
  params: MtcnnParams,
  net: 'rnet' | 'onet',
  input: Float32Array,
  n: number,
  maxBatch: number,
): Promise<Float32Array> {
  const size = net === 'rnet' ? 24 : 48;
  const width = net === 'rnet' ? 5 : 15;
  const plane = size * size * 3;
  const result = new Float32Array(n * width);
  // Every chunk runs before the first await, so `input` (which may be a reused scratch
  // buffer) is consumed in one synchronous step.
  const outs: tf.Tensor[] = [];
  try {
    for (let start = 0; start < n; start += maxBatch) {
      const m = Math.min(maxBatch, n - start);
      outs.push(
        tf.tidy(() => {
          const x = tf.tensor4d(input.subarray(start * plane, (start + m) * plane), [m, size, size, 3]);
          return net === 'rnet' ? rnetMarginRows(params.rnet, x) : onetMarginRows(params.onet, x);
        }),
      );
    }
    for (let i = 0; i < outs.length; i++) result.set((await outs[i].data()) as Float32Array, i * maxBatch * width);
  } finally {
    tf.dispose(outs);
  }
  for (let i = 0; i < result.length; i += width) result[i] = faceProbability(result[i]);
  return result;
}
