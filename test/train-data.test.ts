/**
 * The parts of training around the loop: seeded RNG, dataset reading and splitting,
 * sampling, augmentation, schedules, optimizers (TF1 update rules, hand-worked), config
 * validation and checkpoint files.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp as mkdtempRaw, mkdir, writeFile, readdir, truncate, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setupBackend } from './helpers.js';
import { loadSharp, decodeImageFile } from '../src/image/decode-node.js';
import { makeFaceTree } from './train-fixtures.js';
import { Rng } from '../src/train/rng.js';
import { readImageFolder, splitDataset, datasetFingerprint } from '../src/train/dataset.js';
import { BatchSampler, BatchLoader, cropFlipStandardize, cropWindow } from '../src/train/batches.js';
import { fixedStandardization } from '../src/recognition/standardize.js';
import { parseScheduleFile, learningRateAt, rateFromEntries } from '../src/train/schedule.js';
import { TrainOptimizer } from '../src/train/optimizers.js';
import { resolveTrainConfig, seedPreset, DEFAULT_TRAIN_CONFIG } from '../src/train/config.js';
import { saveTrainingCheckpoint, loadTrainingCheckpoint, listTrainingCheckpoints, pruneTrainingCheckpoints, latestTrainingCheckpoint, CHECKPOINT_FORMAT, CHECKPOINT_VERSION, type TrainingCheckpointState } from '../src/train/checkpoint.js';
import { ConfigError, FileNotFoundError, IncompatibleFileError } from '../src/errors.js';
import type { NamedArrays } from '../src/io/types.js';
import { configFromFlags, exportPreprocessing } from '../src/cli/commands/train.js';

beforeAll(async () => {
  await setupBackend();
});

/** Temporary directories made by this file, removed at the end. */
const temps: string[] = [];
async function mkdtemp(prefix: string): Promise<string> {
  const d = await mkdtempRaw(prefix);
  temps.push(d);
  return d;
}
afterAll(async () => {
  for (const d of temps) await rm(d, { recursive: true, force: true });
});

