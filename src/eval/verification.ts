/**
 * Face-verification metrics computed exactly as davidsandberg/facenet does for LFW
 * (`src/lfw.py` `evaluate`, `src/facenet.py` `calculate_roc` / `calculate_val` /
 * `calculate_accuracy` / `calculate_val_far` / `distance`, and the AUC / EER lines of
 * `src/validate_on_lfw.py`). Pure functions over plain arrays; no tensors, no I/O.
 *
 * Protocol: pairs are split into `nrofFolds` contiguous folds (scikit-learn
 * `KFold(shuffle=False)`). For each fold the decision threshold (a pair is "same" when
 * `distance < threshold`) that maximises accuracy on the other folds is applied to the
 * held-out fold. The ROC curve is the per-threshold TPR / FPR of the held-out folds,
 * averaged over folds. VAL is the true-accept rate on the held-out fold at the threshold
 * where the training folds' false-accept rate equals the target (1e-3).
 *
 * Two places where the reference's behaviour depends on a SciPy version or is undefined
 * are pinned down here; see {@link thresholdAtFar} and {@link equalErrorRate}, and the
 * project note `docs/lfw-evaluation.md`.
 */
import { ConfigError, ShapeError } from '../errors.js';

/**
 * How two embeddings are compared (the reference's `distance_metric`):
 * - `'squared-euclidean'` (0): `Σ (a − b)²` — 0…4 for unit vectors;
 * - `'angular'` (1): `arccos(cos(a, b)) / π` — 0…1.
 */
export type VerificationMetric = 'squared-euclidean' | 'angular';

/** The reference's integer `distance_metric` codes. */
export const REFERENCE_DISTANCE_METRIC: Readonly<Record<0 | 1, VerificationMetric>> = {
  0: 'squared-euclidean',
  1: 'angular',
};

/** A list of embeddings: `Float32Array[]`, `number[][]`, … all of one length. */
export type EmbeddingList = ArrayLike<ArrayLike<number>>;

/**
 * The reference's threshold grid `np.arange(0, stop, step)`: `i · step` for
 * `i = 0 … ceil(stop / step) − 1` (numpy fills an arange as `start + i·delta`, so these
 * are bit-identical to numpy's values).
 */
export function thresholdGrid(step: number, stop = 4): Float64Array {
  if (!(step > 0) || !(stop > 0)) throw new ConfigError('thresholds', `step and stop must be > 0 (got ${step}, ${stop})`);
  const n = Math.ceil(stop / step);
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) t[i] = i * step;
  return t;
}

/** One train / test split of {@link kFoldSplits}. */
export interface FoldSplit {
  train: Int32Array;
  test: Int32Array;
}

/**
 * scikit-learn `KFold(n_splits=k, shuffle=False).split(range(n))`: fold `i` tests a
 * contiguous block; the first `n mod k` folds are one element larger.
 * @throws {ConfigError} unless `2 ≤ k ≤ n`.
 */
export function kFoldSplits(n: number, k: number): FoldSplit[] {
  if (!Number.isInteger(k) || k < 2) throw new ConfigError('nrofFolds', `must be an integer ≥ 2, got ${k}`);
  if (k > n) throw new ConfigError('nrofFolds', `${k} folds need at least ${k} pairs, got ${n}`);
  const base = Math.floor(n / k);
  const extra = n % k;
  const splits: FoldSplit[] = [];
  let start = 0;
  for (let f = 0; f < k; f++) {
    const size = base + (f < extra ? 1 : 0);
    const test = new Int32Array(size);
    for (let i = 0; i < size; i++) test[i] = start + i;
    const train = new Int32Array(n - size);
    for (let i = 0, j = 0; i < n; i++) if (i < start || i >= start + size) train[j++] = i;
    splits.push({ train, test });
    start += size;
  }
  return splits;
}

