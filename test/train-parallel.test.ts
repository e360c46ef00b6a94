/**
 * Data-parallel training in worker_threads: one worker reproduces in-thread training
 * exactly; two workers taking one micro-batch each reproduce it up to float summation
 * order; two workers splitting every micro-batch still train.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { setupBackend } from './helpers.js';
import { makeFaceTree, tinyModel } from './train-fixtures.js';
import { train, type StepMetrics } from '../src/train/trainer.js';
import { shardSizes } from '../src/train/parallel.js';
import type { TrainConfig } from '../src/train/config.js';

let data: string;

beforeAll(async () => {
  await setupBackend();
  data = await makeFaceTree({ identities: 4, perClass: 12, size: 72 });
});

afterAll(async () => {
  // The tree and every run's output live in one temporary directory.
  if (data) await rm(dirname(data), { recursive: true, force: true });
});

const cfg = (outDir: string): Partial<TrainConfig> & Pick<TrainConfig, 'dataDir' | 'outDir'> => ({
  dataDir: data,
  outDir,
  imageSize: 64,
  embeddingSize: 16,
  batchSize: 4,
  accumulationSteps: 2,
  epochs: 1,
  validationSplit: 0.2,
  learningRate: 0.05,
  centerLossFactor: 0.1,
  schedule: { kind: 'constant' },
});

describe('data-parallel workers', () => {
  it('shards batches as evenly as possible', () => {
    expect(shardSizes(8, 2)).toEqual([4, 4]);
    expect(shardSizes(7, 3)).toEqual([3, 2, 2]);
    expect(shardSizes(1, 2)).toEqual([1, 0]);
  });

  it('one worker, and two workers with one micro-batch each, give the losses of in-thread training', async () => {
    const inThread: StepMetrics[] = [];
    await train(cfg(`${data}-p0`), { model: () => tinyModel(), onStep: (s) => inThread.push(s) });
    const before = tf.memory().numTensors;
    const oneWorker: StepMetrics[] = [];
    await train(cfg(`${data}-p1`), { model: () => tinyModel(), workers: 1, onStep: (s) => oneWorker.push(s) });
    expect(tf.memory().numTensors).toBe(before);
    // 36 training images / (4 × 2) = 4 updates.
    expect(inThread).toHaveLength(4);
    expect(oneWorker).toHaveLength(4);
    for (let i = 0; i < 4; i++) {
      expect(Math.abs(oneWorker[i].loss - inThread[i].loss)).toBeLessThan(1e-6);
      expect(oneWorker[i].accuracy).toBe(inThread[i].accuracy);
    }
    expect(oneWorker[0].seconds.workers).toBeGreaterThan(0);

    // Two workers, 2 micro-batches per update: each worker runs one whole micro-batch on
    // the same weights with the same dropout masks; only the order of the gradient sums
    // (and the batch-norm moving averages, unused in training mode) differ.
    const twoWorkers: StepMetrics[] = [];
    const r = await train(cfg(`${data}-p2`), { model: () => tinyModel(), workers: 2, onStep: (s) => twoWorkers.push(s) });
    expect(r.stopReason).toBe('completed');
    expect(twoWorkers).toHaveLength(4);
    for (let i = 0; i < 4; i++) expect(Math.abs(twoWorkers[i].loss - inThread[i].loss)).toBeLessThan(1e-4);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('two workers split single micro-batches into shards and train', async () => {
    // One micro-batch of 4 per update: each worker gets 2 images. Batch norm normalizes
    // per shard, so the numbers differ from in-thread training; training still works.
    const inThread: StepMetrics[] = [];
    await train({ ...cfg(`${data}-s0`), accumulationSteps: 1, epochs: 2 }, { model: () => tinyModel(), onStep: (s) => inThread.push(s) });
    const sharded: StepMetrics[] = [];
    const r = await train({ ...cfg(`${data}-s2`), accumulationSteps: 1, epochs: 2 }, { model: () => tinyModel(), workers: 2, onStep: (s) => sharded.push(s) });
    expect(r.stopReason).toBe('completed');
    // 36 images / 4 = 9 updates per epoch.
    expect(sharded).toHaveLength(18);
    expect(sharded.every((s) => Number.isFinite(s.loss) && s.crossEntropy > 0)).toBe(true);
    // The first update starts from the same weights: its cross-entropy differs only by the
    // per-shard normalization (chance level is ln 4 = 1.386 either way).
    expect(Math.abs(sharded[0].crossEntropy - inThread[0].crossEntropy)).toBeLessThan(0.5);
    expect(sharded[0].loss).not.toBe(inThread[0].loss);
  });
});
