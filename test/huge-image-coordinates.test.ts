/**
 * A photo larger than the decoder's pixel cap is searched downscaled, but every API that
 * reports faces gives them in the file's own pixels (issue 11): `FacenetEmbedder.cropFaces`,
 * `identifyFaces` and `Mtcnn.track`, as `Mtcnn.detect` already does.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { sharedPath } from './helpers.js';
import { createTinyEmbedder } from './tiny-embedder.js';
import type { Mtcnn } from '../src/mtcnn/detector.js';
import type { FacenetEmbedder } from '../src/recognition/embedder.js';
import { MAX_DECODE_PIXELS } from '../src/image/decode-node.js';
import { Gallery } from '../src/gallery/gallery.js';
import { identifyFaces } from '../src/recognition/identify.js';
import type { Box, FaceDetection } from '../src/face/types.js';

/** bbt3.jpg (594 × 383, five faces) upscaled 8 times: 4752 × 3064 = 14.6 MP, past the 8.4 MP cap. */
const FACTOR = 8;
const group = () => sharedPath('data', 'samples', 'groups', 'bbt3.jpg');

let tmp: string;
let big: string;
let mtcnn: Mtcnn;
let model: tfl.LayersModel;
let embedder: FacenetEmbedder;
let small: FaceDetection[];

beforeAll(async () => {
  ({ mtcnn, model, embedder } = await createTinyEmbedder(7));
  tmp = await mkdtemp(join(tmpdir(), 'huge-coords-'));
  big = join(tmp, 'bbt3 x8.jpg');
  await sharp(group()).resize(594 * FACTOR, 383 * FACTOR).jpeg({ quality: 95 }).toFile(big);
  const found = await embedder.cropFaces(group());
  found.crops.dispose();
  small = found.detections;
});
afterAll(async () => {
  mtcnn?.dispose();
  model?.dispose();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/**
 * The largest distance between a box (or landmark) of `large` and the matching one of
 * `reference` (default: the faces of the original) scaled by FACTOR, as a fraction of that face's width. Faces are matched by their
 * nearest centres; MTCNN on two resamplings of one face differs by a few per cent.
 */
function deviation(large: { box: Box; landmarks?: FaceDetection['landmarks'] }[], reference: FaceDetection[] = small): number {
  const centre = (b: Box) => [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2];
  let worst = 0;
  for (const f of large) {
    const [cx, cy] = centre(f.box);
    const ref = reference
      .map((s) => ({ s, d: Math.hypot(centre(s.box)[0] * FACTOR - cx, centre(s.box)[1] * FACTOR - cy) }))
      .sort((a, b) => a.d - b.d)[0].s;
    const width = (ref.box[2] - ref.box[0]) * FACTOR;
    const values = f.box.map((v, k) => Math.abs(v - ref.box[k] * FACTOR));
    if (f.landmarks) {
      f.landmarks.forEach(([x, y], k) => values.push(Math.abs(x - ref.landmarks[k][0] * FACTOR), Math.abs(y - ref.landmarks[k][1] * FACTOR)));
    }
    worst = Math.max(worst, Math.max(...values) / width);
  }
  return worst;
}

describe('faces of an image past the decode cap, in its own pixels', () => {
  it('the test image is past the cap, and the original has five faces', async () => {
    const meta = await sharp(big).metadata();
    expect(meta.width! * meta.height!).toBeGreaterThan(MAX_DECODE_PIXELS);
    expect(small.length).toBe(5);
  });

  it('FacenetEmbedder.cropFaces: boxes, landmarks and size of the file', async () => {
    const before = tf.memory().numTensors;
    const found = await embedder.cropFaces(big);
    try {
      expect([found.width, found.height]).toEqual([594 * FACTOR, 383 * FACTOR]);
      expect(found.detections.length).toBe(5);
      expect(found.crops.shape).toEqual([5, embedder.preprocessing.imageSize, embedder.preprocessing.imageSize, 3]);
      // Left in decoded pixels, the boxes would be off by the decode's factor (≈ 0.76): > 20 %.
      const d = deviation(found.detections);
      console.log(`cropFaces on a ${FACTOR}× upscaled photo: worst deviation ${(d * 100).toFixed(1)} % of the face width`);
      expect(d).toBeLessThan(0.08);
    } finally {
      found.crops.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('identifyFaces names faces at the boxes of the file', async () => {
    const gallery = Gallery.create({ dimension: embedder.dimension });
    const embedded = await embedder.embedAllFaces(group());
    embedded.forEach((f, i) => gallery.add(`face${i}`, f.embedding));
    const faces = await identifyFaces(gallery, embedder, big);
    expect(faces.length).toBe(5);
    const d = deviation(faces);
    console.log(`identifyFaces on a ${FACTOR}× upscaled photo: worst box deviation ${(d * 100).toFixed(1)} % of the face width`);
    expect(d).toBeLessThan(0.08);
  });

  it('Mtcnn.track follows boxes given in the file\'s pixels', async () => {
    const previous = small.map((s) => s.box.map((v) => v * FACTOR) as Box);
    const tracked = await mtcnn.track(big, previous);
    expect(tracked.length).toBe(5);
    // Compared with following the same faces in the original.
    const reference = await mtcnn.track(group(), small.map((s) => s.box));
    const d = deviation(tracked, reference);
    console.log(`track on a ${FACTOR}× upscaled photo: worst deviation ${(d * 100).toFixed(1)} % of the face width`);
    expect(d).toBeLessThan(0.08);
  });
});
