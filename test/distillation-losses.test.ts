/**
 * Distillation losses against values worked out by hand, and their gradients against
 * central finite differences.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { ShapeError } from '../src/errors.js';
import { embeddingDistillationLoss, relationalDistillationLoss } from '../src/losses/distillation.js';
import { countLeaks, setupBackend } from './helpers.js';

const value = (t: tf.Scalar) => {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
};

describe('distillation losses', () => {
  beforeAll(async () => {
    await setupBackend();
  });

  it('embedding loss: 1 − cos and the squared distance of unit vectors', () => {
    // Student rows (3,4) and (0,−2) normalise to (0.6,0.8) and (0,−1); teacher rows to (1,0) and (0,1).
    const s = tf.tensor2d([[3, 4], [0, -2]]);
    const t = tf.tensor2d([[5, 0], [0, 0.5]]);
    // cos = 0.6 and −1 → mean(1 − 0.6, 1 + 1) = 1.2;  ‖ŝ − t̂‖² = 2 − 2cos → mean(0.8, 4) = 2.4
    expect(value(embeddingDistillationLoss(s, t))).toBeCloseTo(1.2, 6);
    expect(value(embeddingDistillationLoss(s, t, 'l2'))).toBeCloseTo(2.4, 6);
    expect(value(embeddingDistillationLoss(t, t))).toBeCloseTo(0, 6);
    tf.dispose([s, t]);
  });

  it('relational loss: pairwise cosines of student against teacher', () => {
    // Student directions 0°, 90°, 180°; teacher 0°, 60°, 120°.
    const s = tf.tensor2d([[1, 0], [0, 2], [-3, 0]]);
    const c = Math.cos(Math.PI / 3), d = Math.sin(Math.PI / 3);
    const t = tf.tensor2d([[1, 0], [c, d], [-c, d]]);
    // Pairs (0,1): 0 vs 0.5; (0,2): −1 vs −0.5; (1,2): 0 vs 0.5 → squares 0.25 each, both orders.
    expect(value(relationalDistillationLoss(s, t))).toBeCloseTo(0.25, 6);
    // Rotating the student's whole space changes nothing.
    const rotated = tf.tensor2d([[0, 1], [-2, 0], [0, -3]]);
    expect(value(relationalDistillationLoss(rotated, s))).toBeCloseTo(0, 6);
    const one = tf.tensor2d([[1, 2]]);
    expect(value(relationalDistillationLoss(one, one))).toBe(0);
    tf.dispose([s, t, rotated, one]);
  });

  it('gradients equal central finite differences', () => {
    const sv = [[0.3, -1.2, 0.5], [1.1, 0.4, -0.7], [-0.2, 0.9, 1.3], [0.8, 0.8, 0.1]];
    const tv = [[0.1, -1, 0.2], [1, 0.1, -0.4], [0.5, 0.5, 1], [-0.3, 1, 0.2]];
    const t = tf.tensor2d(tv);
    for (const loss of [
      (s: tf.Tensor2D) => embeddingDistillationLoss(s, t),
      (s: tf.Tensor2D) => embeddingDistillationLoss(s, t, 'l2'),
      (s: tf.Tensor2D) => relationalDistillationLoss(s, t),
    ]) {
      const s = tf.tensor2d(sv);
      const g = tf.grad((x: tf.Tensor) => loss(x as tf.Tensor2D))(s);
      const analytic = g.arraySync() as number[][];
      tf.dispose([s, g]);
      const h = 1e-2;
      for (let i = 0; i < sv.length; i++) {
        for (let k = 0; k < 3; k++) {
          const at = (delta: number) => {
            const m = sv.map((r) => r.slice());
            m[i][k] += delta;
            const x = tf.tensor2d(m);
            const v = value(loss(x));
            x.dispose();
            return v;
          };
          const numeric = (at(h) - at(-h)) / (2 * h);
          expect(Math.abs(analytic[i][k] - numeric)).toBeLessThan(2e-3);
        }
      }
    }
    t.dispose();
  });

  it('checks shapes and leaks nothing', async () => {
    const a = tf.zeros([2, 3]) as tf.Tensor2D;
    const b = tf.zeros([2, 4]) as tf.Tensor2D;
    expect(() => embeddingDistillationLoss(a, b)).toThrow(ShapeError);
    expect(() => relationalDistillationLoss(a, b)).toThrow(ShapeError);
    const s = tf.randomNormal([8, 16], 0, 1, 'float32', 1) as tf.Tensor2D;
    const t = tf.randomNormal([8, 16], 0, 1, 'float32', 2) as tf.Tensor2D;
    const leaked = await countLeaks(() => {
      value(embeddingDistillationLoss(s, t));
      value(relationalDistillationLoss(s, t));
      tf.grad((x: tf.Tensor) => relationalDistillationLoss(x as tf.Tensor2D, t))(s).dispose();
    });
    expect(leaked).toBe(0);
    tf.dispose([a, b, s, t]);
  });
});
