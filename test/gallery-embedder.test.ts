/**
 * The embedding pipeline (MTCNN → crop → standardize → network → L2) on real photos with
 * a tiny, randomly initialised (seeded) Inception-ResNet-v1: its embeddings carry no
 * identity information, so these tests check the plumbing against an independent
 * step-by-step computation, not recognition quality.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { countLeaks, sharedPath } from './helpers.js';
import { TINY_FACENET, createTinyEmbedder } from './tiny-embedder.js';
import type { Mtcnn } from '../src/mtcnn/detector.js';
import { cropFace, selectFaces } from '../src/face/crop.js';
import { buildInceptionResnetV1, saveModel, EMBEDDINGS_OUTPUT } from '../src/facenet/index.js';
import { FacenetEmbedder, modelFingerprint } from '../src/recognition/embedder.js';
import { standardizeFaces } from '../src/recognition/standardize.js';
import { loadFacenetEmbedder, readModelPreprocessing, writeModelPreprocessing } from '../src/recognition/load.js';
import { loadImage } from '../src/image/load.js';
import { ConfigError, NoFaceError } from '../src/errors.js';


const people = (name: string, i: number): string => sharedPath('data', 'samples', 'people', name, `${name}${i}.png`);

let mtcnn: Mtcnn;
let model: tfl.LayersModel;
let embedder: FacenetEmbedder;

beforeAll(async () => {
  ({ mtcnn, model, embedder } = await createTinyEmbedder(7));
});
afterAll(() => {
  mtcnn?.dispose();
  model?.dispose();
});

const norm = (v: ArrayLike<number>): number => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

/** The pipeline done by hand: main face, reference crop, fixed standardization, model's embeddings output. */
async function byHand(path: string, mirror = false): Promise<Float32Array> {
  const img = await loadImage(path);
  const faces = await mtcnn.detect(img);
  const [main] = selectFaces(faces, img.shape[1], img.shape[0], 'reference');
  const crop = cropFace(img, main.box, { imageSize: 80, margin: 16 });
  const out = tf.tidy(() => {
    let x = tf.expandDims(crop, 0) as tf.Tensor4D;
    if (mirror) x = tf.reverse(x, 2) as tf.Tensor4D;
    const standardized = tf.div(tf.sub(x, 127.5), 128);
    return (model.predict(standardized) as tf.Tensor[])[EMBEDDINGS_OUTPUT];
  });
  const v = (await out.data()) as Float32Array;
  tf.dispose([img, crop, out]);
  return v;
}

