/**
 * Reference checkpoint import/export (src/facenet/checkpoint-import.ts). The list of
 * variables the reference definition creates is enumerated independently in
 * `reference-variables.ts`, from davidsandberg/facenet src/models/inception_resnet_v1.py.
 * Round trips go model → TensorFlow checkpoint bytes (reference names) → fresh model.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setupBackend } from './helpers.js';
import {
  buildInceptionResnetV1,
  checkpointVariableMap,
  exportCheckpointVariables,
  loadCheckpointVariables,
  inferOptionsFromCheckpoint,
  modelFromCheckpointVariables,
  isModelVariableName,
  importFacenetCheckpoint,
  exportFacenetCheckpoint,
  PRELOGITS_OUTPUT,
  SlimBatchNorm,
} from '../src/facenet/index.js';
import { serializeTfCheckpoint, parseTfCheckpoint } from '../src/io/tf-checkpoint.js';
import type { NamedArray, NamedArrays } from '../src/io/types.js';
import { WeightsFormatError } from '../src/errors.js';
import { referenceVariables } from './reference-variables.js';

/** Variables a FaceNet training checkpoint holds besides the model (train_softmax.py with Adam, center loss). */
function nonModelVariables(embeddingSize: number): NamedArrays {
  const f = (shape: number[]): NamedArray => ({ shape, dtype: 'float32', data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5) });
  return new Map<string, NamedArray>([
    ['global_step', { shape: [], dtype: 'int64', data: new Float64Array([275]) }],
    ['centers', f([7, embeddingSize])],
    ['Logits/weights', f([embeddingSize, 7])],
    ['Logits/biases', f([7])],
    ['InceptionResnetV1/Conv2d_1a_3x3/weights/Adam', f([3, 3, 3, 32])],
    ['InceptionResnetV1/Conv2d_1a_3x3/weights/Adam_1', f([3, 3, 3, 32])],
    ['InceptionResnetV1/Bottleneck/BatchNorm/beta/Adam', f([embeddingSize])],
    ['beta1_power', f([])],
  ]);
}

/** Give every batch norm random offsets and moving statistics so that a lost or swapped one shows in the outputs. */
function randomizeMovingStatistics(model: tfl.LayersModel, seed: number): void {
  let k = seed;
  for (const layer of model.layers) {
    if (!(layer instanceof SlimBatchNorm)) continue;
    const c = layer.getWeights()[0].shape[0];
    const next = () => tf.randomUniform([c], 0, 1, 'float32', k++);
    const values = tf.tidy(() => [
      tf.sub(next(), 0.5), // beta
      tf.mul(tf.sub(next(), 0.5), 0.2), // moving_mean
      tf.add(next(), 0.5), // moving_variance
    ]);
    layer.setWeights(values);
    tf.dispose(values);
  }
}

const TINY = { inputSize: 75, blockRepeats: { block35: 1, block17: 2, block8: 1 }, widthMultiplier: 0.25, embeddingSize: 8 };