function checkPairs(emb1: EmbeddingList, emb2: EmbeddingList, issame?: ArrayLike<boolean>): number {
  if (emb1.length !== emb2.length) {
    throw new ShapeError('embeddings2', `${emb1.length} embeddings (as many as embeddings1)`, String(emb2.length));
  }
  if (issame && issame.length < emb1.length) {
    throw new ShapeError('issame', `at least ${emb1.length} labels`, String(issame.length));
  }
  const n = issame ? Math.min(issame.length, emb1.length) : emb1.length;
  if (n === 0) throw new ShapeError('embeddings1', 'at least one pair', '0');
  const dim = emb1[0].length;
  for (let i = 0; i < emb1.length; i++) {
    if (emb1[i].length !== dim) throw new ShapeError(`embeddings1[${i}]`, `length ${dim}`, String(emb1[i].length));
    if (emb2[i].length !== dim) throw new ShapeError(`embeddings2[${i}]`, `length ${dim}`, String(emb2[i].length));
  }
  return n;
}

/**
 * The mean embedding over `embeddings1[indices]` and `embeddings2[indices]` (the
 * reference's `subtract_mean` centre: `np.mean(concatenate([e1[train], e2[train]]), 0)`).
 */
export function embeddingMean(emb1: EmbeddingList, emb2: EmbeddingList, indices: ArrayLike<number>): Float64Array {
  const dim = emb1[0].length;
  const sum = new Float64Array(dim);
  for (let k = 0; k < indices.length; k++) {
    const a = emb1[indices[k]];
    for (let d = 0; d < dim; d++) sum[d] += a[d];
  }
  for (let k = 0; k < indices.length; k++) {
    const b = emb2[indices[k]];
    for (let d = 0; d < dim; d++) sum[d] += b[d];
  }
  const count = 2 * indices.length;
  for (let d = 0; d < dim; d++) sum[d] /= count;
  return sum;
}

/**
 * Distance of every pair `(embeddings1[i], embeddings2[i])`, in double precision, after
 * subtracting `mean` from both (when given). The angular distance clamps the cosine to
 * [−1, 1] first: rounding can push the cosine of two equal vectors just above 1, where
 * numpy's `arccos` gives NaN (and the reference then calls the pair "different").
 */
export function pairDistances(
  emb1: EmbeddingList,
  emb2: EmbeddingList,
  metric: VerificationMetric = 'squared-euclidean',
  mean?: ArrayLike<number> | null,
): Float64Array {
  const n = checkPairs(emb1, emb2);
  const dim = emb1[0].length;
  const out = new Float64Array(n);
  const m = mean ?? null;
  if (m && m.length !== dim) throw new ShapeError('mean', `length ${dim}`, String(m.length));
  for (let i = 0; i < n; i++) {
    const a = emb1[i];
    const b = emb2[i];
    if (metric === 'squared-euclidean') {
      let s = 0;
      if (m) {
        for (let d = 0; d < dim; d++) {
          const diff = a[d] - m[d] - (b[d] - m[d]);
          s += diff * diff;
        }
      } else {
        for (let d = 0; d < dim; d++) {
          const diff = a[d] - b[d];
          s += diff * diff;
        }
      }
      out[i] = s;
    } else if (metric === 'angular') {
      let dot = 0;
      let na = 0;
      let nb = 0;
      for (let d = 0; d < dim; d++) {
        const x = m ? a[d] - m[d] : a[d];
        const y = m ? b[d] - m[d] : b[d];
        dot += x * y;
        na += x * x;
        nb += y * y;
      }
      const cos = Math.min(1, Math.max(-1, dot / (Math.sqrt(na) * Math.sqrt(nb))));
      out[i] = Math.acos(cos) / Math.PI;
    } else {
      throw new ConfigError('metric', `unknown verification metric "${metric as string}"`);
    }
  }
  return out;
}

/**
 * Counts of `dist < threshold` over an ascending threshold grid, separately for matched
 * and mismatched pairs among `indices`: one sort and one sweep instead of one pass per
 * threshold (same counts as the reference's `np.less` per threshold; NaN is never less).
 */
