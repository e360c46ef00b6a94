/**
 * Verification metrics against (1) numbers produced by davidsandberg/facenet's own
 * calculate_roc / calculate_val on the same synthetic embeddings
 * (test/fixtures/lfw-metrics-reference.json, see README-lfw-metrics.md) and (2) small
 * cases worked out by hand in the comments.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  accuracyAtThreshold,
  areaUnderCurve,
  calculateRoc,
  calculateVal,
  concatFlipped,
  equalErrorRate,
  evaluateVerification,
  kFoldSplits,
  pairDistances,
  populationStd,
  splitInterleaved,
  thresholdAtFar,
  thresholdGrid,
  valFarAtThreshold,
  type VerificationMetric,
} from '../src/eval/verification.js';
import { ConfigError, ShapeError } from '../src/errors.js';
import { embeddingsSha256, irregularLayout, lfwLayout, syntheticPairs } from './eval-synthetic.js';

interface FixtureCase {
  name: string;
  nrofFolds: number;
  metric: VerificationMetric;
  subtractMean: boolean;
  accuracyPerFold: number[];
  accuracyMean: number;
  accuracyStd: number;
  bestThresholds: number[];
  val: number;
  valStd: number;
  far: number;
  valThresholds: number[];
  auc: number;
  eer: number;
  eerCurveExtended: boolean;
  tpr: number[];
  fpr: number[];
  distanceSum: number;
  distanceHead: number[];
}
const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/lfw-metrics-reference.json', import.meta.url), 'utf8'),
) as { datasets: { name: string; sha256: string }[]; cases: FixtureCase[] };

const lfw = lfwLayout(10, 300);
const irregular = irregularLayout(1003);
const dataA = syntheticPairs(20240601, lfw, 128);
const dataF = syntheticPairs(777, lfw, 128);
const dataI = syntheticPairs(31337, irregular, 64);
const concat = { emb1: concatFlipped(dataA.emb1, dataF.emb1), emb2: concatFlipped(dataA.emb2, dataF.emb2) };

function dataFor(name: string): { emb1: Float32Array[]; emb2: Float32Array[]; issame: boolean[] } {
  if (name.startsWith('lfw+flip-concat/')) return { ...concat, issame: lfw };
  if (name.startsWith('lfw/')) return { ...dataA, issame: lfw };
  if (name.startsWith('irregular/')) return { ...dataI, issame: irregular };
  throw new Error(`no data for ${name}`);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('synthetic embeddings match the ones the reference was run on', () => {
  it('bit-identical float32 data (SHA-256)', () => {
    const sha = Object.fromEntries(fixture.datasets.map((d) => [d.name, d.sha256]));
    expect(embeddingsSha256(dataA.emb1, dataA.emb2)).toBe(sha.lfw);
    expect(embeddingsSha256(dataF.emb1, dataF.emb2)).toBe(sha['lfw-flip']);
    expect(embeddingsSha256(dataI.emb1, dataI.emb2)).toBe(sha.irregular);
  });
});

describe('evaluateVerification reproduces davidsandberg/facenet', () => {
  expect(fixture.cases.length).toBe(7);
  for (const c of fixture.cases) {
    it(c.name, () => {
      const { emb1, emb2, issame } = dataFor(c.name);
      const dist = pairDistances(emb1, emb2, c.metric);
      expect(maxAbsDiff(dist.subarray(0, 8), c.distanceHead)).toBeLessThan(1e-12);
      let sum = 0;
      for (const d of dist) sum += d;
      expect(Math.abs(sum - c.distanceSum) / c.distanceSum).toBeLessThan(1e-12);

      const r = evaluateVerification(emb1, emb2, issame, {
        nrofFolds: c.nrofFolds,
        metric: c.metric,
        subtractMean: c.subtractMean,
      });
      // Counts are exact: per-fold accuracies and chosen grid thresholds are identical.
      expect(r.accuracy.perFold).toEqual(c.accuracyPerFold);
      expect(r.accuracy.thresholds).toEqual(c.bestThresholds);
      expect(r.accuracy.mean).toBeCloseTo(c.accuracyMean, 14);
      expect(r.accuracy.std).toBeCloseTo(c.accuracyStd, 14);
      // VAL thresholds come from the plateau-aware interpolation.
      expect(maxAbsDiff(r.val.perFold.map((f) => f.threshold), c.valThresholds)).toBeLessThan(1e-12);
      expect(r.val.mean).toBeCloseTo(c.val, 14);
      expect(r.val.std).toBeCloseTo(c.valStd, 14);
      expect(r.val.far).toBeCloseTo(c.far, 14);
      expect(maxAbsDiff(r.roc.tpr, c.tpr)).toBeLessThan(1e-14);
      expect(maxAbsDiff(r.roc.fpr, c.fpr)).toBeLessThan(1e-14);
      expect(r.auc).toBeCloseTo(c.auc, 12);
      expect(r.eer).toBeCloseTo(c.eer, 9);
    });
  }

  it('the fixture exercises plateaus and the curve extension', () => {
    // Training folds hold 2700 mismatched pairs: FAR values are k/2700, and 1e-3 lies
    // strictly between 2/2700 and 3/2700, so every VAL threshold is interpolated between
    // the last threshold of one plateau and the first of the next — off the 0.001 grid.
    const c = fixture.cases[0];
    for (const t of c.valThresholds) expect(Math.abs(t * 1000 - Math.round(t * 1000))).toBeGreaterThan(1e-6);
    // Flipped concatenation: distances reach 8, the ROC stops before FPR 1.
    const flip = fixture.cases.find((x) => x.name.startsWith('lfw+flip'))!;
    expect(flip.eerCurveExtended).toBe(true);
    expect(flip.fpr[flip.fpr.length - 1]).toBeLessThan(1);
  });

  it('a different plateau rule would not match the reference numbers', () => {
    // "First threshold of each plateau" for the lower end gives other VAL thresholds.
    const { emb1, emb2, issame } = dataFor('lfw/squared-euclidean');
    const dist = pairDistances(emb1, emb2);
    const thresholds = thresholdGrid(0.001);
    const split = kFoldSplits(6000, 10)[0];
    const far = thresholds.map((t) => valFarAtThreshold(t, dist, issame, split.train).far);
    let j = 0;
    while (far[j + 1] <= 1e-3) j++;
    let first = j;
    while (first > 0 && far[first - 1] === far[j]) first--;
    expect(first).toBeLessThan(j); // a real plateau
    const firstRule = thresholds[first] + ((1e-3 - far[j]) / (far[j + 1] - far[j])) * (thresholds[j + 1] - thresholds[first]);
    expect(Math.abs(firstRule - fixture.cases[0].valThresholds[0])).toBeGreaterThan(1e-4);
    expect(thresholdAtFar(far, thresholds, 1e-3)).toBeCloseTo(fixture.cases[0].valThresholds[0], 12);
  });
});

describe('hand-worked cases', () => {
  // Four pairs of 1-D embeddings, e1 = [0], e2 = [x]: squared distances x² exactly.
  // pair 0 same d=0.0625, pair 1 different d=2.25, pair 2 same d=0.25, pair 3 different d=1.
  const e1 = [[0], [0], [0], [0]];
  const e2 = [[0.25], [1.5], [0.5], [1]];
  const issame = [true, false, true, false];

  it('2-fold accuracy, thresholds, ROC, AUC, EER', () => {
    const roc = calculateRoc(e1, e2, issame, { nrofFolds: 2 });
    // Fold 0 trains on pairs 2,3 (0.25 same, 1 diff): first perfect threshold 0.26;
    // tests pairs 0,1: 0.0625 < 0.26 accepted, 2.25 rejected → accuracy 1.
    // Fold 1 trains on pairs 0,1: first perfect threshold 0.07; tests pairs 2,3:
    // 0.25 ≥ 0.07 rejected (wrong), 1 rejected (right) → accuracy 0.5.
    expect(roc.bestThresholds[0]).toBeCloseTo(0.26, 15);
    expect(roc.bestThresholds[1]).toBeCloseTo(0.07, 15);
    expect(roc.accuracy).toEqual([1, 0.5]);
    expect(populationStd(roc.accuracy)).toBe(0.25);
    // Averaged curve: TPR 0 below 0.07, ½ up to 0.25, 1 from 0.26; FPR 0 up to 1.00,
    // ½ from 1.01 to 2.25, 1 from 2.26.
    const at = (t: number): number => Math.round(t * 100);
    expect(roc.tpr[at(0.06)]).toBe(0);
    expect(roc.tpr[at(0.07)]).toBe(0.5);
    expect(roc.tpr[at(0.25)]).toBe(0.5);
    expect(roc.tpr[at(0.26)]).toBe(1);
    expect(roc.fpr[at(1.0)]).toBe(0);
    expect(roc.fpr[at(1.01)]).toBe(0.5);
    expect(roc.fpr[at(2.26)]).toBe(1);
    // The curve reaches TPR 1 at FPR 0: area 1, equal error rate 0.
    expect(areaUnderCurve(roc.fpr, roc.tpr)).toBe(1);
    expect(equalErrorRate(roc.fpr, roc.tpr)).toBe(0);
  });

  it('VAL at FAR 1e-3 interpolates between plateaus', () => {
    // Fold 0 trains on pair 3 (diff, d=1): FAR 0 for t ≤ 1.000, 1 from t = 1.001, so the
    // threshold is 1.000 + 0.001·(1e-3 − 0)/(1 − 0) = 1.000001. Test pairs 0 (same 0.0625:
    // accepted) and 1 (diff 2.25: rejected): VAL 1, FAR 0.
    // Fold 1 trains on pair 1 (diff, 2.25): threshold 2.250001; tests pair 2 (accepted)
    // and pair 3 (diff 1 < 2.250001: falsely accepted): VAL 1, FAR 1.
    const v = calculateVal(e1, e2, issame, { nrofFolds: 2 });
    expect(v.folds[0].threshold).toBeCloseTo(1.000001, 12);
    expect(v.folds[1].threshold).toBeCloseTo(2.250001, 12);
    expect(v.folds.map((f) => [f.val, f.far])).toEqual([
      [1, 0],
      [1, 1],
    ]);
    expect(v.val).toBe(1);
    expect(v.valStd).toBe(0);
    expect(v.far).toBe(0.5);
  });

  it('the FAR never reaching the target gives threshold 0 (the reference fallback)', () => {
    // Every mismatched distance is ≥ 4, beyond the grid: FAR stays 0 < 1e-3.
    const v = calculateVal([[0], [0], [0], [0]], [[0.5], [3], [0.5], [3]], issame, { nrofFolds: 2 });
    expect(v.folds.map((f) => f.threshold)).toEqual([0, 0]);
    expect(v.val).toBe(0); // nothing is accepted at threshold 0
  });

  it('thresholdAtFar: plateau rule', () => {
    const far = [0, 0, 0.5, 0.5, 1];
    const thr = [0, 1, 2, 3, 4];
    expect(thresholdAtFar(far, thr, 0.25)).toBe(1.5); // last of the 0-plateau (1) to first of the 0.5-plateau (2)
    expect(thresholdAtFar(far, thr, 0.5)).toBe(3); // on a plateau: its largest threshold
    expect(thresholdAtFar(far, thr, 0)).toBe(1);
    expect(thresholdAtFar(far, thr, 0.75)).toBe(3.5);
    expect(thresholdAtFar(far, thr, 1)).toBe(4);
    expect(thresholdAtFar([0, 0.5, 1, 1], [0, 1, 2, 3], 1)).toBe(3); // top plateau: largest threshold
    expect(() => thresholdAtFar([0, 0.5, 0.4], [0, 1, 2], 0.1)).toThrow(ConfigError);
  });

  it('EER on a sloped segment and with the curve extended to (1, 1)', () => {
    // Points (0,0), (0.5,0.5): g = 1 − x − y goes 1 → 0 exactly at x = 0.5.
    expect(equalErrorRate([0, 0.5], [0, 0.5])).toBe(0.5);
    // (0,0), (0.2,0.6): g = 1 → 0.2; then extended (1,1): g = −1; root on the last segment:
    // x = 0.2 + 0.2/1.2·0.8 = 1/3.
    expect(equalErrorRate([0, 0.2], [0, 0.6])).toBeCloseTo(1 / 3, 15);
    // Vertical jump at x = 0.3 from TPR 0.3 (g=0.4) to 0.9 (g=−0.2): the root is 0.3.
    expect(equalErrorRate([0, 0.3, 0.3, 1], [0, 0.3, 0.9, 1])).toBe(0.3);
  });

  it('AUC is the trapezoid area and refuses a non-monotonic x', () => {
    expect(areaUnderCurve([0, 0.5, 1], [0, 1, 1])).toBe(0.75);
    expect(areaUnderCurve([1, 0.5, 0], [1, 1, 0])).toBe(0.75); // decreasing x: sign flipped, as sklearn
    expect(() => areaUnderCurve([0, 1, 0.5], [0, 1, 1])).toThrow(ConfigError);
  });

  it('accuracy / VAL-FAR at one threshold', () => {
    const dist = [0.1, 0.5, 0.3, 0.9];
    const same = [true, true, false, false];
    expect(accuracyAtThreshold(0.4, dist, same)).toEqual({ tpr: 0.5, fpr: 0.5, accuracy: 0.5 });
    expect(accuracyAtThreshold(0.1, dist, same)).toEqual({ tpr: 0, fpr: 0, accuracy: 0.5 }); // strict <
    expect(valFarAtThreshold(1, dist, same)).toEqual({ val: 1, far: 1 });
  });

  it('angular distance: right angle ½, opposite 1, equal 0 (cosine clamped)', () => {
    const d = pairDistances([[1, 0], [1, 0], [0.6, 0.8]], [[0, 2], [-3, 0], [0.6, 0.8]], 'angular');
    expect(d[0]).toBeCloseTo(0.5, 15);
    expect(d[1]).toBe(1);
    expect(d[2]).toBe(0);
  });

  it('subtract-mean: the training folds’ mean changes angular distances only', () => {
    // Mean over pairs 0..1 of e1,e2 = ([2,0]+[0,2]+[2,0]+[0,2])/4 = [1,1]; (2,0)−(1,1) = (1,−1) and
    // (0,2)−(1,1) = (−1,1) are opposite: angular distance 1 (it was ½ without the mean).
    const a = [[2, 0], [2, 0], [2, 0], [2, 0]];
    const b = [[0, 2], [0, 2], [0, 2], [0, 2]];
    const mean = [1, 1];
    // (acos is steep at −1: √2·√2 rounds to 2.0000000000000004, so the result is 1 − 7e-9.)
    expect(pairDistances(a, b, 'angular', mean)[0]).toBeCloseTo(1, 7);
    expect(pairDistances(a, b, 'angular')[0]).toBeCloseTo(0.5, 15);
    expect(pairDistances(a, b, 'squared-euclidean', mean)[0]).toBe(8);
  });

  it('KFold layout as scikit-learn (first n mod k folds one larger)', () => {
    const s = kFoldSplits(7, 3);
    expect(s.map((f) => Array.from(f.test))).toEqual([[0, 1, 2], [3, 4], [5, 6]]);
    expect(Array.from(s[1].train)).toEqual([0, 1, 2, 5, 6]);
    expect(() => kFoldSplits(3, 4)).toThrow(ConfigError);
    expect(() => kFoldSplits(10, 1)).toThrow(ConfigError);
  });

  it('threshold grids are numpy arange values', () => {
    const g = thresholdGrid(0.01);
    expect(g.length).toBe(400);
    expect(g[399]).toBe(399 * 0.01);
    expect(thresholdGrid(0.001).length).toBe(4000);
  });

  it('helpers and shape errors', () => {
    const [a, b] = splitInterleaved([1, 2, 3, 4]);
    expect([a, b]).toEqual([
      [1, 3],
      [2, 4],
    ]);
    expect(() => splitInterleaved([1, 2, 3])).toThrow(ShapeError);
    expect(Array.from(concatFlipped([[1, 2]], [[3]])[0])).toEqual([1, 2, 3]);
    expect(() => pairDistances([[1, 2]], [[1]])).toThrow(ShapeError);
    expect(() => evaluateVerification([[1]], [[1], [2]], [true])).toThrow(ShapeError);
  });
});