describe('FacenetEmbedder', () => {
  it('records its preprocessing, dimension and a weights fingerprint', async () => {
    expect(embedder.preprocessing).toEqual({ imageSize: 80, margin: 16, alignment: 'crop', standardization: 'fixed', flip: false });
    expect(embedder.dimension).toBe(16);
    expect(embedder.fingerprint).toMatch(/^[0-9a-f]{32}$/);
    expect(await modelFingerprint(model)).toBe(embedder.fingerprint);
    const other = buildInceptionResnetV1({ ...TINY_FACENET, seed: 8 });
    try {
      const fpOther = await modelFingerprint(other);
      expect(fpOther).not.toBe(embedder.fingerprint);
      // Copy the weights of `model` into `other`: same function, same fingerprint…
      other.setWeights(model.getWeights());
      expect(await modelFingerprint(other)).toBe(embedder.fingerprint);
      // …until one number changes.
      const w = other.getWeights();
      const last = w[w.length - 1];
      const values = Float32Array.from(last.dataSync());
      values[0] += 1e-3;
      const changed = tf.tensor(values, last.shape);
      other.setWeights([...w.slice(0, -1), changed]);
      changed.dispose();
      expect(await modelFingerprint(other)).not.toBe(embedder.fingerprint);
    } finally {
      other.dispose();
    }
    await expect(FacenetEmbedder.create({ model, detector: mtcnn, preprocessing: { imageSize: 160 } })).rejects.toThrow(ConfigError);
    await expect(
      FacenetEmbedder.create({ model, detector: mtcnn, preprocessing: { alignment: 'landmarks', margin: 5 } }),
    ).rejects.toThrow(/fraction/);
  });

  it('embed = main face → crop with margin → (x − 127.5)/128 → network → unit length', async () => {
    const [e] = await embedder.embed([people('amy', 1)]);
    expect(e.length).toBe(16);
    expect(norm(e)).toBeCloseTo(1, 5);
    expect(maxDiff(e, await byHand(people('amy', 1)))).toBeLessThan(1e-5);
  });

  it('a batch gives the same embeddings as one image at a time', async () => {
    const paths = [people('amy', 1), people('amy', 2), people('raj', 1), people('sheldon', 3)];
    const batch = await embedder.embed(paths);
    expect(batch.length).toBe(4);
    for (let i = 0; i < paths.length; i++) {
      const [one] = await embedder.embed([paths[i]]);
      expect(maxDiff(batch[i], one)).toBeLessThan(1e-5);
    }
    // Different photos give different embeddings (the network is random, not constant).
    expect(maxDiff(batch[0], batch[2])).toBeGreaterThan(1e-3);
  });

  it('flip: [e(x) ‖ e(mirror x)] / √2', async () => {
    const flipped = await FacenetEmbedder.create({ model, detector: mtcnn, preprocessing: { margin: 16, flip: true } });
    expect(flipped.dimension).toBe(32);
    expect(flipped.fingerprint).toBe(embedder.fingerprint);
    const [e] = await flipped.embed([people('penny', 2)]);
    expect(norm(e)).toBeCloseTo(1, 5);
    const plain = await byHand(people('penny', 2));
    const mirrored = await byHand(people('penny', 2), true);
    expect(maxDiff(e.subarray(0, 16).map((x) => x * Math.SQRT2), plain)).toBeLessThan(1e-5);
    expect(maxDiff(e.subarray(16).map((x) => x * Math.SQRT2), mirrored)).toBeLessThan(1e-5);
    expect(maxDiff(plain, mirrored)).toBeGreaterThan(1e-4);
  });

  it('landmark alignment is an alternative crop', async () => {
    const aligned = await FacenetEmbedder.create({
      model,
      detector: mtcnn,
      preprocessing: { alignment: 'landmarks', margin: 0.1 },
    });
    const { crops, detections } = await aligned.cropFaces(people('howard', 1), 'main');
    expect(detections.length).toBe(1);
    expect(crops.shape).toEqual([1, 80, 80, 3]);
    const [a] = await aligned.embedCrops(crops);
    crops.dispose();
    const [c] = await embedder.embed([people('howard', 1)]);
    expect(norm(a)).toBeCloseTo(1, 5);
    expect(maxDiff(a, c)).toBeGreaterThan(1e-4);
  });

  it('every face of a group photo', async () => {
    const path = sharedPath('data', 'samples', 'groups', 'bbt3.jpg');
    const faces = await embedder.embedAllFaces(path);
    const detected = await mtcnn.detect(path);
    expect(faces.length).toBe(detected.length);
    expect(faces.length).toBe(5);
    faces.forEach((f, i) => {
      expect(f.detection.box).toEqual(detected[i].box);
      expect(norm(f.embedding)).toBeCloseTo(1, 5);
    });
  });

  it('an image without a face is a NoFaceError naming it', async () => {
    const blank = { data: new Uint8Array(120 * 120 * 3).fill(128), width: 120, height: 120 };
    const err = await embedder.embed([people('amy', 1), blank]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoFaceError);
    expect((err as NoFaceError).source).toBe('image 1');
    expect(await embedder.embedAllFaces(blank)).toEqual([]);
  });

  it('leaks no tensors', async () => {
    expect(await countLeaks(() => embedder.embed([people('leonard', 1), people('bernadette', 2)]))).toBe(0);
    expect(await countLeaks(() => embedder.embedAllFaces(people('leonard', 1)))).toBe(0);
    const blank = { data: new Uint8Array(90 * 90 * 3).fill(30), width: 90, height: 90 };
    expect(await countLeaks(() => embedder.embed([blank]).catch(() => undefined))).toBe(0);
  });

  it('loads a model directory with the preprocessing recorded beside it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'facenet-embedder-'));
    try {
      await saveModel(model, dir);
      expect(await readModelPreprocessing(dir)).toBeUndefined();
      await writeModelPreprocessing(dir, embedder.preprocessing);
      expect(await readModelPreprocessing(dir)).toEqual(embedder.preprocessing);
      const loaded = await loadFacenetEmbedder({ modelDir: dir, detector: mtcnn });
      expect(loaded.fingerprint).toBe(embedder.fingerprint);
      expect(loaded.preprocessing).toEqual(embedder.preprocessing);
      const [a] = await loaded.embed([people('raj', 2)]);
      const [b] = await embedder.embed([people('raj', 2)]);
      expect(maxDiff(a, b)).toBeLessThan(1e-6);
      // dispose() frees exactly the network it loaded (one tensor per weight), not the
      // detector that was passed in: that one still detects afterwards.
      const before = tf.memory().numTensors;
      loaded.dispose();
      expect(before - tf.memory().numTensors).toBe(model.weights.length);
      loaded.dispose();
      expect(before - tf.memory().numTensors).toBe(model.weights.length);
      expect((await mtcnn.detect(people('raj', 2))).length).toBeGreaterThan(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('standardization', () => {
  it('fixed: (x − 127.5) / 128', () => {
    const x = tf.tensor4d([0, 127.5, 255, 64, 192, 100], [1, 1, 2, 3]);
    const y = standardizeFaces(x, 'fixed');
    expect(Array.from(y.dataSync())).toEqual([-0.99609375, 0, 0.99609375, -0.49609375, 0.50390625, -0.21484375]);
    tf.dispose([x, y]);
  });

  it('prewhiten: per image, population std, floor 1/√N', () => {
    // Image 0: values 0,0,0,6,6,6 → mean 3, std 3 → ±1. Image 1: constant 5 → std 0, floor
    // 1/√6, (5 − 5)·√6 = 0.
    const x = tf.tensor4d([0, 0, 0, 6, 6, 6, 5, 5, 5, 5, 5, 5], [2, 1, 2, 3]);
    const y = standardizeFaces(x, 'prewhiten');
    expect(Array.from(y.dataSync())).toEqual([-1, -1, -1, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
    tf.dispose([x, y]);
  });
});
