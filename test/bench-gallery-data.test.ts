/**
 * The gallery benchmark's synthetic data (bench/gallery-data.ts): the statistics fitted to
 * real faces and the generator built on them, against numbers worked out by hand.
 */
import { describe, it, expect } from 'vitest';
import {
  cholesky,
  faceLikeGallery,
  faceStatistics,
  galleryPairDistance,
  normal,
  syntheticGallery,
  syntheticQueries,
  uniform,
} from '../bench/gallery-data.js';

const v = (...x: number[]) => Float32Array.from(x);

describe('gallery benchmark data', () => {
  it('faceStatistics: means, covariances and pair distances of hand-worked groups', () => {
    // Identity A at (0,0) and (2,0); B at (0,4) and (0,6).
    const s = faceStatistics('m', 'f', [[v(0, 0), v(2, 0)], [v(0, 4), v(0, 6)]]);
    expect([s.identities, s.faces, s.dim]).toEqual([2, 4, 2]);
    expect(s.mean).toEqual([0.5, 2.5]);
    // Identity means (1,0) and (0,5), less their mean, outer products summed over n − 1 = 1.
    expect(s.between).toEqual([0.5, -2.5, -2.5, 12.5]);
    // Residuals (∓1, 0) and (0, ∓1), outer products summed over 4 − 2 degrees of freedom.
    expect(s.within).toEqual([1, 0, 0, 1]);
    // Same identity: 4 and 4. Different: 16, 36, 20, 40.
    expect(s.pairDistance).toEqual({ same: 4, different: 28 });
    expect(() => faceStatistics('m', 'f', [[v(0, 0), v(1, 1)]])).toThrow(/at least 2 identities/);
  });

  it('cholesky: L·Lᵀ of a hand-worked matrix, and a singular one kept finite', () => {
    const L = cholesky([4, 2, 2, 3], 2); // [[2, 0], [1, √2]]
    [2, 0, 1, Math.SQRT2].forEach((x, i) => expect(L[i]).toBeCloseTo(x, 5));
    const S = cholesky([1, 1, 1, 1], 2); // rank 1: the second pivot is only the jitter
    expect([...S].every(Number.isFinite)).toBe(true);
    expect(S[0]).toBeCloseTo(1, 5);
  });

  it('normal: mean 0 and variance 1 over 100,000 draws', () => {
    const z = normal(uniform(7));
    let sum = 0;
    let squares = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = z();
      sum += x;
      squares += x * x;
    }
    expect(Math.abs(sum / 100_000)).toBeLessThan(0.01);
    expect(Math.abs(squares / 100_000 - 1)).toBeLessThan(0.02);
  });

  it('face-like rows are unit length and spread as the statistics say', () => {
    // Two identities in 3-d: the second coordinate carries identity, the first the photo.
    const groups = [
      [v(0.3, 1, 0), v(-0.3, 1, 0)],
      [v(0.3, -1, 0), v(-0.3, -1, 0)],
    ].map((g) => g.map((e) => e.map((x) => x / Math.hypot(...e))));
    const stats = faceStatistics('m', 'f', groups);
    const data = faceLikeGallery(5000, stats, 3);
    for (let r = 0; r < data.size; r += 997) expect(Math.hypot(...data.flat.subarray(r * 3, r * 3 + 3))).toBeCloseTo(1, 5);
    const d = galleryPairDistance(data, 2000);
    // Photos of one identity differ less than photos of two: the spread is the within-identity one.
    expect(d.same).toBeLessThan(d.different / 2);
    expect(data.spread).toBeDefined();
    // Queries are drawn the way rows are: unit length too.
    for (const q of syntheticQueries(data, 10)) expect(Math.hypot(...q)).toBeCloseTo(1, 5);
  });

  it('centres on the sphere: the same data for the same seed, queries from the gallery\'s identities', () => {
    const a = syntheticGallery(100, 8);
    const b = syntheticGallery(100, 8);
    expect(a.flat).toEqual(b.flat);
    expect(a.names.slice(0, 6)).toEqual(['id0', 'id0', 'id0', 'id0', 'id0', 'id1']);
    expect(a.spread).toBeUndefined();
    expect(syntheticQueries(a, 4)).toHaveLength(4);
  });
});