function countBelow(
  thresholds: ArrayLike<number>,
  dist: Float64Array,
  issame: ArrayLike<boolean>,
  indices: ArrayLike<number>,
): { same: Int32Array; diff: Int32Array; nSame: number; nDiff: number } {
  let nSame = 0;
  for (let k = 0; k < indices.length; k++) if (issame[indices[k]]) nSame++;
  const nDiff = indices.length - nSame;
  const ds = new Float64Array(nSame);
  const dd = new Float64Array(nDiff);
  for (let k = 0, s = 0, f = 0; k < indices.length; k++) {
    const i = indices[k];
    if (issame[i]) ds[s++] = dist[i];
    else dd[f++] = dist[i];
  }
  ds.sort(); // typed-array sort is numeric, NaN last
  dd.sort();
  const same = new Int32Array(thresholds.length);
  const diff = new Int32Array(thresholds.length);
  let ps = 0;
  let pd = 0;
  let prev = -Infinity;
  for (let t = 0; t < thresholds.length; t++) {
    const th = thresholds[t];
    if (th < prev) throw new ConfigError('thresholds', 'must be in ascending order');
    prev = th;
    while (ps < nSame && ds[ps] < th) ps++;
    while (pd < nDiff && dd[pd] < th) pd++;
    same[t] = ps;
    diff[t] = pd;
  }
  return { same, diff, nSame, nDiff };
}

/** TPR, FPR and accuracy of one threshold (the reference's `calculate_accuracy`). */
export interface AccuracyAtThreshold {
  tpr: number;
  fpr: number;
  accuracy: number;
}

/**
 * `calculate_accuracy`: a pair is predicted "same" when `dist < threshold`. TPR (FPR) is 0
 * when there are no matched (mismatched) pairs.
 * @param indices the pairs to count (default: all).
 */
export function accuracyAtThreshold(
  threshold: number,
  dist: ArrayLike<number>,
  issame: ArrayLike<boolean>,
  indices?: ArrayLike<number>,
): AccuracyAtThreshold {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  const n = indices ? indices.length : dist.length;
  for (let k = 0; k < n; k++) {
    const i = indices ? indices[k] : k;
    const predictSame = dist[i] < threshold;
    if (issame[i]) {
      if (predictSame) tp++;
      else fn++;
    } else if (predictSame) fp++;
    else tn++;
  }
  return {
    tpr: tp + fn === 0 ? 0 : tp / (tp + fn),
    fpr: fp + tn === 0 ? 0 : fp / (fp + tn),
    accuracy: (tp + tn) / n,
  };
}

/** Validation rate (true-accept rate) and false-accept rate of one threshold. */
export interface ValFar {
  val: number;
  far: number;
}

/**
 * `calculate_val_far`: VAL = accepted matched / all matched, FAR = accepted mismatched /
 * all mismatched, accepting when `dist < threshold`. Where the reference would divide by
 * zero (no matched or no mismatched pairs) the rate is 0 here.
 */
export function valFarAtThreshold(
  threshold: number,
  dist: ArrayLike<number>,
  issame: ArrayLike<boolean>,
  indices?: ArrayLike<number>,
): ValFar {
  let ta = 0;
  let fa = 0;
  let nSame = 0;
  let nDiff = 0;
  const n = indices ? indices.length : dist.length;
  for (let k = 0; k < n; k++) {
    const i = indices ? indices[k] : k;
    const accept = dist[i] < threshold;
    if (issame[i]) {
      nSame++;
      if (accept) ta++;
    } else {
      nDiff++;
      if (accept) fa++;
    }
  }
  return { val: nSame === 0 ? 0 : ta / nSame, far: nDiff === 0 ? 0 : fa / nDiff };
}

/** Options shared by {@link calculateRoc}, {@link calculateVal} and {@link evaluateVerification}. */
export interface FoldOptions {
  /** Number of cross-validation folds. Default 10. */
  nrofFolds?: number;
  /** Distance. Default `'squared-euclidean'` (the reference's `distance_metric=0`). */
  metric?: VerificationMetric;
  /** Subtract the training folds' mean embedding before measuring distances. Default false. */
  subtractMean?: boolean;
}

