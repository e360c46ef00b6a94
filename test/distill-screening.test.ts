/**
 * The distillation example's screen (examples/distill/screening.ts) on unit vectors in the
 * plane, whose squared distances are 2 − 2·cos(angle between them), worked out here.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend } from './helpers.js';
import { nearestDistances, screeningDistance, type EmbeddingRows } from '../examples/distill/screening.js';

beforeAll(setupBackend);

/** Unit vectors at the given angles (radians). */
const rows = (angles: number[]): EmbeddingRows => ({
  matrix: Float32Array.from(angles.flatMap((a) => [Math.cos(a), Math.sin(a)])),
  count: angles.length,
  d: 2,
});
const sq = (angle: number) => 2 - 2 * Math.cos(angle);

describe('screeningDistance', () => {
  // Person 0 at angles 0 and 0.3, person 1 at π/2, person 2 at 1.2: the different-person
  // pairs are, nearest first, π/2 − 1.2, 0.9, 1.2, π/2 − 0.3 and π/2 apart.
  const set = { ...rows([0, 0.3, Math.PI / 2, 1.2]), identity: [0, 0, 1, 2] };
  const bin = (distance: number) => Math.floor((distance / 4) * 40_000) / 10_000;

  it('stops below the nearest different-person pair when none may be nearer', async () => {
    const before = tf.memory().numTensors;
    const s = await screeningDistance(set, 0);
    expect(tf.memory().numTensors).toBe(before);
    expect(s.impostorPairs).toBe(5);
    expect(s.genuinePairs).toBe(1);
    expect(s.threshold).toBeCloseTo(bin(sq(Math.PI / 2 - 1.2)), 6);
    expect(s.genuineBelow).toBe(1); // the pair 0.3 apart is nearer than π/2 − 1.2 ≈ 0.371
  });

  it('lets the allowed share of different-person pairs through', async () => {
    expect((await screeningDistance(set, 0.1)).threshold).toBeCloseTo(bin(sq(Math.PI / 2 - 1.2)), 6); // 0.5 pair: none
    expect((await screeningDistance(set, 0.2)).threshold).toBeCloseTo(bin(sq(0.9)), 6); // one pair
    const wide = { ...rows([0, 0.5, Math.PI / 2, 1.2]), identity: [0, 0, 1, 2] };
    expect((await screeningDistance(wide, 0)).genuineBelow).toBe(0); // 0.5 apart: beyond π/2 − 1.2
  });
});

describe('nearestDistances', () => {
  it("gives each row's squared distance to its nearest reference", async () => {
    const near = await nearestDistances(rows([0, 1.0]), rows([Math.PI / 2, 1.2]));
    expect(near[0]).toBeCloseTo(sq(1.2), 5);
    expect(near[1]).toBeCloseTo(sq(0.2), 5);
  });
});