async function solidPng(path: string, rgb: [number, number, number], size = 8): Promise<void> {
  const sharp = await loadSharp();
  await writeFile(path, await sharp({ create: { width: size, height: size, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).png().toBuffer());
}

describe('Rng', () => {
  it('is reproducible, keyed, and resumable from its state', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const xs = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(xs);
    expect(new Rng(43).nextUint32()).not.toBe(xs[0]);
    expect(Rng.derive(1, 'augment', 7).nextUint32()).toBe(Rng.derive(1, 'augment', 7).nextUint32());
    expect(Rng.derive(1, 'augment', 7).nextUint32()).not.toBe(Rng.derive(1, 'augment', 8).nextUint32());
    const state = a.getState();
    const next = [a.next(), a.int(10), a.nextUint32()];
    const c = Rng.fromState(state);
    expect([c.next(), c.int(10), c.nextUint32()]).toEqual(next);
    expect(() => c.setState([0, 0, 0, 0])).toThrow(ConfigError);
  });

  it('draws uniform integers and shuffles into permutations', () => {
    const r = new Rng(7);
    const counts = new Array(5).fill(0);
    for (let i = 0; i < 5000; i++) counts[r.int(5)]++;
    // 1000 expected per bin; ±150 is > 4.5 standard deviations (σ ≈ 28).
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(150);
    const p = r.shuffle(Array.from({ length: 20 }, (_, i) => i)) as number[];
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(p).not.toEqual(Array.from({ length: 20 }, (_, i) => i));
  });
});

describe('dataset folders', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'facenet-ds-'));
    // a: 5 images, b: 2, c: 1, empty: 0, plus files that are not images or are hidden.
    const counts: Record<string, number> = { b_person: 2, a_person: 5, c_person: 1, empty: 0 };
    for (const [name, n] of Object.entries(counts)) {
      await mkdir(join(root, name));
      for (let i = 0; i < n; i++) await solidPng(join(root, name, `${i}.png`), [i * 40, 100, 200]);
    }
    await writeFile(join(root, 'a_person', 'notes.txt'), 'not an image');
    await writeFile(join(root, 'a_person', '.hidden.png'), 'x');
    await writeFile(join(root, 'README.md'), 'top-level file');
  });

  it('reads identities in sorted order with their images', async () => {
    const f = await readImageFolder(root);
    expect(f.classes.map((c) => c.name)).toEqual(['a_person', 'b_person', 'c_person', 'empty']);
    expect(f.classes.map((c) => c.paths.length)).toEqual([5, 2, 1, 0]);
    await expect(readImageFolder(join(root, 'nope'))).rejects.toThrow(FileNotFoundError);
    await expect(readImageFolder(join(root, 'empty'))).rejects.toThrow(/dataDir/);
  });

  it('splits images per class like the reference SPLIT_IMAGES', async () => {
    const f = await readImageFolder(root);
    const s = splitDataset(f, { validationSplit: 0.2, seed: 1 });
    // a: ⌊5·0.8⌋ = 4 train, 1 val. b: ⌊2·0.8⌋ = 1 train, 1 val. c: ⌊0.8⌋ = 0 → dropped. empty → dropped.
    expect(s.train.classNames).toEqual(['a_person', 'b_person']);
    expect(Array.from(s.train.labels)).toEqual([0, 0, 0, 0, 1]);
    expect(Array.from(s.validation.labels)).toEqual([0, 1]);
    expect(s.dropped.map((d) => d.name)).toEqual(['c_person', 'empty']);
    // Train and validation are disjoint and together are the class's images.
    const a = new Set([...s.train.paths, ...s.validation.paths].filter((p) => p.includes('a_person')));
    expect(a.size).toBe(5);
    // Reproducible for a seed; the fingerprint follows the content.
    const again = splitDataset(f, { validationSplit: 0.2, seed: 1 });
    expect(again.train.paths).toEqual(s.train.paths);
    expect(datasetFingerprint(again.train, root)).toBe(datasetFingerprint(s.train, root));
    expect(datasetFingerprint(s.validation, root)).not.toBe(datasetFingerprint(s.train, root));
    // minImagesPerClass counts the training part: b (1 train) goes with a minimum of 2.
    expect(splitDataset(f, { validationSplit: 0.2, seed: 1, minImagesPerClass: 2 }).train.classNames).toEqual(['a_person']);
    // No split: everything trains.
    const all = splitDataset(f, { validationSplit: 0, seed: 1 });
    expect(all.train.paths).toHaveLength(8);
    expect(all.validation.paths).toHaveLength(0);
  });

  it('loads batches, replacing an unreadable image by another of its class and reporting it once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'facenet-bad-'));
    await mkdir(join(dir, 'x'));
    await mkdir(join(dir, 'y'));
    await solidPng(join(dir, 'x', '1.png'), [255, 0, 128], 6);
    await writeFile(join(dir, 'x', '0.png'), 'this is not a png');
    await solidPng(join(dir, 'y', '0.png'), [0, 255, 0], 6);
    const split = splitDataset(await readImageFolder(dir), { validationSplit: 0, seed: 1 });
    const sampler = new BatchSampler(split.train, { seed: 1, batchSize: 3, accumulationSteps: 1, kind: 'shuffle', imagesPerClass: 1, randomCrop: false, randomFlip: false });
    const warnings: string[] = [];
    const loader = new BatchLoader(split.train, (l) => sampler.classMembers(l), { imageSize: 4, onWarning: (m) => warnings.push(m) });
    const b = await loader.loadRange(0, 3); // x/0.png (bad), x/1.png, y/0.png
    expect(b.shape).toEqual([3, 4, 4, 3]);
    // Image 0 was replaced by x/1.png: (255−127.5)/128 = 0.99609375, (0−127.5)/128 = −0.99609375, (128−127.5)/128 = 0.00390625
    expect(Array.from(b.images.slice(0, 3))).toEqual([0.99609375, -0.99609375, 0.00390625]);
    expect(Array.from(b.images.slice(48, 51))).toEqual([0.99609375, -0.99609375, 0.00390625]);
    expect(Array.from(b.images.slice(96, 99))).toEqual([-0.99609375, 0.99609375, -0.99609375]);
    await loader.loadRange(0, 1);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/0\.png/);
  });
});

