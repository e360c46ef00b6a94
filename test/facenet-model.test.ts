/**
 * Inception-ResNet-v1 builder (src/facenet): parameter counts worked out from the
 * reference definition (davidsandberg/facenet src/models/inception_resnet_v1.py), output
 * shapes and norms, geometry limits, the custom layers' arithmetic, weight decay, a
 * training smoke test on wasm, and save/load round trips through tf.io handlers.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { mkdtemp, readdir, rm, truncate, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setupBackend, countLeaks } from './helpers.js';
import {
  buildInceptionResnetV1,
  resolveInceptionResnetV1Options,
  regularizationLoss,
  stageSizes,
  MIN_INPUT_SIZE,
  PRELOGITS_OUTPUT,
  EMBEDDINGS_OUTPUT,
  SlimBatchNorm,
  ScaledResidual,
  L2Normalize,
  batchNormTraining,
  saveModel,
  loadModel,
  fileSystemHandler,
  registerFileSystemRouter,
} from '../src/facenet/index.js';
import { registerTrainingKernels } from '../src/kernels/index.js';
import { ConfigError, FileNotFoundError, WeightsFormatError } from '../src/errors.js';

const TINY = {
  inputSize: MIN_INPUT_SIZE,
  blockRepeats: { block35: 1, block17: 1, block8: 1 },
  widthMultiplier: 0.25,
  embeddingSize: 16,
} as const;

/** Deterministic uniform(-1, 1) values. */
function randomValues(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    out[i] = (a / 4294967296) * 2 - 1;
  }
  return out;
}

const countOf = (ws: tfl.LayerVariable[]): number =>
  ws.reduce((acc, w) => acc + (w.shape as number[]).reduce((a, b) => a * b, 1), 0);