let tmp: string;
beforeAll(async () => {
  expect(await setupBackend()).toBe('wasm');
  tmp = await mkdtemp(join(tmpdir(), 'tfjs-facenet-import-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('the name mapping', () => {
  it.each([512, 128])('covers exactly the variables of the reference definition, with their shapes (embedding %i)', (emb) => {
    const model = buildInceptionResnetV1({ embeddingSize: emb });
    const mapped = new Map(checkpointVariableMap(model).map((m) => [m.name, m.shape]));
    const reference = referenceVariables(emb);
    // stem 6·4 + block35 5·(6·4+2) + Mixed_6a 4·4 + block17 10·(4·4+2) + Mixed_7a 7·4 + block8 6·(4·4+2) + bottleneck 4
    expect(reference.size).toBe(24 + 130 + 16 + 180 + 28 + 108 + 4);
    expect([...mapped.keys()].sort()).toEqual([...reference.keys()].sort());
    for (const [name, shape] of reference) expect(mapped.get(name), name).toEqual(shape);
    model.dispose();
  });

  it('also for other block repetitions', () => {
    const repeats = { block35: 2, block17: 3, block8: 1 };
    const model = buildInceptionResnetV1({ inputSize: 75, blockRepeats: repeats, embeddingSize: 64 });
    const mapped = checkpointVariableMap(model).map((m) => m.name).sort();
    expect(mapped).toEqual([...referenceVariables(64, repeats).keys()].sort());
    model.dispose();
  });

  it('tells model variables from optimizer slots, counters, centers and logits', () => {
    for (const name of referenceVariables(128).keys()) expect(isModelVariableName(name), name).toBe(true);
    for (const name of nonModelVariables(128).keys()) expect(isModelVariableName(name), name).toBe(false);
  });

  it('infers the architecture from the reference names', () => {
    const vars: NamedArrays = new Map();
    for (const [name, shape] of referenceVariables(512)) vars.set(name, { shape, dtype: 'float32', data: new Float32Array(0) });
    expect(inferOptionsFromCheckpoint(vars)).toEqual({
      embeddingSize: 512,
      widthMultiplier: 1,
      blockRepeats: { block35: 5, block17: 10, block8: 5 },
    });
    expect(() => inferOptionsFromCheckpoint(nonModelVariables(512))).toThrow(WeightsFormatError);
  });
});

describe('round trips through TensorFlow checkpoints', () => {
  it('default 512-d model → checkpoint bytes (with optimizer slots etc.) → fresh model: identical outputs', async () => {
    const a = buildInceptionResnetV1({ seed: 1 });
    randomizeMovingStatistics(a, 100);
    const vars = await exportCheckpointVariables(a);
    expect(vars.size).toBe(490);
    for (const [name, v] of nonModelVariables(512)) vars.set(name, v);
    const { index, data } = serializeTfCheckpoint(vars);
    const parsed = parseTfCheckpoint(index, [data], 'roundtrip');
    const { model: b, report } = modelFromCheckpointVariables(parsed, {}, 'roundtrip');
    expect(report.loaded).toHaveLength(490);
    expect(report.missing).toEqual([]);
    expect(report.ignored.sort()).toEqual([...nonModelVariables(512).keys()].sort());

    const x = tf.randomUniform([1, 160, 160, 3], -1, 1, 'float32', 3);
    const [pa] = a.predict(x) as tf.Tensor[];
    const [pb] = b.predict(x) as tf.Tensor[];
    expect(Array.from(pb.dataSync())).toEqual(Array.from(pa.dataSync()));
    // A different model (other initial weights) differs, so the equality above is not vacuous.
    const c = buildInceptionResnetV1({ seed: 2 });
    const [pc] = c.predict(x) as tf.Tensor[];
    expect(Array.from(pc.dataSync())).not.toEqual(Array.from(pa.dataSync()));
    tf.dispose([x, pa, pb, pc]);
    a.dispose();
    b.dispose();
    c.dispose();
  });

  it('exportFacenetCheckpoint / importFacenetCheckpoint on disk (tiny model)', async () => {
    const a = buildInceptionResnetV1({ ...TINY, seed: 3 });
    randomizeMovingStatistics(a, 200);
    const prefix = join(tmp, 'tiny', 'model-tiny.ckpt-1');
    await exportFacenetCheckpoint(a, prefix);
    expect((await readdir(join(tmp, 'tiny'))).sort()).toEqual([
      'checkpoint',
      'model-tiny.ckpt-1.data-00000-of-00001',
      'model-tiny.ckpt-1.index',
    ]);
    const { model: b, report } = await importFacenetCheckpoint(join(tmp, 'tiny'), { inputSize: 75 });
    expect(report.loaded).toHaveLength(checkpointVariableMap(a).length);
    const x = tf.randomUniform([2, 75, 75, 3], -1, 1, 'float32', 4);
    const pa = (a.predict(x) as tf.Tensor[])[PRELOGITS_OUTPUT];
    const pb = (b.predict(x) as tf.Tensor[])[PRELOGITS_OUTPUT];
    expect(Array.from(pb.dataSync())).toEqual(Array.from(pa.dataSync()));
    tf.dispose([x, pa, pb]);
    a.dispose();
    b.dispose();
  });
});

describe('bad checkpoints', () => {
  let model: tfl.LayersModel;
  let good: NamedArrays;
  beforeAll(async () => {
    model = buildInceptionResnetV1({ ...TINY, seed: 4 });
    const other = buildInceptionResnetV1({ ...TINY, seed: 5 });
    good = await exportCheckpointVariables(other);
    other.dispose();
  });
  afterAll(() => model.dispose());

  const outputs = () => {
    const x = tf.ones([1, 75, 75, 3]);
    const [p] = model.predict(x) as tf.Tensor[];
    const v = Array.from(p.dataSync());
    tf.dispose([x, p]);
    return v;
  };

  it('a wrong shape is refused, naming the variable, and nothing is loaded', () => {
    const before = outputs();
    const bad = new Map(good);
    bad.set('InceptionResnetV1/Bottleneck/weights', { shape: [10, 8], dtype: 'float32', data: new Float32Array(80) });
    expect(() => loadCheckpointVariables(model, bad)).toThrow(/Bottleneck\/weights has shape \[10,8\]/);
    expect(() => loadCheckpointVariables(model, bad)).toThrow(WeightsFormatError);
    expect(outputs()).toEqual(before);
  });

  it('missing weights are refused unless allowMissing', () => {
    const partial = new Map(good);
    partial.delete('InceptionResnetV1/Conv2d_2b_3x3/BatchNorm/moving_variance');
    expect(() => loadCheckpointVariables(model, partial)).toThrow(WeightsFormatError);
    const report = loadCheckpointVariables(model, partial, { allowMissing: true });
    expect(report.missing).toEqual(['InceptionResnetV1/Conv2d_2b_3x3/BatchNorm/moving_variance']);
    expect(report.loaded).toHaveLength(good.size - 1);
  });

  it('model variables with no place in this architecture are refused unless allowUnexpected', async () => {
    const bigger = buildInceptionResnetV1({ ...TINY, blockRepeats: { block35: 1, block17: 3, block8: 1 } });
    const vars = await exportCheckpointVariables(bigger);
    bigger.dispose();
    expect(() => loadCheckpointVariables(model, vars)).toThrow(/have no place in this model/);
    const report = loadCheckpointVariables(model, vars, { allowUnexpected: true });
    expect(report.ignored.every((n) => n.startsWith('InceptionResnetV1/Repeat_1/block17_3/'))).toBe(true);
    expect(report.ignored.length).toBeGreaterThan(0);
  });

  it('a non-float variable in a model slot is refused', () => {
    const bad = new Map(good);
    bad.set('InceptionResnetV1/Bottleneck/BatchNorm/beta', { shape: [8], dtype: 'int32', data: new Int32Array(8) });
    expect(() => loadCheckpointVariables(model, bad)).toThrow(/dtype int32/);
  });
});