describe('sampling and augmentation', () => {
  const images = {
    paths: Array.from({ length: 10 }, (_, i) => `img${i}`),
    labels: Int32Array.from([0, 0, 0, 1, 1, 1, 2, 2, 3, 3]),
    classNames: ['a', 'b', 'c', 'd'],
  };
  const opts = { seed: 5, batchSize: 2, accumulationSteps: 2, kind: 'shuffle' as const, imagesPerClass: 2, randomCrop: true, randomFlip: true };

  it('shuffle: every image once per pass, the same plans from a new sampler', () => {
    const s = new BatchSampler(images, opts);
    // Steps take 4 images; the stream is pass after pass of 10: steps 0-4 cover 2 passes.
    const seen: number[] = [];
    for (let step = 0; step < 5; step++) for (let m = 0; m < 2; m++) seen.push(...s.plan(step, m).indices);
    expect([...seen.slice(0, 10)].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([...seen.slice(10, 20)].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(seen.slice(0, 10)).not.toEqual(seen.slice(10, 20));
    const fresh = new BatchSampler(images, opts);
    expect(fresh.plan(3, 1)).toEqual(s.plan(3, 1));
    expect(s.stepsPerPass).toBe(2);
    expect(Array.from(s.plan(0, 0).labels)).toEqual(Array.from(s.plan(0, 0).indices, (i) => images.labels[i]));
  });

  it('pk: P classes × K images per micro-batch', () => {
    const s = new BatchSampler(images, { ...opts, kind: 'pk', batchSize: 4, imagesPerClass: 2 });
    for (let step = 0; step < 10; step++) {
      const p = s.plan(step, 0);
      const labels = Array.from(p.labels);
      expect(labels[0]).toBe(labels[1]);
      expect(labels[2]).toBe(labels[3]);
      expect(labels[0]).not.toBe(labels[2]);
      expect(new Set(p.indices).size).toBe(4);
    }
  });

  it('crop window: uniform inside the image, centred otherwise', () => {
    // 182-px image, 160 crop: 23 positions; u = 0 → 0, u = 0.999 → 22; centre = 11.
    expect(cropWindow(182, 182, 160, 0, 0.999)).toEqual({ left: 0, top: 22 });
    expect(cropWindow(182, 182, 160, -1, -1)).toEqual({ left: 11, top: 11 });
    // smaller than the crop: centred with a border (negative offset) — crop_or_pad
    expect(cropWindow(150, 170, 160, 0.5, 0.5)).toEqual({ left: -5, top: 5 });
  });

  it('crop + flip + fixed standardization on a hand-made image', () => {
    // 3×2 image (w=3, h=2); pixel value v at (x,y) = 10·(3y + x) in every channel.
    const w = 3;
    const h = 2;
    const data = new Uint8Array(w * h * 3);
    for (let i = 0; i < w * h; i++) data.fill(10 * i, i * 3, i * 3 + 3);
    const out = new Float32Array(2 * 2 * 3);
    // Crop 2×2 at (1,0), mirrored: row 0 = [(2,0),(1,0)] = [20,10], row 1 = [(2,1),(1,1)] = [50,40]
    cropFlipStandardize({ data, width: w, height: h }, 2, { left: 1, top: 0, flip: true }, out, 0);
    const s = (v: number) => (v - 127.5) / 128;
    expect(Array.from(out.filter((_, i) => i % 3 === 0))).toEqual([20, 10, 50, 40].map(s));
    // Outside the image: the standardized 0 (zero padding before standardization).
    cropFlipStandardize({ data, width: w, height: h }, 2, { left: 2, top: 1, flip: false }, out, 0);
    expect(Array.from(out.filter((_, i) => i % 3 === 0))).toEqual([50, 0, 0, 0].map(s));
    // (x − 127.5)/128, not the seed's x − 127.5/128
    expect(fixedStandardization(255)).toBe(0.99609375);
    expect(fixedStandardization(0)).toBe(-0.99609375);
  });
});

describe('real face crops through the pipeline', () => {
  it('reads an LFW tree and produces the planned crop, flip and standardization', async () => {
    const root = await makeFaceTree({ identities: 3, perClass: 5, size: 72 });
    temps.push(dirname(root));
    const split = splitDataset(await readImageFolder(root), { validationSplit: 0.2, seed: 3 });
    // 5 images per identity: ⌊5·0.8⌋ = 4 train + 1 validation each.
    expect(split.train.classNames).toEqual(['Jean_Chretien', 'Silvio_Berlusconi', 'Tony_Blair']);
    expect(split.train.paths).toHaveLength(12);
    expect(split.validation.paths).toHaveLength(3);
    const sampler = new BatchSampler(split.train, { seed: 3, batchSize: 4, accumulationSteps: 1, kind: 'shuffle', imagesPerClass: 1, randomCrop: true, randomFlip: true });
    const loader = new BatchLoader(split.train, (l) => sampler.classMembers(l), { imageSize: 64 });
    const plan = sampler.plan(2, 0);
    const batch = await loader.load(plan);
    expect(batch.shape).toEqual([4, 64, 64, 3]);
    expect(Array.from(batch.labels)).toEqual(Array.from(plan.indices, (i) => split.train.labels[i]));
    // Recompute every image independently from the decoded file and the plan's draws:
    // window left = ⌊u·(72 − 64 + 1)⌋, top = ⌊v·9⌋, mirrored within the window if flip.
    let flips = 0;
    for (let j = 0; j < 4; j++) {
      const img = await decodeImageFile(split.train.paths[plan.indices[j]]);
      const a = plan.augment[j]!;
      const left = Math.floor(a.u * 9);
      const top = Math.floor(a.v * 9);
      if (a.flip) flips++;
      let maxDiff = 0;
      for (let y = 0; y < 64; y += 7) {
        for (let x = 0; x < 64; x += 5) {
          const sx = left + (a.flip ? 63 - x : x);
          for (let c = 0; c < 3; c++) {
            const expected = (img.data[((top + y) * 72 + sx) * 3 + c] - 127.5) / 128;
            const got = batch.images[j * 64 * 64 * 3 + (y * 64 + x) * 3 + c];
            maxDiff = Math.max(maxDiff, Math.abs(expected - got));
          }
        }
      }
      expect(maxDiff).toBe(0);
    }
    // The same plan from a new sampler loads the same pixels (reproducible augmentation).
    const again = await loader.load(new BatchSampler(split.train, { seed: 3, batchSize: 4, accumulationSteps: 1, kind: 'shuffle', imagesPerClass: 1, randomCrop: true, randomFlip: true }).plan(2, 0));
    expect(again.images).toEqual(batch.images);
    // Over 5 updates (20 images) both mirrored and plain crops occur (p = 1/2 each).
    const allFlips = [0, 1, 2, 3, 4].flatMap((s) => sampler.plan(s, 0).augment.map((a) => a!.flip));
    expect(allFlips.filter(Boolean).length).toBeGreaterThan(2);
    expect(allFlips.filter((f) => !f).length).toBeGreaterThan(2);
    expect(flips).toBe(plan.augment.filter((a) => a!.flip).length);
  });
});

describe('learning-rate schedules', () => {
  it('parses the reference schedule-file format', () => {
    const text = '# Learning rate schedule\n# Maps an epoch number to a learning rate\n0:   0.05\n100: 0.005 # decay\n\n200: 0.0005\n276: -1';
    const e = parseScheduleFile(text, 'lr.txt');
    expect(e).toEqual([
      { epoch: 0, rate: 0.05 },
      { epoch: 100, rate: 0.005 },
      { epoch: 200, rate: 0.0005 },
      { epoch: 276, rate: -1 },
    ]);
    // 1-based epochs: 1…99 → 0.05; 100 → 0.005; 276 → stop.
    expect(rateFromEntries(e, 1)).toBe(0.05);
    expect(rateFromEntries(e, 99)).toBe(0.05);
    expect(rateFromEntries(e, 100)).toBe(0.005);
    expect(rateFromEntries(e, 275)).toBe(0.0005);
    expect(rateFromEntries(e, 276)).toBeNull();
    expect(learningRateAt({ kind: 'file', entries: e }, 1, { step: 0, epoch: 99, stepsPerEpoch: 10 })).toBe(0.005);
    expect(parseScheduleFile('5: -')[0].rate).toBe(-1);
  });

  it('names the file and line of a bad line', () => {
    expect(() => parseScheduleFile('0: 0.1\n10 0.01', 'lr.txt')).toThrow(/lr\.txt:2.*epoch: rate/);
    expect(() => parseScheduleFile('0: 0.1\n# x\nten: 0.01', 'lr.txt')).toThrow(/lr\.txt:3.*epoch/);
    expect(() => parseScheduleFile('0: 0.1\n5: fast', 'lr.txt')).toThrow(/lr\.txt:2.*rate must be a number/);
    expect(() => parseScheduleFile('10: 0.1\n5: 0.01', 'lr.txt')).toThrow(/lr\.txt:2.*increase/);
    expect(() => parseScheduleFile('# only comments\n', 'lr.txt')).toThrow(ConfigError);
  });

  it('piecewise: ×0.1 after epochs 10, 20, 40 like the seed', () => {
    const s = { kind: 'piecewise' as const, boundaries: [10, 20, 40], factor: 0.1 };
    const at = (step: number) => learningRateAt(s, 0.01, { step, epoch: Math.floor(step / 100), stepsPerEpoch: 100 });
    // tf.train.piecewise_constant: value k once step > boundary_k (boundaries 1000, 2000, 4000 steps)
    expect(at(0)).toBe(0.01);
    expect(at(1000)).toBe(0.01);
    expect(at(1001)).toBeCloseTo(0.001, 12);
    expect(at(2001)).toBeCloseTo(0.0001, 12);
    expect(at(4001)).toBeCloseTo(0.00001, 12);
  });
});

describe('optimizers (TF1 update rules, one variable w = 1, g = 0.5, lr = 0.1)', () => {
  function run(kind: 'adam' | 'rmsprop' | 'momentum' | 'adagrad', steps: number): number {
    const init = tf.scalar(1);
    const w = tf.variable(init);
    init.dispose();
    const opt = new TrainOptimizer(kind, [{ name: 'w', variable: w }]);
    const g = tf.scalar(0.5);
    for (let i = 0; i < steps; i++) opt.apply([g], 0.1);
    const v = w.dataSync()[0];
    g.dispose();
    opt.dispose();
    w.dispose();
    return v;
  }

  it('adam (ε = 0.1 outside the bias correction, as TF1)', () => {
    // m = 0.05, v = 0.00025, lr_t = 0.1·√0.001/0.1 = 0.0316228; w = 1 − 0.0316228·0.05/(0.0158114 + 0.1) = 0.9863473
    expect(run('adam', 1)).toBeCloseTo(0.9863473, 6);
    // step 2: m = 0.095, v = 0.00049975, lr_t = 0.1·√(1−0.999²)/(1−0.81) → w = 0.9680766
    expect(run('adam', 2)).toBeCloseTo(0.9680766, 6);
  });
  it('rmsprop (ms starts at 1, ε = 1 inside the root, momentum 0.9)', () => {
    // ms = 0.9 + 0.025 = 0.925; mom = 0.1·0.5/√1.925 = 0.0360375 → 0.9639625
    expect(run('rmsprop', 1)).toBeCloseTo(0.9639625, 6);
    expect(run('rmsprop', 2)).toBeCloseTo(0.8948423, 6);
  });
  it('momentum (Nesterov, 0.9)', () => {
    // a = 0.5; w = 1 − 0.1·(0.5 + 0.45) = 0.905; then a = 0.95, w = 0.905 − 0.1·(0.5 + 0.855) = 0.7695
    expect(run('momentum', 1)).toBeCloseTo(0.905, 6);
    expect(run('momentum', 2)).toBeCloseTo(0.7695, 6);
  });
  it('adagrad (accumulator starts at 0.1)', () => {
    // a = 0.35; w = 1 − 0.1·0.5/√0.35 = 0.9154846
    expect(run('adagrad', 1)).toBeCloseTo(0.9154846, 6);
  });

  it('state round-trips (slots and iteration count)', () => {
    const mk = () => {
      const init = tf.tensor1d([1, 2]);
      const v = tf.variable(init);
      init.dispose();
      return v;
    };
    const w1 = mk();
    const w2 = mk();
    const g = tf.tensor1d([0.3, -0.2]);
    const a = new TrainOptimizer('adam', [{ name: 'w', variable: w1 }]);
    a.apply([g], 0.1);
    const b = new TrainOptimizer('adam', [{ name: 'w', variable: w2 }]);
    b.setState(a.getState());
    w2.assign(w1);
    a.apply([g], 0.1);
    b.apply([g], 0.1);
    expect(Array.from(w2.dataSync())).toEqual(Array.from(w1.dataSync()));
    expect(b.iterations).toBe(2);
    const bad: NamedArrays = new Map([['w/m', { shape: [3], dtype: 'float32', data: new Float32Array(3) }]]);
    expect(() => b.setState({ iterations: 1, slots: bad })).toThrow(IncompatibleFileError);
    [a, b, w1, w2, g].forEach((x) => x.dispose());
  });
});

describe('configuration', () => {
  it('fills documented defaults and keeps the seed preset values', () => {
    const c = resolveTrainConfig({ dataDir: 'd', outDir: 'o' });
    expect(c).toMatchObject(DEFAULT_TRAIN_CONFIG);
    expect(c.optimizer).toBe('adam');
    // LeslieZhoa/tensorflow-facenet train/config.py
    expect(seedPreset).toMatchObject({ imageSize: 160, embeddingSize: 512, keepProbability: 0.8, weightDecay: 5e-4, centerLossAlpha: 0.6, centerLossFactor: 1e-2, learningRate: 0.01, movingAverageDecay: 0.999, epochs: 150, validationSplit: 0.05 });
    expect((seedPreset.batchSize ?? 0) * (seedPreset.accumulationSteps ?? 0)).toBe(90);
    expect(seedPreset.schedule).toEqual({ kind: 'piecewise', boundaries: [10, 20, 40], factor: 0.1 });
  });

  it('names the bad option', () => {
    const bad = (o: Record<string, unknown>) => () => resolveTrainConfig({ dataDir: 'd', outDir: 'o', ...o });
    expect(bad({ learningRate: -1 })).toThrow(/learningRate/);
    expect(bad({ optimizer: 'sgd' })).toThrow(/optimizer/);
    expect(bad({ schedule: { kind: 'piecewise', boundaries: [20, 10], factor: 0.1 } })).toThrow(/schedule\.boundaries/);
    expect(bad({ tripletLossFactor: 1 })).toThrow(/sampler/);
    expect(bad({ sampler: 'pk', batchSize: 6, imagesPerClass: 4 })).toThrow(/batchSize/);
    expect(bad({ batchSzie: 4 })).toThrow(/batchSzie: unknown option/);
    expect(() => resolveTrainConfig({ outDir: 'o' } as never)).toThrow(/dataDir/);
  });
});

describe('train command options', () => {
  it('layers preset < config file < flags, and names bad flags', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'facenet-cli-'));
    const file = join(dir, 'cfg.json');
    await writeFile(file, JSON.stringify({ learningRate: 0.2, embeddingSize: 64 }));
    const c = await configFromFlags({ data: 'd', out: 'o', preset: 'seed', config: file, epochs: '7', lr: '0.5', progress: true });
    const r = resolveTrainConfig(c);
    expect(r).toMatchObject({ dataDir: 'd', outDir: 'o', centerLossAlpha: 0.6, embeddingSize: 64, learningRate: 0.5, epochs: 7, accumulationSteps: 9 });
    await expect(configFromFlags({ data: 'd', out: 'o', epochs: 'x', progress: true })).rejects.toThrow(/--epochs/);
    await expect(configFromFlags({ data: 'd', out: 'o', preset: 'nope', progress: true })).rejects.toThrow(/--preset/);
    await expect(configFromFlags({ out: 'o', progress: true })).rejects.toThrow(/--data/);
    await expect(configFromFlags({ data: 'd', out: dir, resume: true, progress: true })).rejects.toThrow(FileNotFoundError);
    await writeFile(file, '{ not json');
    await expect(configFromFlags({ data: 'd', out: 'o', config: file, progress: true })).rejects.toThrow(/--config/);
  });

  it("records the training data's alignment for the exported model", () => {
    expect(exportPreprocessing({})).toEqual({});
    expect(exportPreprocessing({ alignment: 'chip' })).toEqual({ alignment: 'chip', margin: 0.25 });
    expect(exportPreprocessing({ alignment: 'crop', margin: '40' })).toEqual({ alignment: 'crop', margin: 40 });
    expect(() => exportPreprocessing({ alignment: 'warp' })).toThrow(/--alignment/);
    expect(() => exportPreprocessing({ margin: '-1' })).toThrow(/--margin/);
  });
});