let tmp: string;
beforeAll(async () => {
  expect(await setupBackend()).toBe('wasm');
  registerTrainingKernels();
  tmp = await mkdtemp(join(tmpdir(), 'tfjs-facenet-model-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/**
 * Parameter count of the reference network, layer by layer from the Python definition.
 * slim.conv2d under the reference's arg_scope: kernel kh·kw·in·out, no bias, batch norm
 * with beta only (slim's default scale=False) plus two moving statistics per channel.
 * The blocks' Conv2d_1x1 up-projection: kernel + bias, no batch norm.
 */
function referenceParameterCount(embeddingSize: number): { trainable: number; moving: number } {
  let trainable = 0;
  let moving = 0;
  const convBn = (kh: number, kw: number, cin: number, cout: number) => {
    trainable += kh * kw * cin * cout + cout;
    moving += 2 * cout;
  };
  const upProjection = (cin: number, cout: number) => {
    trainable += cin * cout + cout;
  };
  // Stem: Conv2d_1a_3x3 .. Conv2d_4b_3x3
  convBn(3, 3, 3, 32);
  convBn(3, 3, 32, 32);
  convBn(3, 3, 32, 64);
  convBn(1, 1, 64, 80);
  convBn(3, 3, 80, 192);
  convBn(3, 3, 192, 256);
  // 5 × block35 on 256 channels: branches 32 | 32→32 | 32→32→32, concat 96, up to 256.
  for (let i = 0; i < 5; i++) {
    convBn(1, 1, 256, 32);
    convBn(1, 1, 256, 32);
    convBn(3, 3, 32, 32);
    convBn(1, 1, 256, 32);
    convBn(3, 3, 32, 32);
    convBn(3, 3, 32, 32);
    upProjection(96, 256);
  }
  // Mixed_6a = reduction_a(k=192, l=192, m=256, n=384): 384 + 256 + 256 (pool) = 896 channels.
  convBn(3, 3, 256, 384);
  convBn(1, 1, 256, 192);
  convBn(3, 3, 192, 192);
  convBn(3, 3, 192, 256);
  // 10 × block17 on 896 channels: 128 | 128→1×7→7×1, concat 256, up to 896.
  for (let i = 0; i < 10; i++) {
    convBn(1, 1, 896, 128);
    convBn(1, 1, 896, 128);
    convBn(1, 7, 128, 128);
    convBn(7, 1, 128, 128);
    upProjection(256, 896);
  }
  // Mixed_7a = reduction_b: 384 + 256 + 256 + 896 (pool) = 1792 channels.
  convBn(1, 1, 896, 256);
  convBn(3, 3, 256, 384);
  convBn(1, 1, 896, 256);
  convBn(3, 3, 256, 256);
  convBn(1, 1, 896, 256);
  convBn(3, 3, 256, 256);
  convBn(3, 3, 256, 256);
  // 5 × block8 + the final Block8 on 1792 channels: 192 | 192→1×3→3×1, concat 384, up to 1792.
  for (let i = 0; i < 6; i++) {
    convBn(1, 1, 1792, 192);
    convBn(1, 1, 1792, 192);
    convBn(1, 3, 192, 192);
    convBn(3, 1, 192, 192);
    upProjection(384, 1792);
  }
  // Bottleneck: slim.fully_connected with batch norm → no bias.
  trainable += 1792 * embeddingSize + embeddingSize;
  moving += 2 * embeddingSize;
  return { trainable, moving };
}

describe('Inception-ResNet-v1 default model', () => {
  let model512: tfl.LayersModel;
  afterAll(() => model512?.dispose());

  it.each([512, 128])('has the parameter count worked out from the reference (embedding %i)', (embeddingSize) => {
    const model = buildInceptionResnetV1({ embeddingSize });
    try {
      const expected = referenceParameterCount(embeddingSize);
      expect(countOf(model.trainableWeights)).toBe(expected.trainable);
      expect(countOf(model.nonTrainableWeights)).toBe(expected.moving);
      expect(model.countParams()).toBe(expected.trainable + expected.moving);
    } finally {
      if (embeddingSize === 512) model512 = model;
      else model.dispose();
    }
  });

  it('maps [N,160,160,3] to pre-logits and unit-norm embeddings [N,512]', async () => {
    const x = tf.tensor4d(randomValues(2 * 160 * 160 * 3, 3), [2, 160, 160, 3]);
    const leaked = await countLeaks(async () => {
      const outs = model512.predict(x) as tf.Tensor[];
      const pre = outs[PRELOGITS_OUTPUT];
      const emb = outs[EMBEDDINGS_OUTPUT];
      expect(pre.shape).toEqual([2, 512]);
      expect(emb.shape).toEqual([2, 512]);
      const p = (await pre.array()) as number[][];
      const e = (await emb.array()) as number[][];
      for (let n = 0; n < 2; n++) {
        const norm = Math.hypot(...p[n]);
        expect(Math.hypot(...e[n])).toBeCloseTo(1, 5);
        // The embedding is the pre-logits divided by their norm.
        for (let k = 0; k < 512; k += 37) expect(e[n][k]).toBeCloseTo(p[n][k] / norm, 5);
      }
      tf.dispose(outs);
    });
    x.dispose();
    expect(leaked).toBe(0);
  });

  it('names layers after the reference scopes', () => {
    const shapeOf = (layer: string) => model512.getLayer(layer).getWeights()[0].shape;
    expect(shapeOf('Conv2d_1a_3x3')).toEqual([3, 3, 3, 32]);
    expect(shapeOf('Repeat/block35_1/Branch_1/Conv2d_0b_3x3')).toEqual([3, 3, 32, 32]);
    expect(shapeOf('Repeat/block35_5/Conv2d_1x1')).toEqual([1, 1, 96, 256]);
    expect(shapeOf('Mixed_6a/Branch_0/Conv2d_1a_3x3')).toEqual([3, 3, 256, 384]);
    expect(shapeOf('Repeat_1/block17_10/Branch_1/Conv2d_0c_7x1')).toEqual([7, 1, 128, 128]);
    expect(shapeOf('Mixed_7a/Branch_2/Conv2d_0b_3x3')).toEqual([3, 3, 256, 256]);
    expect(shapeOf('Repeat_2/block8_5/Branch_1/Conv2d_0b_1x3')).toEqual([1, 3, 192, 192]);
    expect(shapeOf('Block8/Conv2d_1x1')).toEqual([1, 1, 384, 1792]);
    expect(shapeOf('Bottleneck')).toEqual([1792, 512]);
    expect(model512.getLayer('Conv2d_1a_3x3/BatchNorm').getWeights().map((w) => w.shape)).toEqual([[32], [32], [32]]);
    // The last Block8 is linear with scale 1; the repeated ones use 0.2, block17 0.1, block35 0.17.
    const scaleOf = (name: string) => (model512.getLayer(name) as ScaledResidual).scale;
    expect(scaleOf('Block8/ScaledResidual')).toBe(1);
    expect(scaleOf('Repeat_2/block8_1/ScaledResidual')).toBe(0.2);
    expect(scaleOf('Repeat_1/block17_1/ScaledResidual')).toBe(0.1);
    expect(scaleOf('Repeat/block35_1/ScaledResidual')).toBe(0.17);
    expect(() => model512.getLayer('Block8/Relu')).toThrow();
    expect(model512.getLayer('Repeat_2/block8_5/Relu')).toBeDefined();
  });
});

describe('geometry and options', () => {
  it('stage sizes at 160 px follow the VALID / stride-2 arithmetic', () => {
    // 160 → (160-3)/2+1 = 79 → 77 → pool (77-3)/2+1 = 38 → 36 → (36-3)/2+1 = 17 → 8 → 3
    expect(stageSizes(160)).toEqual({
      Conv2d_1a_3x3: 79,
      Conv2d_2a_3x3: 77,
      MaxPool_3a_3x3: 38,
      Conv2d_4a_3x3: 36,
      Conv2d_4b_3x3: 17,
      Mixed_6a: 8,
      Mixed_7a: 3,
    });
  });

  it('the minimum input is 75 px', () => {
    // Backwards from Mixed_7a needing 3 rows: 3 ← 7 (6a) ← 15 (4b) ← 17 (4a) ← 35 (pool) ← 37 (2a) ← 75 (1a).
    expect(MIN_INPUT_SIZE).toBe(75);
    expect(stageSizes(75).Mixed_7a).toBe(1);
    expect(stageSizes(74).Mixed_7a).toBe(0);
    expect(() => resolveInceptionResnetV1Options({ inputSize: 74 })).toThrow(ConfigError);
    const m = buildInceptionResnetV1(TINY);
    expect(m.outputs.map((o) => o.shape)).toEqual([
      [null, 16],
      [null, 16],
    ]);
    m.dispose();
  });

  it('fills defaults and rejects bad options naming them', () => {
    const o = resolveInceptionResnetV1Options();
    expect(o).toMatchObject({
      inputSize: 160,
      embeddingSize: 512,
      blockRepeats: { block35: 5, block17: 10, block8: 5 },
      widthMultiplier: 1,
      keepProbability: 0.8,
      weightDecay: 5e-4,
      bottleneckWeightDecay: 5e-4,
      batchNormDecay: 0.995,
      batchNormEpsilon: 0.001,
    });
    const bad: [object, string][] = [
      [{ embeddingSize: 0 }, 'embeddingSize'],
      [{ keepProbability: 0 }, 'keepProbability'],
      [{ widthMultiplier: -1 }, 'widthMultiplier'],
      [{ blockRepeats: { block17: -1 } }, 'blockRepeats.block17'],
      [{ weightDecay: Number.NaN }, 'weightDecay'],
      [{ inputSize: 160.5 }, 'inputSize'],
    ];
    for (const [opts, option] of bad) {
      try {
        resolveInceptionResnetV1Options(opts);
        expect.unreachable(`accepted ${JSON.stringify(opts)}`);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        expect((e as ConfigError).option).toBe(option);
      }
    }
  });
});

describe('custom layers', () => {
  it('SlimBatchNorm: inference uses the moving statistics and beta, no scale', () => {
    const bn = new SlimBatchNorm({ name: 'bn_inf' });
    const input = tfl.input({ shape: [2] });
    const m = tfl.model({ inputs: input, outputs: bn.apply(input) as tfl.SymbolicTensor });
    expect(bn.getWeights().map((w) => w.shape)).toEqual([[2], [2], [2]]); // beta, moving_mean, moving_variance
    bn.setWeights([tf.tensor1d([0.5, -1]), tf.tensor1d([1, 2]), tf.tensor1d([4, 0.25])]);
    const y = m.predict(tf.tensor2d([[3, 2.5]])) as tf.Tensor;
    // (3-1)/sqrt(4+0.001)+0.5 and (2.5-2)/sqrt(0.25+0.001)-1
    const expected = [2 / Math.sqrt(4.001) + 0.5, 0.5 / Math.sqrt(0.251) - 1];
    const got = y.dataSync();
    expect(got[0]).toBeCloseTo(expected[0], 5);
    expect(got[1]).toBeCloseTo(expected[1], 5);
    m.dispose();
  });

  it('SlimBatchNorm: training normalizes with batch moments and updates the moving statistics (Bessel-corrected for conv inputs)', () => {
    const bn = new SlimBatchNorm({ name: 'bn_train', decay: 0.9 });
    const input = tfl.input({ shape: [2, 1, 1] }); // per example: 2×1 pixels, 1 channel
    const m = tfl.model({ inputs: input, outputs: bn.apply(input) as tfl.SymbolicTensor });
    // Batch of 2 examples of 2×1 pixels, one channel: n = 4 values per channel.
    const xs = [1, 2, 4, 9];
    const x = tf.tensor4d(xs, [2, 2, 1, 1]);
    const y = (m.apply(x, { training: true }) as tf.Tensor).dataSync();
    const mean = 4;
    const varBiased = ((1 - 4) ** 2 + (2 - 4) ** 2 + 0 + (9 - 4) ** 2) / 4; // 9.5
    for (let i = 0; i < 4; i++) expect(y[i]).toBeCloseTo((xs[i] - mean) / Math.sqrt(varBiased + 0.001), 5);
    const [, movingMean, movingVar] = bn.getWeights().map((w) => w.dataSync()[0]);
    expect(movingMean).toBeCloseTo(0.9 * 0 + 0.1 * mean, 5);
    expect(movingVar).toBeCloseTo(0.9 * 1 + 0.1 * (varBiased * 4) / 3, 5);
    m.dispose();
    x.dispose();
  });

  it('SlimBatchNorm: rank-2 inputs (the bottleneck) use the plain batch variance', () => {
    const bn = new SlimBatchNorm({ name: 'bn_fc', decay: 0.5 });
    const input = tfl.input({ shape: [1] });
    const m = tfl.model({ inputs: input, outputs: bn.apply(input) as tfl.SymbolicTensor });
    const x = tf.tensor2d([[1], [3]]);
    tf.dispose(m.apply(x, { training: true }) as tf.Tensor);
    const [, movingMean, movingVar] = bn.getWeights().map((w) => w.dataSync()[0]);
    expect(movingMean).toBeCloseTo(0.5 * 0 + 0.5 * 2, 6);
    expect(movingVar).toBeCloseTo(0.5 * 1 + 0.5 * 1, 6); // batch variance of {1, 3} is 1
    m.dispose();
    x.dispose();
  });

  it.each([
    ['offset only (the reference)', true, false],
    ['offset and scale', true, true],
    ['neither', false, false],
  ])('batchNormTraining: hand-written gradient equals autodiff of the formula, %s', (_label, center, scale) => {
    const x = tf.tensor4d(randomValues(3 * 4 * 5 * 6, 13), [3, 4, 5, 6]);
    const beta = center ? tf.tensor1d(randomValues(6, 14)) : undefined;
    const gamma = scale ? tf.add(tf.tensor1d(randomValues(6, 15)), 1.5) : undefined;
    const weights = tf.tensor4d(randomValues(3 * 4 * 5 * 6, 16), [3, 4, 5, 6]);
    const inputs = [x, ...(beta ? [beta] : []), ...(gamma ? [gamma] : [])];
    const unpack = (args: tf.Tensor[]) => ({ xi: args[0], b: beta ? args[1] : undefined, g: gamma ? args[beta ? 2 : 1] : undefined });
    // Loss Σ w·BN(x): its gradient reaches every path through the batch statistics.
    const handWritten = (...args: tf.Tensor[]) => {
      const { xi, b, g } = unpack(args);
      const { out, mean, variance } = batchNormTraining(xi, b, g, 1e-3);
      tf.dispose([mean, variance]);
      return tf.sum(tf.mul(out, weights));
    };
    const formula = (...args: tf.Tensor[]) => {
      const { xi, b, g } = unpack(args);
      const { mean, variance } = tf.moments(xi, [0, 1, 2]);
      let y = tf.div(tf.sub(xi, mean), tf.sqrt(tf.add(variance, 1e-3)));
      if (g) y = tf.mul(y, g);
      if (b) y = tf.add(y, b);
      return tf.sum(tf.mul(y, weights));
    };
    const before = tf.memory().numTensors;
    const g1 = tf.grads(handWritten)(inputs);
    const g2 = tf.grads(formula)(inputs);
    expect(g1).toHaveLength(inputs.length);
    for (let i = 0; i < inputs.length; i++) {
      const a = g1[i].dataSync();
      const b = g2[i].dataSync();
      let scaleMax = 1;
      for (const v of b) scaleMax = Math.max(scaleMax, Math.abs(v));
      for (let k = 0; k < a.length; k++) expect(Math.abs(a[k] - b[k]) / scaleMax).toBeLessThan(1e-5);
    }
    tf.dispose([...g1, ...g2]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([...inputs, weights]);
  });

  it('ScaledResidual and L2Normalize', () => {
    const a = tfl.input({ shape: [2] });
    const b = tfl.input({ shape: [2] });
    const sum = new ScaledResidual({ scale: 0.17 }).apply([a, b]) as tfl.SymbolicTensor;
    const norm = new L2Normalize().apply(sum) as tfl.SymbolicTensor;
    const m = tfl.model({ inputs: [a, b], outputs: [sum, norm] });
    const [s, n] = m.predict([tf.tensor2d([[1, 2], [0, 0]]), tf.tensor2d([[100, -100], [0, 0]])]) as tf.Tensor[];
    const sv = s.dataSync();
    expect(sv[0]).toBeCloseTo(1 + 0.17 * 100, 5);
    expect(sv[1]).toBeCloseTo(2 - 0.17 * 100, 5);
    const nv = n.dataSync();
    expect(nv[0]).toBeCloseTo(18 / Math.hypot(18, -15), 6);
    expect(nv[1]).toBeCloseTo(-15 / Math.hypot(18, -15), 6);
    // A zero vector stays zero (ε guards the division) instead of becoming NaN.
    expect([nv[2], nv[3]]).toEqual([0, 0]);
    m.dispose();
  });
});

describe('weight decay', () => {
  it('regularizationLoss = weightDecay/2 · Σ kernel² (slim.l2_regularizer), bottleneck separately', async () => {
    const model = buildInceptionResnetV1({ ...TINY, weightDecay: 1e-3, bottleneckWeightDecay: 4e-3, seed: 5 });
    let convSq = 0;
    let bottleneckSq = 0;
    for (const w of model.weights) {
      if (!w.originalName.endsWith('/kernel')) continue; // biases and batch-norm offsets are not decayed
      const v = await w.read().data();
      let s = 0;
      for (const x of v) s += x * x;
      if (w.originalName.startsWith('Bottleneck/')) bottleneckSq += s;
      else convSq += s;
    }
    const r = regularizationLoss(model);
    expect(r.dataSync()[0]).toBeCloseTo((1e-3 / 2) * convSq + (4e-3 / 2) * bottleneckSq, 3);
    r.dispose();
    const none = buildInceptionResnetV1({ ...TINY, weightDecay: 0 });
    const z = regularizationLoss(none);
    expect(z.dataSync()[0]).toBe(0);
    z.dispose();
    model.dispose();
    none.dispose();
  });
});

describe('training smoke test (wasm)', () => {
  let trained: tfl.LayersModel;
  const x = () => tf.tensor4d(randomValues(4 * 75 * 75 * 3, 9), [4, 75, 75, 3]);
  afterAll(() => trained?.dispose());

  it('a 75 px, width 0.25 model trains: every weight gets a gradient, the loss falls, statistics move, nothing leaks', async () => {
    const model = buildInceptionResnetV1({ ...TINY, seed: 1 });
    trained = model;
    const images = x();
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 4);
    const logitsW = tf.variable(tf.tensor2d(randomValues(16 * 4, 2), [16, 4]), true, 'smoke_logits');
    const optimizer = tf.train.sgd(0.05);
    const movingBefore = await model.getLayer('Conv2d_4b_3x3/BatchNorm').getWeights()[1].data();
    const lossFn = () =>
      tf.tidy(() => {
        const pre = (model.apply(images, { training: true }) as tf.Tensor[])[PRELOGITS_OUTPUT];
        const ce = tf.losses.softmaxCrossEntropy(labels, tf.matMul(pre, logitsW));
        return tf.add(ce, regularizationLoss(model)) as tf.Scalar;
      });
    const losses: number[] = [];
    const before = tf.memory().numTensors;
    for (let step = 0; step < 6; step++) {
      const { value, grads } = tf.variableGrads(lossFn);
      if (step === 0) {
        expect(Object.keys(grads).length).toBe(model.trainableWeights.length + 1);
        for (const [name, g] of Object.entries(grads)) {
          const maxAbs = tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0]);
          expect(Number.isFinite(maxAbs), name).toBe(true);
          expect(maxAbs, name).toBeGreaterThan(0);
        }
      }
      optimizer.applyGradients(grads);
      losses.push(value.dataSync()[0]);
      tf.dispose([value, ...Object.values(grads)]);
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(losses[5]).toBeLessThan(losses[0]);
    const movingAfter = await model.getLayer('Conv2d_4b_3x3/BatchNorm').getWeights()[1].data();
    expect(movingAfter).not.toEqual(movingBefore);
    tf.dispose([images, labels, logitsW]);
  });

  it('inference is deterministic (dropout and batch statistics are off outside training)', () => {
    const images = x();
    const [a] = trained.predict(images) as tf.Tensor[];
    const [b] = trained.predict(images) as tf.Tensor[];
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    tf.dispose([a, b, images]);
  });

  it('save/load through the file system handler reproduces the outputs exactly', async () => {
    const dir = join(tmp, 'tiny');
    const images = x();
    const [before] = trained.predict(images) as tf.Tensor[];
    await saveModel(trained, dir);
    await saveModel(trained, dir); // saving again replaces, leaving one weights file
    const files = (await readdir(dir)).sort();
    expect(files).toHaveLength(2);
    expect(files[0]).toBe('model.json');
    expect(files[1]).toMatch(/^weights-[0-9a-f]{16}\.bin$/);
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    expect(json.weightsManifest[0].paths).toEqual([files[1]]);

    const loaded = await loadModel(dir);
    const [after] = loaded.predict(images) as tf.Tensor[];
    expect(Array.from(after.dataSync())).toEqual(Array.from(before.dataSync()));
    expect(loaded.weights.map((w) => w.originalName)).toEqual(trained.weights.map((w) => w.originalName));

    // The same directory through a file:// URL, plain tfjs API.
    registerFileSystemRouter();
    const viaUrl = await tfl.loadLayersModel(`file://${dir}/model.json`);
    const [again] = viaUrl.predict(images) as tf.Tensor[];
    expect(Array.from(again.dataSync())).toEqual(Array.from(before.dataSync()));
    tf.dispose([before, after, again, images]);
    loaded.dispose();
    viaUrl.dispose();
  });

  it('loading reports a missing directory and truncated weights with typed errors', async () => {
    await expect(loadModel(join(tmp, 'nope'))).rejects.toBeInstanceOf(FileNotFoundError);
    const dir = join(tmp, 'broken');
    await trained.save(fileSystemHandler(dir));
    const weights = (await readdir(dir)).find((f) => f.endsWith('.bin'))!;
    await truncate(join(dir, weights), 100);
    await expect(loadModel(dir)).rejects.toBeInstanceOf(WeightsFormatError);
  });
});
