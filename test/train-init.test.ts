/**
 * Starting a run from a trained model (src/train/init-weights.ts): weights copied by name,
 * and a deeper Inception-ResNet-v1 grown from a shallower one computes the same embedding
 * on a real face before it trains.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildInceptionResnetV1 } from '../src/facenet/index.js';
import { saveModel } from '../src/facenet/model-io.js';
import { initWeightsFrom, initWeightsFromModel, isResidualUpProjection } from '../src/train/init-weights.js';
import { loadImage } from '../src/image/load.js';
import { IncompatibleFileError } from '../src/errors.js';
import { countLeaks, setupBackend, sharedPath } from './helpers.js';

const SHALLOW = { inputSize: 75, blockRepeats: { block35: 1, block17: 2, block8: 1 }, widthMultiplier: 0.25, embeddingSize: 8, seed: 3 };
const DEEP = { ...SHALLOW, blockRepeats: { block35: 3, block17: 4, block8: 2 }, seed: 11 };

/** A real face (LFW's centre) at the tiny model's input size, scaled to [-1, 1]. */
let face: tf.Tensor4D;

beforeAll(async () => {
  await setupBackend();
  const img = await loadImage(sharedPath('data', 'lfw', 'Tony_Blair', 'Tony_Blair_0018.jpg'));
  face = tf.tidy(() => {
    const centre = tf.image.resizeBilinear(tf.slice(img, [70, 70, 0], [110, 110, 3]), [75, 75]);
    return tf.expandDims(tf.sub(tf.div(centre, 127.5), 1), 0) as tf.Tensor4D;
  });
  img.dispose();
});

afterAll(() => face.dispose());

/**
 * Give the model's batch-norm statistics values of their own (a fresh model's are 0 and 1,
 * the same in every model), so that a copy that missed them shows.
 */
function perturbStatistics(model: ReturnType<typeof buildInceptionResnetV1>): void {
  let k = 0;
  for (const w of model.weights) {
    if (!/moving_(mean|variance)$/.test(w.originalName ?? w.name)) continue;
    const v = w.read() as tf.Variable;
    const value = tf.tidy(() => tf.add(/variance$/.test(w.name) ? 1 : 0, tf.mul(0.2 * (1 + (k++ % 5)), tf.rand(v.shape, () => Math.random()))));
    v.assign(value);
    value.dispose();
  }
}

function embed(model: ReturnType<typeof buildInceptionResnetV1>): Float32Array {
  return tf.tidy(() => {
    const out = model.predict(face);
    // Every output (the embedding and the pre-logits), end to end.
    return Float32Array.from((Array.isArray(out) ? out : [out]).flatMap((t) => [...(t.dataSync() as Float32Array)]));
  });
}

describe('initWeightsFrom', () => {
  it('refuses a model of another architecture (no weight name in common)', () => {
    const deep = buildInceptionResnetV1(DEEP);
    const shallow = buildInceptionResnetV1(SHALLOW);
    // A source whose names all differ: the shallow model seen under a prefix.
    for (const w of shallow.weights) (w as { originalName: string }).originalName = `other/${w.originalName ?? w.name}`;
    expect(() => initWeightsFrom(deep, shallow, 'other-model')).toThrow(/other-model.*none of the weights/);
    deep.dispose();
    shallow.dispose();
  });

  it('names the residual up-projections (and nothing else)', () => {
    expect(isResidualUpProjection('Repeat/block35_3/Conv2d_1x1/kernel')).toBe(true);
    expect(isResidualUpProjection('Repeat_1/block17_10/Conv2d_1x1/bias')).toBe(true);
    expect(isResidualUpProjection('Repeat_2/block8_1/Conv2d_1x1/kernel')).toBe(true);
    expect(isResidualUpProjection('Repeat/block35_3/Branch_0/Conv2d_1x1/kernel')).toBe(false);
    expect(isResidualUpProjection('Block8/Conv2d_1x1/kernel')).toBe(false);
  });

  it('a deeper network grown from a shallower one embeds a face exactly as the shallower one does', async () => {
    const shallow = buildInceptionResnetV1(SHALLOW);
    perturbStatistics(shallow);
    const deep = buildInceptionResnetV1(DEEP);
    const want = embed(shallow);
    expect(Math.max(...embed(deep).map((v, i) => Math.abs(v - want[i])))).toBeGreaterThan(1e-3);
    const leaked = await countLeaks(() => {
      const r = initWeightsFrom(deep, shallow, 'shallow');
      expect(r.copied).toBe(shallow.weights.length);
      // 2 new block35, 2 new block17, 1 new block8: kernel and bias each.
      expect(r.zeroed).toBe(2 * (2 + 2 + 1));
      expect(r.unused).toEqual([]);
      expect(r.fresh.length).toBeGreaterThan(0);
      expect(r.fresh.every((n) => /block(35_[23]|17_[34]|8_2)\//.test(n))).toBe(true);
    });
    expect(leaked).toBe(0);
    const got = embed(deep);
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], 5);
    shallow.dispose();
    deep.dispose();
  });

  it('from a saved model folder; a weight of another shape is refused by name', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'facenet-init-'));
    try {
      const shallow = buildInceptionResnetV1(SHALLOW);
      perturbStatistics(shallow);
      await saveModel(shallow, join(dir, 'm'));
      const want = embed(shallow);
      shallow.dispose();
      const deep = buildInceptionResnetV1(DEEP);
      const before = tf.memory().numTensors;
      const r = await initWeightsFromModel(deep, join(dir, 'm'));
      expect(tf.memory().numTensors).toBe(before);
      expect(r.zeroed).toBe(10);
      const got = embed(deep);
      for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], 5);
      deep.dispose();
      const wider = buildInceptionResnetV1({ ...DEEP, widthMultiplier: 0.5 });
      const before2 = embed(wider);
      await expect(initWeightsFromModel(wider, join(dir, 'm'))).rejects.toThrow(IncompatibleFileError);
      await expect(initWeightsFromModel(wider, join(dir, 'm'))).rejects.toThrow(/Conv2d_1a_3x3\/kernel/);
      // Refused before any change.
      expect(embed(wider)).toEqual(before2);
      wider.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