describe('checkpoint files', () => {
  const state = (step: number): TrainingCheckpointState => ({
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    step,
    epoch: 0,
    config: resolveTrainConfig({ dataDir: 'd', outDir: 'o' }),
    dataset: { trainFingerprint: 'a', validationFingerprint: 'b', classNames: ['x'], trainImages: 1, validationImages: 0 },
    modelWeights: [],
    optimizer: { kind: 'adam', iterations: step },
    rng: { seed: 666, scheme: 'derive(seed,purpose,step,micro)' },
    movingAverage: false,
    savedAt: new Date(0).toISOString(),
  });

  it('round-trips arrays, keeps the newest N, and rejects damaged files', async () => {
    const root = await mkdtemp(join(tmpdir(), 'facenet-ckpt-'));
    const arrays: NamedArrays = new Map([
      ['model/0', { shape: [2, 3], dtype: 'float32', data: Float32Array.from([1, 2, 3, 4, 5, 6.5]) }],
      ['ids', { shape: [2], dtype: 'int32', data: Int32Array.from([7, -8]) }],
    ]);
    for (const s of [1, 2, 3]) await saveTrainingCheckpoint(root, state(s), arrays);
    expect((await listTrainingCheckpoints(root)).map((c) => c.step)).toEqual([1, 2, 3]);
    const back = await loadTrainingCheckpoint((await latestTrainingCheckpoint(root))!);
    expect(back.state.step).toBe(3);
    expect(Array.from(back.tensors.get('model/0')!.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6.5]);
    expect(back.tensors.get('ids')).toMatchObject({ shape: [2], dtype: 'int32' });
    expect(Array.from(back.tensors.get('ids')!.data as Int32Array)).toEqual([7, -8]);
    // Same step again replaces it; pruning keeps the newest 2; no temp dirs are left.
    await saveTrainingCheckpoint(root, { ...state(3), epoch: 9 }, arrays);
    await pruneTrainingCheckpoints(root, 2);
    expect((await readdir(root)).sort()).toEqual(['ckpt-000000002', 'ckpt-000000003']);
    expect((await loadTrainingCheckpoint(join(root, 'ckpt-000000003'))).state.epoch).toBe(9);
    // Damage: a truncated data file, a missing checkpoint.
    await truncate(join(root, 'ckpt-000000002', 'tensors.bin'), 10);
    await expect(loadTrainingCheckpoint(join(root, 'ckpt-000000002'))).rejects.toThrow(IncompatibleFileError);
    await expect(loadTrainingCheckpoint(join(root, 'ckpt-000000099'))).rejects.toThrow(FileNotFoundError);
    await writeFile(join(root, 'ckpt-000000003', 'state.json'), '{"format":"something-else"}');
    await expect(loadTrainingCheckpoint(join(root, 'ckpt-000000003'))).rejects.toThrow(/not a tfjs-facenet training checkpoint/);
  });
});