function foldDistances(
  emb1: EmbeddingList,
  emb2: EmbeddingList,
  split: FoldSplit,
  opts: FoldOptions,
  cache: { plain?: Float64Array },
): Float64Array {
  const metric = opts.metric ?? 'squared-euclidean';
  if (opts.subtractMean) return pairDistances(emb1, emb2, metric, embeddingMean(emb1, emb2, split.train));
  cache.plain ??= pairDistances(emb1, emb2, metric);
  return cache.plain;
}

/** The result of {@link calculateRoc}. */
export interface RocResult {
  thresholds: Float64Array;
  /** True-positive rate per threshold, averaged over the held-out folds. */
  tpr: Float64Array;
  /** False-positive rate per threshold, averaged over the held-out folds. */
  fpr: Float64Array;
  /** Accuracy on each held-out fold at the threshold chosen on the other folds. */
  accuracy: number[];
  /** The threshold chosen for each fold (first best on the training folds). */
  bestThresholds: number[];
}

/**
 * `calculate_roc`: cross-validated accuracy and the averaged ROC curve. `opts.thresholds`
 * are the ascending candidate thresholds; default `thresholdGrid(0.01)` (0…3.99).
 */
export function calculateRoc(
  emb1: EmbeddingList,
  emb2: EmbeddingList,
  issame: ArrayLike<boolean>,
  opts: FoldOptions & { thresholds?: ArrayLike<number> } = {},
): RocResult {
  const n = checkPairs(emb1, emb2, issame);
  const thresholds = Float64Array.from(opts.thresholds ?? thresholdGrid(0.01));
  const folds = opts.nrofFolds ?? 10;
  const splits = kFoldSplits(n, folds);
  const T = thresholds.length;
  const tprSum = new Float64Array(T);
  const fprSum = new Float64Array(T);
  const accuracy: number[] = [];
  const bestThresholds: number[] = [];
  const cache = {};
  for (const split of splits) {
    const dist = foldDistances(emb1, emb2, split, opts, cache);
    const train = countBelow(thresholds, dist, issame, split.train);
    // accuracy = (tp + tn) / n with tn = nDiff − fp; the first maximum wins (np.argmax).
    let best = 0;
    let bestCorrect = -1;
    for (let t = 0; t < T; t++) {
      const correct = train.same[t] + (train.nDiff - train.diff[t]);
      if (correct > bestCorrect) {
        bestCorrect = correct;
        best = t;
      }
    }
    const test = countBelow(thresholds, dist, issame, split.test);
    for (let t = 0; t < T; t++) {
      tprSum[t] += test.nSame === 0 ? 0 : test.same[t] / test.nSame;
      fprSum[t] += test.nDiff === 0 ? 0 : test.diff[t] / test.nDiff;
    }
    accuracy.push(accuracyAtThreshold(thresholds[best], dist, issame, split.test).accuracy);
    bestThresholds.push(thresholds[best]);
  }
  const tpr = tprSum.map((s) => s / folds);
  const fpr = fprSum.map((s) => s / folds);
  return { thresholds, tpr, fpr, accuracy, bestThresholds };
}

/**
 * The threshold at which a false-accept-rate curve reaches `target` — the reference's
 * `interpolate.interp1d(far_train, thresholds, kind='slinear')(target)`, with its
 * handling of repeated FAR values made explicit.
 *
 * A FAR curve over a threshold grid is a step function: many consecutive thresholds
 * share one FAR value (a plateau). Current SciPy refuses such input ("Expect x to not
 * have duplicates"); the SciPy the reference was written against built the linear spline
 * straight from the points (knots `[x0, x…, xn]`, coefficients = thresholds) and
 * evaluated it on the right-most knot interval containing `target`. That is the rule
 * implemented here:
 * - `target` strictly between two plateaus → linear interpolation between the LAST
 *   threshold of the lower plateau and the FIRST threshold of the upper one;
 * - `target` equal to a plateau's FAR → the LAST (largest) threshold of that plateau, the
 *   most permissive threshold that still has exactly that FAR. (Old SciPy agrees except
 *   on a plateau at the very top of the curve, where its spline degenerates and returned
 *   0; the largest-threshold rule is kept there too.)
 *
 * Callers apply the reference's fallback first: when `max(far) < target` the threshold
 * is 0 (see {@link calculateVal}). Here that case, and `target < far[0]` (where SciPy would
 * raise), return `thresholds[0]`.
 *
 * @param far non-decreasing FAR per threshold; @param thresholds ascending.
 * @throws {ConfigError} when `far` decreases or the lengths differ.
 */
