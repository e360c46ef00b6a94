/**
 * The seed's path in miniature on its own kind of data: CelebA photos (unaligned) are
 * aligned by the library's dataset aligner, then a network trains on the crops with
 * softmax + center loss and learns to tell the identities apart.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import '@tensorflow/tfjs-layers';
import { cp, mkdtemp, readdir, rm, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setupBackend, sharedPath } from './helpers.js';
import { tinyModel } from './train-fixtures.js';
import { alignDataset } from '../src/datasets/align.js';
import { train, type EpochMetrics } from '../src/train/trainer.js';
import { withSeededMathRandom } from '../src/train/model-state.js';

// Four identities of ../shared/data/celeba with 30 photos each; 12 photos of each are used.
const IDS = ['07226', '07233', '07238', '07240'];
const PER_CLASS = 12;
let root: string;

beforeAll(async () => {
  await setupBackend();
  root = await mkdtemp(join(tmpdir(), 'facenet-celeba-'));
  for (const id of IDS) {
    const src = sharedPath('data', 'celeba', id);
    const files = (await readdir(src)).filter((f) => f.endsWith('.jpg')).sort().slice(0, PER_CLASS);
    await mkdir(join(root, 'raw', id), { recursive: true });
    for (const f of files) await cp(join(src, f), join(root, 'raw', id, f));
  }
});

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('CelebA: align with MTCNN, then train', () => {
  it('aligns the photos and a model trained on the crops learns the identities', async () => {
    // Crops of 72 px (random 64 px training crops), margin scaled from the reference's 44 at 182.
    const summary = await alignDataset({
      input: join(root, 'raw'),
      output: join(root, 'aligned'),
      imageSize: 72,
      margin: 17,
      workers: 0,
    });
    expect(summary.total).toBe(IDS.length * PER_CLASS);
    expect(summary.failed).toEqual([]);
    // CelebA photos are portraits: nearly every one has a face MTCNN finds.
    expect(summary.aligned).toBeGreaterThanOrEqual(summary.total - 2);

    const epochs: EpochMetrics[] = [];
    const model = await withSeededMathRandom(3, () => tinyModel());
    const result = await train(
      {
        dataDir: join(root, 'aligned'),
        outDir: join(root, 'run'),
        imageSize: 64,
        embeddingSize: 16,
        batchSize: 8,
        validationSplit: 0.2,
        learningRate: 0.05,
        schedule: { kind: 'constant' },
        epochs: 20,
        movingAverageDecay: 0,
        centerLossFactor: 0.01,
      },
      { model, onEpoch: (e) => epochs.push(e) },
    );
    model.dispose();
    expect(result.stopReason).toBe('completed');
    expect(result.classNames).toEqual([...IDS].sort());
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const last5 = epochs.slice(-5);
    // Chance is cross-entropy ln 4 ≈ 1.386 and accuracy 0.25.
    expect(mean(last5.map((e) => e.loss))).toBeLessThan(epochs[0].loss - 0.25);
    expect(mean(last5.map((e) => e.accuracy))).toBeGreaterThan(0.45);
  });
});
