/**
 * Distillation end to end on real faces: CelebA photos are aligned twice by the library's
 * dataset aligner as dlib face chips (150 px for the teacher, 64 px for the student), the
 * shipped dlib model fills a teacher cache, and a tiny student trained with no labels at all
 * (head 'none') learns to embed the faces as the teacher does — also in data-parallel workers.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { cp, mkdtemp, readdir, rm, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { setupBackend, sharedPath } from './helpers.js';
import { tinyModel } from './train-fixtures.js';
import { alignDataset } from '../src/datasets/align.js';
import { loadModel } from '../src/facenet/model-io.js';
import { readImageFolder } from '../src/train/dataset.js';
import { TeacherCache, fillTeacherCache, readTeacherCache } from '../src/train/teacher-cache.js';
import { train, type StepMetrics } from '../src/train/trainer.js';
import { withSeededMathRandom } from '../src/train/model-state.js';
import { ConfigError } from '../src/errors.js';

const IDS = ['07226', '07233', '07238', '07240'];
const PER_CLASS = 8;
let root: string;

beforeAll(async () => {
  await setupBackend();
  root = await mkdtemp(join(tmpdir(), 'facenet-distill-'));
  for (const id of IDS) {
    const src = sharedPath('data', 'celeba', id);
    const files = (await readdir(src)).filter((f) => f.endsWith('.jpg')).sort().slice(0, PER_CLASS);
    await mkdir(join(root, 'raw', id), { recursive: true });
    for (const f of files) await cp(join(src, f), join(root, 'raw', id, f));
  }
  for (const size of [150, 64]) {
    await alignDataset({ input: join(root, 'raw'), output: join(root, `chips${size}`), imageSize: size, method: 'chip', workers: 0 });
  }
});

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

/** Mean cosine between the student's embeddings of the 64-px chips and the teacher's. */
async function agreement(student: import('@tensorflow/tfjs-layers').LayersModel, keys: string[], cachePath: string): Promise<number> {
  const cache = await readTeacherCache(cachePath);
  const { loadAlignedFaces } = await import('../src/recognition/embedder.js');
  const faces = await loadAlignedFaces(keys.map((k) => join(root, 'chips64', k)), 64);
  const cos = tf.tidy(() => {
    const x = tf.div(tf.sub(faces, 127.5), 128);
    const s = student.predict(x) as tf.Tensor2D;
    const sn = tf.div(s, tf.norm(s, 'euclidean', 1, true));
    const t = tf.tensor2d(keys.flatMap((k) => Array.from(cache.get(k)!)), [keys.length, 128]);
    return tf.mean(tf.sum(tf.mul(sn, t), 1)).dataSync()[0];
  });
  faces.dispose();
  return cos;
}

describe('distillation', () => {
  it('a label-free student learns the dlib teacher’s embeddings', async () => {
    const folder = await readImageFolder(join(root, 'chips150'));
    const images = folder.classes.flatMap((c) => c.paths).map((path) => ({ key: relative(folder.root, path), path }));
    expect(images.length).toBeGreaterThanOrEqual(IDS.length * PER_CLASS - 2);
    const teacher = await loadModel(join(import.meta.dirname, '../models/dlib'));
    const cachePath = join(root, 'teacher.cache');
    const embed = async (faces: tf.Tensor4D, { mirror }: { mirror: boolean }) => {
      const y = tf.tidy(() => {
        const e = teacher.predict(mirror ? tf.reverse(faces, 2) : faces) as tf.Tensor2D;
        return tf.div(e, tf.norm(e, 'euclidean', 1, true));
      });
      const d = (await y.data()) as Float32Array;
      y.dispose();
      return Array.from({ length: faces.shape[0] }, (_, i) => d.slice(i * 128, (i + 1) * 128));
    };
    const cache = await TeacherCache.open(cachePath, { teacher: 'dlib', dimension: 128 });
    const before = tf.memory().numTensors;
    expect(await fillTeacherCache(cache, { images, embed, imageSize: 150, batchSize: 8 })).toBe(2 * images.length);
    // A second fill finds everything cached.
    expect(await fillTeacherCache(cache, { images, embed, imageSize: 150 })).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    await cache.close();
    teacher.dispose();

    const keys = images.map((i) => i.key);
    const student = await withSeededMathRandom(5, () => tinyModel({ size: 64, features: 128, keepProbability: 1 }));
    const start = await agreement(student, keys, cachePath);
    const steps: StepMetrics[] = [];
    const base = {
      dataDir: join(root, 'chips64'),
      imageSize: 64,
      embeddingSize: 128,
      batchSize: 8,
      validationSplit: 0,
      head: 'none' as const,
      teacherCache: cachePath,
      relationalDistillationFactor: 1,
      learningRate: 0.01,
      schedule: { kind: 'constant' as const },
      weightDecay: 0,
      movingAverageDecay: 0,
      epochs: 25,
    };
    const result = await train({ ...base, outDir: join(root, 'run') }, { model: student, onStep: (m) => steps.push(m) });
    expect(result.stopReason).toBe('completed');
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const first = mean(steps.slice(0, 5).map((s) => s.distillation));
    const last = mean(steps.slice(-5).map((s) => s.distillation));
    expect(steps[0].crossEntropy).toBe(0);
    expect(steps[0].relationalDistillation).toBeGreaterThan(0);
    expect(last).toBeLessThan(first * 0.7);
    const end = await agreement(student, keys, cachePath);
    expect(end).toBeGreaterThan(start + 0.2);
    student.dispose();

    // The same in two data-parallel workers: the loss falls there too.
    const parallelSteps: StepMetrics[] = [];
    const student2 = await withSeededMathRandom(5, () => tinyModel({ size: 64, features: 128, keepProbability: 1 }));
    await train({ ...base, epochs: 6, outDir: join(root, 'run2') }, { model: student2, workers: 2, onStep: (m) => parallelSteps.push(m) });
    expect(mean(parallelSteps.slice(-3).map((s) => s.distillation))).toBeLessThan(mean(parallelSteps.slice(0, 3).map((s) => s.distillation)));
    student2.dispose();
  }, 300_000);

  it('refuses a teacher cache that lacks training images or has another dimension', async () => {
    const partial = join(root, 'partial.cache');
    const c = await TeacherCache.open(partial, { teacher: 't', dimension: 128 });
    await c.append([{ key: `${IDS[0]}/nothing.png`, mirrored: false, embedding: new Float32Array(128) }]);
    await c.close();
    const model = tinyModel({ size: 64, features: 128 });
    const cfg = { dataDir: join(root, 'chips64'), outDir: join(root, 'run3'), imageSize: 64, embeddingSize: 128, head: 'none' as const, teacherCache: partial, epochs: 1, validationSplit: 0 };
    await expect(train(cfg, { model })).rejects.toThrow(/no teacher embedding for \d+ training images/);
    await expect(train({ ...cfg, embeddingSize: 64 }, { model })).rejects.toThrow(ConfigError);
    model.dispose();
  });
});