export function thresholdAtFar(far: ArrayLike<number>, thresholds: ArrayLike<number>, target: number): number {
  if (far.length !== thresholds.length || far.length === 0) {
    throw new ShapeError('far', `${thresholds.length} values (one per threshold)`, String(far.length));
  }
  for (let i = 1; i < far.length; i++) {
    if (far[i] < far[i - 1]) throw new ConfigError('far', `the FAR curve must be non-decreasing (index ${i})`);
  }
  if (target < far[0] || target > far[far.length - 1]) return thresholds[0];
  // Last index whose FAR is ≤ target.
  let j = 0;
  while (j + 1 < far.length && far[j + 1] <= target) j++;
  if (far[j] === target || j + 1 === far.length) return thresholds[j];
  // Linear B-spline (de Boor, degree 1) on [far[j], far[j+1]].
  const a = far[j];
  const b = far[j + 1];
  const inv = 1 / (b - a);
  return thresholds[j] * ((b - target) * inv) + thresholds[j + 1] * ((target - a) * inv);
}

/** Per-fold detail of {@link calculateVal}. */
export interface ValFold {
  /** Threshold interpolated on the training folds (0 when their FAR never reaches the target). */
  threshold: number;
  val: number;
  far: number;
}

/** The result of {@link calculateVal}. */
export interface ValResult {
  /** Mean validation rate (TAR) over the held-out folds. */
  val: number;
  /** Population standard deviation (numpy `std`) of the per-fold VAL. */
  valStd: number;
  /** Mean false-accept rate over the held-out folds. */
  far: number;
  folds: ValFold[];
}

/**
 * `calculate_val`: validation rate at a target false-accept rate. For each fold the
 * threshold is found on the training folds with {@link thresholdAtFar} (0 when their FAR
 * never reaches the target, as in the reference) and VAL / FAR measured on the held-out fold.
 * `opts.thresholds` default `thresholdGrid(0.001)` (0…3.999); `opts.farTarget` default 1e-3.
 */
export function calculateVal(
  emb1: EmbeddingList,
  emb2: EmbeddingList,
  issame: ArrayLike<boolean>,
  opts: FoldOptions & { thresholds?: ArrayLike<number>; farTarget?: number } = {},
): ValResult {
  const n = checkPairs(emb1, emb2, issame);
  const thresholds = Float64Array.from(opts.thresholds ?? thresholdGrid(0.001));
  const farTarget = opts.farTarget ?? 1e-3;
  const splits = kFoldSplits(n, opts.nrofFolds ?? 10);
  const folds: ValFold[] = [];
  const cache = {};
  for (const split of splits) {
    const dist = foldDistances(emb1, emb2, split, opts, cache);
    const train = countBelow(thresholds, dist, issame, split.train);
    const farTrain = new Float64Array(thresholds.length);
    for (let t = 0; t < thresholds.length; t++) farTrain[t] = train.nDiff === 0 ? 0 : train.diff[t] / train.nDiff;
    let maxFar = -Infinity;
    for (const f of farTrain) maxFar = Math.max(maxFar, f);
    const threshold = maxFar >= farTarget ? thresholdAtFar(farTrain, thresholds, farTarget) : 0;
    const { val, far } = valFarAtThreshold(threshold, dist, issame, split.test);
    folds.push({ threshold, val, far });
  }
  const vals = folds.map((f) => f.val);
  return { val: mean(vals), valStd: populationStd(vals), far: mean(folds.map((f) => f.far)), folds };
}

/** Arithmetic mean. */
export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s / xs.length;
}

