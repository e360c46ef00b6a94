import { describe, expect, it } from 'vitest';
import { agreement, cosine, pairFaces, type DescribedFace } from '../bench/pipeline-agreement.js';
import type { Box } from '../src/face/types.js';

const face = (box: Box, ...descriptor: number[]): DescribedFace => ({ box, descriptor: Float32Array.from(descriptor) });

describe('bench:pipeline agreement', () => {
  it('cosine ignores length', () => {
    expect(cosine([1, 0], [3, 0])).toBeCloseTo(1, 12);
    expect(cosine([1, 0], [0, 2])).toBeCloseTo(0, 12);
    expect(cosine([1, 1], [-2, -2])).toBeCloseTo(-1, 12);
  });

  it('pairs overlapping boxes once each and counts the rest', () => {
    const ours = [face([0, 0, 10, 10], 1, 0), face([100, 100, 110, 110], 0, 1), face([50, 50, 60, 60], 1, 1)];
    const theirs = [face([101, 101, 111, 111], 0, 1), face([1, 0, 11, 10], 1, 0.1), face([200, 200, 210, 210], 1, 0)];
    const p = pairFaces(ours, theirs, 0.5);
    expect(p.pairs.map((x) => [x.ours.box[0], x.theirs.box[0]])).toEqual([
      [0, 1],
      [100, 101],
    ]);
    expect(p.onlyOurs).toBe(1);
    expect(p.onlyTheirs).toBe(1);
    expect(p.unpairedTheirsBestIou).toEqual([0]);
  });

  it('gives an unpaired face its best overlap with ours (a larger box of the same face)', () => {
    const p = pairFaces([face([0, 0, 10, 10], 1, 0)], [face([0, 0, 20, 20], 1, 0)], 0.5);
    expect(p.pairs).toEqual([]);
    expect(p.unpairedTheirsBestIou).toEqual([0.25]);
  });

  it('compares each pair with the other faces', () => {
    const a = agreement([
      pairFaces([face([0, 0, 10, 10], 1, 0)], [face([0, 0, 10, 10], 1, 0)], 0.5),
      pairFaces([face([0, 0, 10, 10], 0, 1)], [face([0, 0, 10, 10], 0, 1)], 0.5),
    ]);
    expect(a.paired).toBe(2);
    expect(a.sameFace.mean).toBeCloseTo(1, 12);
    expect(a.sameFace.min).toBeCloseTo(1, 12);
    expect(a.otherFaces).toBeCloseTo(0, 12);
    expect(agreement([]).sameFace.mean).toBeNaN();
  });
});
