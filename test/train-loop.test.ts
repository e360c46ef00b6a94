/**
 * The training loop on real face crops (LFW, 4 identities, 64 px) with a tiny conv net:
 * learning happens, a stopped-and-resumed run equals an uninterrupted one step for step,
 * nothing leaks, outputs are written, bad configurations are rejected.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { loadModel } from '../src/facenet/model-io.js';
import { withSeededMathRandom } from '../src/train/model-state.js';
import { readFile, readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setupBackend } from './helpers.js';
import { makeFaceTree, tinyModel, tempFile } from './train-fixtures.js';
import { train, type StepMetrics, type EpochMetrics } from '../src/train/trainer.js';
import type { TrainConfig } from '../src/train/config.js';
import { ConfigError, IncompatibleFileError } from '../src/errors.js';

let data: string;

beforeAll(async () => {
  await setupBackend();
  data = await makeFaceTree({ identities: 4, perClass: 12, size: 72 });
});

afterAll(async () => {
  // The tree and every run's output live in one temporary directory.
  if (data) await rm(dirname(data), { recursive: true, force: true });
});

const base = (outDir: string): Partial<TrainConfig> & Pick<TrainConfig, 'dataDir' | 'outDir'> => ({
  dataDir: data,
  outDir,
  imageSize: 64,
  embeddingSize: 16,
  batchSize: 8,
  validationSplit: 0.2,
  learningRate: 0.05,
  schedule: { kind: 'constant' },
});

describe('train()', () => {
  it('learns: training loss falls and accuracy rises above chance; writes log, checkpoints and model', async () => {
    const out = `${data}-learn`;
    const epochs: EpochMetrics[] = [];
    const steps: StepMetrics[] = [];
    // The model is passed in (not a factory), so it stays alive for the export check.
    const model = await withSeededMathRandom(1, () => tinyModel());
    const r = await train(
      { ...base(out), epochs: 20, keepCheckpoints: 2, movingAverageDecay: 0 },
      { model, onEpoch: (e) => epochs.push(e), onStep: (s) => steps.push(s) },
    );
    // 4 classes × 12 images, 20 % validation: ⌊12·0.8⌋ = 9 train, 3 val per class → 36 train,
    // 12 val; 36 / 8 = 4 steps per epoch.
    expect(r.stopReason).toBe('completed');
    expect(r.step).toBe(80);
    expect(r.classNames).toEqual(['Hans_Blix', 'Jean_Chretien', 'Silvio_Berlusconi', 'Tony_Blair']);
    expect(epochs).toHaveLength(20);
    const first = epochs[0];
    const last5 = epochs.slice(-5);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    // Chance: cross-entropy ln 4 = 1.386, accuracy 0.25.
    expect(mean(last5.map((e) => e.loss))).toBeLessThan(first.loss - 0.25);
    expect(mean(last5.map((e) => e.accuracy))).toBeGreaterThan(0.45);
    expect(last5.every((e) => e.validation && e.validation.images === 12)).toBe(true);
    // Step metrics are complete and sane.
    for (const s of steps) {
      expect(s.loss).toBeCloseTo(s.crossEntropy + 0.01 * s.centerLoss + s.regularization, 5);
      expect(s.regularization).toBeGreaterThan(0);
      expect(s.learningRate).toBe(0.05);
      expect(s.imagesPerSecond).toBeGreaterThan(0);
    }
    // JSON-lines log: start, 80 steps, 20 epochs, checkpoints, stop.
    const lines = (await readFile(join(out, 'train-log.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0].type).toBe('start');
    expect(lines.filter((l) => l.type === 'step')).toHaveLength(80);
    expect(lines.filter((l) => l.type === 'epoch')).toHaveLength(20);
    expect(lines[lines.length - 1]).toMatchObject({ type: 'stop', reason: 'completed', step: 80 });
    // Only the newest 2 checkpoints are kept.
    expect((await readdir(join(out, 'checkpoints'))).sort()).toEqual(['ckpt-000000076', 'ckpt-000000080']);
    // The exported model loads and gives the trained model's outputs; its preprocessing is recorded.
    const loaded = await loadModel(join(out, 'model'));
    const x = tf.randomUniform([2, 64, 64, 3], -1, 1, 'float32', 3);
    const y = tf.tidy(() => loaded.predict(x) as tf.Tensor);
    const yRef = tf.tidy(() => model.predict(x) as tf.Tensor);
    expect(y.shape).toEqual([2, 16]);
    const d = Array.from(y.dataSync()).map((v, i) => Math.abs(v - yRef.dataSync()[i]));
    expect(Math.max(...d)).toBeLessThan(1e-5);
    expect(JSON.parse(await readFile(join(out, 'model', 'preprocessing.json'), 'utf8'))).toMatchObject({ imageSize: 64, standardization: 'fixed' });
    [x, y, yRef].forEach((t) => t.dispose());
    loaded.dispose();
    model.dispose();
  });

  it('stop + resume in a fresh state gives the same per-step losses as an uninterrupted run', async () => {
    // Dropout, batch norm, center loss, 2-step accumulation, moving averages, RMSProp and
    // a piecewise schedule are all on: everything that carries state across steps.
    const cfg = (out: string) => ({
      ...base(out),
      epochs: 3,
      batchSize: 4,
      accumulationSteps: 2,
      optimizer: 'rmsprop' as const,
      schedule: { kind: 'piecewise' as const, boundaries: [1, 2], factor: 0.5 },
      movingAverageDecay: 0.99,
      centerLossFactor: 0.1,
      centerLossAlpha: 0.6,
    });
    const straight: number[] = [];
    await train(cfg(`${data}-straight`), { model: () => tinyModel(), onStep: (s) => straight.push(s.loss) });
    // 36 training images / (4 × 2) = 4 updates per epoch, 3 epochs.
    expect(straight).toHaveLength(12);

    // Interrupted run: stop via the abort signal after step 6 (mid-epoch), then resume twice
    // (once more via maxSteps), each time with a newly built model and trainer state.
    const out = `${data}-resumed`;
    const resumed: number[] = [];
    const ctrl = new AbortController();
    const r1 = await train(cfg(out), {
      model: () => tinyModel(),
      signal: ctrl.signal,
      onStep: (s) => {
        resumed.push(s.loss);
        if (s.step === 6) ctrl.abort();
      },
    });
    expect(r1.stopReason).toBe('aborted');
    expect(r1.step).toBe(6);
    expect(r1.checkpoint).toMatch(/ckpt-000000006$/);
    const r2 = await train(cfg(out), { model: () => tinyModel(), resume: true, maxSteps: 3, onStep: (s) => resumed.push(s.loss) });
    expect(r2.stopReason).toBe('max-steps');
    expect(r2.step).toBe(9);
    const r3 = await train(cfg(out), { model: () => tinyModel(), resume: true, onStep: (s) => resumed.push(s.loss) });
    expect(r3.stopReason).toBe('completed');
    expect(r3.step).toBe(12);
    expect(resumed).toHaveLength(12);
    for (let i = 0; i < 12; i++) expect(Math.abs(resumed[i] - straight[i])).toBeLessThan(1e-6);
    // The losses do change from step to step (the comparison is not vacuous).
    expect(new Set(straight.map((l) => l.toFixed(6))).size).toBe(12);
  });

  it('does not leak tensors (triplet + pk sampling, evaluation hook); the hook sees unit embeddings', async () => {
    const model = tinyModel();
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    const evaluations: EpochMetrics[] = [];
    await train(
      { ...base(`${data}-leaks`), epochs: 2, accumulationSteps: 2, batchSize: 4, tripletLossFactor: 0.5, sampler: 'pk', imagesPerClass: 2 },
      {
        model,
        onStep: () => counts.push(tf.memory().numTensors),
        onEpoch: (e) => evaluations.push(e),
        exportModel: false,
        evaluateEvery: {
          epochs: 2,
          fn: (ctx) => {
            const x = tf.randomUniform([3, 64, 64, 3], -1, 1, 'float32', 5) as tf.Tensor4D;
            const e = ctx.embed(x);
            const norms = tf.tidy(() => tf.norm(e, 'euclidean', 1).dataSync());
            x.dispose();
            e.dispose();
            return { epoch: ctx.epoch, minNorm: Math.min(...norms), maxNorm: Math.max(...norms), dim: e.shape[1] };
          },
        },
      },
    );
    expect(counts.length).toBeGreaterThan(3);
    expect(new Set(counts.slice(1)).size).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
    expect(evaluations[0].evaluation).toBeUndefined();
    expect(evaluations[1].evaluation).toMatchObject({ epoch: 2, dim: 16 });
    expect(evaluations[1].evaluation!.minNorm).toBeCloseTo(1, 5);
    expect(evaluations[1].evaluation!.maxNorm).toBeCloseTo(1, 5);
    model.dispose();
  });

  it('trains with ArcFace and CosFace heads and a schedule file that stops training', async () => {
    const schedule = await tempFile('lr.txt', '# two epochs then stop\n0: 0.05\n2: 0.01\n3: -1\n', dirname(data));
    for (const head of ['arcface', 'cosface'] as const) {
      const steps: StepMetrics[] = [];
      const r = await train(
        { ...base(`${data}-${head}`), epochs: 10, head, marginScale: 16, margin: 0.3, schedule: { kind: 'file', path: schedule } },
        { model: () => tinyModel(), onStep: (s) => steps.push(s), exportModel: false },
      );
      // Epochs 1 (rate 0.05) and 2 (0.01) run, epoch 3 says stop: 2 × 4 updates.
      expect(r.stopReason).toBe('schedule');
      expect(r.step).toBe(8);
      expect(steps.map((s) => s.learningRate)).toEqual([0.05, 0.05, 0.05, 0.05, 0.01, 0.01, 0.01, 0.01]);
      expect(steps.every((s) => Number.isFinite(s.loss) && s.crossEntropy > 0)).toBe(true);
    }
  });

  it('rejects bad options and incompatible resumes with typed errors naming the option', async () => {
    await expect(train({ ...base(`${data}-bad`), batchSize: 0 })).rejects.toThrow(/batchSize/);
    await expect(train({ ...base(`${data}-bad`), optimzer: 'adam' } as never)).rejects.toThrow(ConfigError);
    await expect(train({ ...base(`${data}-bad`), imageSize: 96 }, { model: () => tinyModel() })).rejects.toThrow(/imageSize/);
    await expect(train({ ...base(`${data}-bad`) }, { model: () => tinyModel(), resume: true })).rejects.toThrow(/checkpoint/);
    // A checkpoint of batch size 4 cannot be resumed with batch size 8.
    await expect(
      train({ ...base(`${data}-resumed`), batchSize: 8, epochs: 3 }, { model: () => tinyModel(), resume: true }),
    ).rejects.toThrow(IncompatibleFileError);
  });
});