/** Population standard deviation (numpy `std`, ddof = 0). */
export function populationStd(xs: ArrayLike<number>): number {
  const m = mean(xs);
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += (xs[i] - m) * (xs[i] - m);
  return Math.sqrt(s / xs.length);
}

/**
 * Area under a curve by the trapezoidal rule — scikit-learn `metrics.auc(fpr, tpr)`:
 * `x` must be monotonic (non-decreasing, or non-increasing, which negates the sign).
 * The curve is used as given (the reference does not close it at (1, 1)).
 * @throws {ConfigError} when `x` is not monotonic.
 */
export function areaUnderCurve(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new ShapeError('y', `${x.length} values`, String(y.length));
  if (x.length < 2) throw new ShapeError('x', 'at least 2 points', String(x.length));
  let up = false;
  let down = false;
  for (let i = 1; i < x.length; i++) {
    if (x[i] > x[i - 1]) up = true;
    if (x[i] < x[i - 1]) down = true;
  }
  if (up && down) throw new ConfigError('x', 'must be monotonic to compute an area under the curve');
  let area = 0;
  for (let i = 1; i < x.length; i++) area += ((x[i] - x[i - 1]) * (y[i] + y[i - 1])) / 2;
  return down ? -area : area;
}

/**
 * Equal error rate: the false-positive rate `x` at which `1 − x = TPR(x)` on the
 * piecewise-linear ROC curve through the points `(fpr[i], tpr[i])` — the reference's
 * `brentq(lambda x: 1 − x − interp1d(fpr, tpr)(x), 0, 1)`, solved exactly instead of
 * iteratively. Along the curve `g = 1 − fpr − tpr` never increases and `g` strictly
 * decreases in `x` on every sloped segment, so the root is unique: it lies on the segment
 * where `g` changes sign (found by a linear scan and solved by linear interpolation), or
 * at the `x` of a vertical jump (repeated FPR) across which `g` changes sign, which is
 * where bisection converges too.
 *
 * Where the reference is undefined the curve is extended: by the point (0, 0) when it
 * does not start at FPR 0, and by (1, 1) — an infinite threshold accepts everything —
 * when it ends before `g` turns negative (the reference's `interp1d` raises there, e.g.
 * for concatenated flipped embeddings whose distances exceed the grid's 4).
 */
export function equalErrorRate(fpr: ArrayLike<number>, tpr: ArrayLike<number>): number {
  if (fpr.length !== tpr.length) throw new ShapeError('tpr', `${fpr.length} values`, String(tpr.length));
  const xs: number[] = [];
  const ys: number[] = [];
  if (fpr.length === 0 || fpr[0] > 0) {
    xs.push(0);
    ys.push(0);
  }
  for (let i = 0; i < fpr.length; i++) {
    if (i > 0 && fpr[i] < fpr[i - 1]) throw new ConfigError('fpr', 'must be non-decreasing');
    xs.push(fpr[i]);
    ys.push(tpr[i]);
  }
  xs.push(1);
  ys.push(1);
  let prevG = 1 - xs[0] - ys[0];
  if (prevG <= 0) return xs[0];
  for (let i = 1; i < xs.length; i++) {
    const g = 1 - xs[i] - ys[i];
    if (g <= 0) {
      if (xs[i] === xs[i - 1] || g === 0) return xs[i];
      return xs[i - 1] + (prevG / (prevG - g)) * (xs[i] - xs[i - 1]);
    }
    prevG = g;
  }
  return 1; // unreachable: the last point (1, 1) has g = −1
}

/** Options of {@link evaluateVerification}. */
export interface VerificationOptions extends FoldOptions {
  /** Accuracy / ROC thresholds. Default `thresholdGrid(0.01)` (reference: `np.arange(0, 4, 0.01)`). */
  rocThresholds?: ArrayLike<number>;
  /** VAL thresholds. Default `thresholdGrid(0.001)` (reference: `np.arange(0, 4, 0.001)`). */
  valThresholds?: ArrayLike<number>;
  /** False-accept rate at which VAL is reported. Default 1e-3. */
  farTarget?: number;
}

/** Everything {@link evaluateVerification} measures (all rates are fractions, not %). */
export interface VerificationReport {
  nrofPairs: number;
  nrofMatched: number;
  nrofFolds: number;
  metric: VerificationMetric;
  subtractMean: boolean;
  accuracy: { mean: number; std: number; perFold: number[]; thresholds: number[] };
  val: { mean: number; std: number; far: number; farTarget: number; perFold: ValFold[] };
  auc: number;
  eer: number;
  roc: { thresholds: number[]; tpr: number[]; fpr: number[] };
}

/**
 * The whole LFW evaluation (the reference's `lfw.evaluate` plus AUC / EER): accuracy
 * mean ± std, VAL ± std @ FAR, AUC and EER of the averaged ROC curve.
 * Pair `i` is `(embeddings1[i], embeddings2[i])`; use {@link splitInterleaved} for the
 * reference's `[a0, b0, a1, b1, …]` layout.
 */
export function evaluateVerification(
  emb1: EmbeddingList,
  emb2: EmbeddingList,
  issame: ArrayLike<boolean>,
  opts: VerificationOptions = {},
): VerificationReport {
  const n = checkPairs(emb1, emb2, issame);
  const nrofFolds = opts.nrofFolds ?? 10;
  const metric = opts.metric ?? 'squared-euclidean';
  const subtractMean = opts.subtractMean ?? false;
  const common = { nrofFolds, metric, subtractMean };
  const roc = calculateRoc(emb1, emb2, issame, { ...common, thresholds: opts.rocThresholds });
  const farTarget = opts.farTarget ?? 1e-3;
  const val = calculateVal(emb1, emb2, issame, { ...common, thresholds: opts.valThresholds, farTarget });
  let nrofMatched = 0;
  for (let i = 0; i < n; i++) if (issame[i]) nrofMatched++;
  return {
    nrofPairs: n,
    nrofMatched,
    nrofFolds,
    metric,
    subtractMean,
    accuracy: {
      mean: mean(roc.accuracy),
      std: populationStd(roc.accuracy),
      perFold: roc.accuracy,
      thresholds: roc.bestThresholds,
    },
    val: { mean: val.val, std: val.valStd, far: val.far, farTarget, perFold: val.folds },
    auc: areaUnderCurve(roc.fpr, roc.tpr),
    eer: equalErrorRate(roc.fpr, roc.tpr),
    roc: { thresholds: Array.from(roc.thresholds), tpr: Array.from(roc.tpr), fpr: Array.from(roc.fpr) },
  };
}

/** Split the reference's interleaved `[a0, b0, a1, b1, …]` list into its two halves. */
export function splitInterleaved<T>(embeddings: ArrayLike<T>): [T[], T[]] {
  if (embeddings.length % 2 !== 0) {
    throw new ShapeError('embeddings', 'an even number (two per pair)', String(embeddings.length));
  }
  const a: T[] = [];
  const b: T[] = [];
  for (let i = 0; i < embeddings.length; i += 2) {
    a.push(embeddings[i]);
    b.push(embeddings[i + 1]);
  }
  return [a, b];
}

/**
 * Concatenate each embedding with the embedding of its horizontally flipped image, as the
 * reference's `--use_flipped_images` does (`[e(x) ‖ e(flip x)]`, no re-normalisation:
 * squared distances then range 0…8 for unit inputs).
 */
export function concatFlipped(original: EmbeddingList, flipped: EmbeddingList): Float32Array[] {
  if (original.length !== flipped.length) {
    throw new ShapeError('flipped', `${original.length} embeddings`, String(flipped.length));
  }
  const out: Float32Array[] = [];
  for (let i = 0; i < original.length; i++) {
    const a = original[i];
    const b = flipped[i];
    const v = new Float32Array(a.length + b.length);
    for (let d = 0; d < a.length; d++) v[d] = a[d];
    for (let d = 0; d < b.length; d++) v[a.length + d] = b[d];
    out.push(v);
  }
  return out;
}
