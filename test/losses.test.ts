/**
 * Loss numerics on tiny inputs. Every expected number is worked out in the comments
 * (by hand; the transcendental values with a pocket calculator / Python's `math`).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers gradients needed in Node ESM
import { setupBackend, countLeaks } from './helpers.js';
import {
  softmaxCrossEntropy,
  classificationAccuracy,
  CenterLoss,
  tripletLoss,
  minedTripletLoss,
  mineTriplets,
  pairwiseSquaredDistances,
  arcFaceLogits,
  cosFaceLogits,
  l2WeightDecay,
  prelogitsNorm,
} from '../src/losses/index.js';
import { ConfigError, ShapeError } from '../src/errors.js';

beforeAll(async () => {
  await setupBackend();
});

function close(actual: ArrayLike<number>, expected: number[], tol = 1e-5) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(actual[i]).toBeCloseTo(expected[i], -Math.log10(tol));
}

describe('softmaxCrossEntropy', () => {
  // logits [[1,2,3],[0,2,0]], labels [2,0]
  // row 0: logsumexp = 3 + ln(1 + e^-1 + e^-2) = 3 + ln(1.5032147) = 3.4076060; CE = 0.4076060
  // row 1: logsumexp = 2 + ln(1 + 2e^-2) = 2 + ln(1.2706706) = 2.2395448; CE = 2.2395448 − 0
  // mean = 1.3235754
  const logits = [
    [1, 2, 3],
    [0, 2, 0],
  ];
  it('matches the hand-worked mean', async () => {
    const leaks = await countLeaks(() => {
      const l = tf.tensor2d(logits);
      const ce = softmaxCrossEntropy(l, [2, 0]);
      expect(ce.shape).toEqual([]);
      expect(ce.dataSync()[0]).toBeCloseTo(1.3235754, 5);
      ce.dispose();
      l.dispose();
    });
    expect(leaks).toBe(0);
  });

  it('has gradient (softmax − onehot) / batch', () => {
    // softmax row 0 = [e^-2, e^-1, 1] / 1.5032147 = [0.0900306, 0.2447285, 0.6652410]
    // minus onehot(2), /2 → [0.0450153, 0.1223642, −0.1673795]
    // softmax row 1 = [1, e^2, 1] / (2 + e^2) = [0.1065070, 0.7869860, 0.1065070]
    // minus onehot(0), /2 → [−0.4467465, 0.3934930, 0.0532535]
    const g = tf.grad((l: tf.Tensor) => softmaxCrossEntropy(l as tf.Tensor2D, tf.tensor1d([2, 0], 'int32')))(
      tf.tensor2d(logits),
    );
    close(g.dataSync(), [0.0450153, 0.1223642, -0.1673795, -0.4467465, 0.393493, 0.0532535]);
  });

  it('accuracy counts argmax hits', () => {
    // row 0 argmax 2 = label 2 (hit); row 1 argmax 1 ≠ label 0 (miss) → 0.5
    expect(classificationAccuracy(tf.tensor2d(logits), [2, 0])).toBe(0.5);
  });

  it('rejects bad labels with a typed error', () => {
    expect(() => softmaxCrossEntropy(tf.tensor2d(logits), [2, 3])).toThrow(ShapeError);
    expect(() => softmaxCrossEntropy(tf.tensor2d(logits), [2])).toThrow(/2 labels/);
    expect(() => softmaxCrossEntropy(tf.tensor1d([1, 2]) as unknown as tf.Tensor2D, [0])).toThrow(ShapeError);
  });
});

describe('CenterLoss', () => {
  // x = [[1,2],[3,4],[5,6]], y = [0,0,1], 3 classes, centers start at 0.
  const x = [
    [1, 2],
    [3, 4],
    [5, 6],
  ];

  it('loss uses the centers before the update; update accumulates duplicates', async () => {
    const leaks = await countLeaks(() => {
      const cl = new CenterLoss({ numClasses: 3, featureSize: 2, alpha: 0.5 });
      const xt = tf.tensor2d(x);
      // loss = mean(x²) = (1+4+9+16+25+36)/6 = 91/6
      const l0 = cl.compute(xt, [0, 0, 1]);
      expect(l0.dataSync()[0]).toBeCloseTo(91 / 6, 5);
      l0.dispose();
      cl.update(xt, [0, 0, 1]);
      // class 0 twice, rate 1−α = 0.5 each: c0 = 0 − 0.5(0−[1,2]) − 0.5(0−[3,4]) = [2,3]
      // class 1 once: c1 = 0.5·[5,6] = [2.5,3]; class 2 not in the batch: stays 0
      close(cl.getCenters(), [2, 3, 2.5, 3, 0, 0]);
      // new loss = ((1−2)²+(2−3)²+(3−2)²+(4−3)²+(5−2.5)²+(6−3)²)/6 = (4+6.25+9)/6 = 19.25/6
      const l1 = cl.compute(xt, [0, 0, 1]);
      expect(l1.dataSync()[0]).toBeCloseTo(19.25 / 6, 5);
      l1.dispose();
      xt.dispose();
      cl.dispose();
    });
    expect(leaks).toBe(0);
  });

  it('both updates of a repeated class count (reference scatter_sub) and other classes do not move', () => {
    const cl = new CenterLoss({ numClasses: 3, featureSize: 2, alpha: 0.9 });
    cl.setCenters(Float32Array.from([0, 0, 10, 10, -7, 7]));
    cl.update(tf.tensor2d(x), [0, 0, 1]);
    // c0 = 0 + 0.1·[1,2] + 0.1·[3,4] = [0.4, 0.6]  (a single update would give [0.1,0.2] or [0.3,0.4])
    // c1 = [10,10] − 0.1·([10,10] − [5,6]) = [9.5, 9.6]; c2 untouched = [−7, 7]
    close(cl.getCenters(), [0.4, 0.6, 9.5, 9.6, -7, 7]);
    cl.dispose();
  });

  it('gradient flows into x only: d/dx mean((x−c)²) = 2(x−c)/N', () => {
    const cl = new CenterLoss({ numClasses: 2, featureSize: 2, alpha: 0.5 });
    cl.setCenters(Float32Array.from([1, 1, 0, 0]));
    const xv = tf.variable(tf.tensor2d([
      [2, 3],
      [4, 5],
    ]));
    const { value, grads } = tf.variableGrads(() => cl.compute(xv, [0, 1]));
    // N = 4 elements: 2·([2,3]−[1,1])/4 = [0.5, 1]; 2·[4,5]/4 = [2, 2.5]
    close(grads[xv.name].dataSync(), [0.5, 1, 2, 2.5]);
    expect(Object.keys(grads)).toEqual([xv.name]);
    // value = (1 + 4 + 16 + 25)/4 = 11.5; compute() leaves the centers alone
    expect(value.dataSync()[0]).toBeCloseTo(11.5, 5);
    close(cl.getCenters(), [1, 1, 0, 0]);
    cl.dispose();
    xv.dispose();
  });

  it('stays finite and converges to the class means on sorted batches (2 classes, seed alpha 0.6)', () => {
    // Two classes with means m0 = [1,−1,2,0], m1 = [−3,0,1,4] plus fixed ±0.5 offsets
    // that cancel within each batch of 8; the data are unshuffled: 8 batches of class 0,
    // then 8 of class 1, repeated. With the reference rule a batch of 8 copies of one class
    // moves its center by 8·(1−0.6) = 3.2× the error, i.e. error × (1 − 3.2) = −2.2 per
    // step: |error| grows 2.2^k. The capped rule moves it onto the batch mean.
    const means = [
      [1, -1, 2, 0],
      [-3, 0, 1, 4],
    ];
    const offsets = [0.5, -0.5, 0.25, -0.25, 0.5, -0.5, 0.25, -0.25];
    const cl = new CenterLoss({ numClasses: 2, featureSize: 4, alpha: 0.6 });
    let refError = 1; // |error| of the reference rule, started at 1 for class 0
    for (let round = 0; round < 10; round++) {
      for (const cls of [0, 1]) {
        for (let b = 0; b < 8; b++) {
          const rows = offsets.map((o) => means[cls].map((m) => m + o));
          const xt = tf.tensor2d(rows);
          cl.update(xt, new Array(8).fill(cls));
          xt.dispose();
          if (cls === 0) refError *= Math.abs(1 - 8 * 0.4);
        }
      }
    }
    const c = cl.getCenters();
    expect(Array.from(c).every(Number.isFinite)).toBe(true);
    close(c, [...means[0], ...means[1]], 1e-4);
    expect(refError).toBeGreaterThan(1e20); // the uncapped rule would have blown up
    cl.dispose();
  });

  it('validates its inputs', () => {
    expect(() => new CenterLoss({ numClasses: 0, featureSize: 2 })).toThrow(ConfigError);
    expect(() => new CenterLoss({ numClasses: 2, featureSize: 2, alpha: 1 })).toThrow(/centerLossAlpha/);
    const cl = new CenterLoss({ numClasses: 2, featureSize: 2 });
    expect(() => cl.compute(tf.tensor2d([[1, 2, 3]]), [0])).toThrow(ShapeError);
    expect(() => cl.update(tf.tensor2d([[1, 2]]), [2])).toThrow(/below 2/);
    cl.dispose();
  });
});

describe('triplet loss', () => {
  // e0=[0,0] e1=[1,0] (label 0), e2=[0,2] e3=[3,0] (label 1)
  // squared distances: d01=1 d02=4 d03=9 d12=5 d13=4 d23=13
  const emb = [
    [0, 0],
    [1, 0],
    [0, 2],
    [3, 0],
  ];
  const labels = [0, 0, 1, 1];

  it('reference triplet_loss on given triplets', () => {
    // row 0: a=[0,0] p=[1,0] n=[0,2]: max(1 − 4 + 0.2, 0) = 0
    // row 1: a=[0,0] p=[3,0] n=[1,0]: max(9 − 1 + 0.2, 0) = 8.2 → mean 4.1
    const l = tripletLoss(tf.tensor2d([[0, 0], [0, 0]]), tf.tensor2d([[1, 0], [3, 0]]), tf.tensor2d([[0, 2], [1, 0]]), 0.2);
    expect(l.dataSync()[0]).toBeCloseTo(4.1, 5);
  });

  it('pairwise squared distances', () => {
    close(pairwiseSquaredDistances(tf.tensor2d(emb)).dataSync(), [0, 1, 4, 9, 1, 0, 5, 4, 4, 5, 0, 13, 9, 4, 13, 0], 1e-4);
  });

  it('semi-hard mining and loss', () => {
    // (0,1): d=1, negatives of 0: e2 (4), e3 (9); closest farther than 1 → e2; loss max(1−4+.2,0)=0
    // (1,0): d=1, negatives of 1: e2 (5), e3 (4) → e3; loss 0
    // (2,3): d=13, negatives e0 (4), e1 (5): none farther → farthest e1; loss 13−5+.2 = 8.2
    // (3,2): d=13, negatives e0 (9), e1 (4): none farther → farthest e0; loss 13−9+.2 = 4.2
    // mean over 4 pairs = 12.4/4 = 3.1
    const d = [0, 1, 4, 9, 1, 0, 5, 4, 4, 5, 0, 13, 9, 4, 13, 0];
    const t = mineTriplets(d, labels, 'semi-hard');
    expect(Array.from(t.anchor)).toEqual([0, 1, 2, 3]);
    expect(Array.from(t.positive)).toEqual([1, 0, 3, 2]);
    expect(Array.from(t.negative)).toEqual([2, 3, 1, 0]);
    const l = minedTripletLoss(tf.tensor2d(emb), labels, { margin: 0.2, mining: 'semi-hard' });
    expect(l.dataSync()[0]).toBeCloseTo(3.1, 4);
  });

  it('batch-hard mining, loss and gradient', async () => {
    // anchor 0: hardest pos e1 (1), hardest neg e2 (4) → 0
    // anchor 1: pos e0 (1), neg e3 (4) → 0
    // anchor 2: pos e3 (13), neg e0 (4) → 9.2;  anchor 3: pos e2 (13), neg e1 (4) → 9.2
    // mean = 18.4/4 = 4.6
    const leaks = await countLeaks(() => {
      const init = tf.tensor2d(emb);
      const e = tf.variable(init);
      init.dispose();
      const { value, grads } = tf.variableGrads(() => minedTripletLoss(e, labels, { mining: 'batch-hard', margin: 0.2 }));
      expect(value.dataSync()[0]).toBeCloseTo(4.6, 4);
      // d/de2 = (1/4)·[ ∂(d23 − d20) + ∂(d32) ] = (1/4)·[2(e2−e3)·2 − 2(e2−e0)]
      //       = (1/4)·([−12, 8] − [0, 4]) = [−3, 1]
      const g = grads[e.name].dataSync();
      expect(g[4]).toBeCloseTo(-3, 4);
      expect(g[5]).toBeCloseTo(1, 4);
      value.dispose();
      grads[e.name].dispose();
      e.dispose();
    });
    expect(leaks).toBe(0);
  });

  it('is 0 with no valid triplet, and validates options', () => {
    expect(minedTripletLoss(tf.tensor2d(emb), [0, 1, 2, 3]).dataSync()[0]).toBe(0);
    expect(() => minedTripletLoss(tf.tensor2d(emb), labels, { mining: 'hard' as never })).toThrow(ConfigError);
  });
});

describe('margin softmax', () => {
  // features [3,4] (cos with w0=[2,0] is 0.6, with w1=[0,0.5] is 0.8), label 0, s = 10
  const f = () => tf.tensor2d([[3, 4]]);
  const w = () => tf.tensor2d([
    [2, 0],
    [0, 0.5],
  ]);

  it('ArcFace: s·cos(θ+m) on the target, s·cos θ elsewhere', () => {
    // cos(θ+0.5) = 0.6·cos 0.5 − 0.8·sin 0.5 = 0.6·0.8775826 − 0.8·0.4794255 = 0.1430091
    const l = arcFaceLogits(f(), w(), [0], { scale: 10, margin: 0.5 });
    close(l.dataSync(), [1.430091, 8.0], 1e-4);
  });

  it('ArcFace falls back to cos θ − m·sin(π−m) past θ + m = π', () => {
    // cos θ = −0.9 < cos(π − 0.5) = −0.8775826 → −0.9 − 0.5·sin(0.5) = −0.9 − 0.2397128 = −1.1397128
    // (tfjs oneHot needs ≥ 2 classes: the second one, w1 = [0,1], gives cos = √0.19 = 0.4358899)
    const l = arcFaceLogits(tf.tensor2d([[-0.9, Math.sqrt(1 - 0.81)]]), tf.tensor2d([[1, 0], [0, 1]]), [0], {
      scale: 10,
      margin: 0.5,
    });
    close(l.dataSync(), [-11.397128, 4.358899], 1e-3);
  });

  it('ArcFace is differentiable in features and weights', () => {
    // d/dx of the target logit s·cos(θ+m) with θ = angle(x, w0): checked against central
    // differences of the same function (step 1e-3) on x = [3, 4].
    const w0 = w();
    const f = (x: tf.Tensor) => tf.sum(tf.slice(arcFaceLogits(x as tf.Tensor2D, w0, [0], { scale: 10, margin: 0.5 }), [0, 0], [1, 1]));
    const g = tf.grad(f)(tf.tensor2d([[3, 4]])).dataSync();
    const h = 1e-3;
    const num = [0, 1].map((k) => {
      const plus = [3, 4];
      const minus = [3, 4];
      plus[k] += h;
      minus[k] -= h;
      return (f(tf.tensor2d([plus])).dataSync()[0] - f(tf.tensor2d([minus])).dataSync()[0]) / (2 * h);
    });
    // By hand: c = cos θ = x₀/‖x‖ = 0.6, s = sin θ = 0.8, L = 10·(c·cos m − s·sin m).
    // dc/dx = (ŵ0 − c·x̂)/‖x‖ = ([1,0] − 0.6·[0.6,0.8])/5 = [0.128, −0.096];
    // dL/dc = 10·(cos m + (c/s)·sin m) = 10·(0.8775826 + 0.75·0.4794255) = 12.371517;
    // dL/dx = [1.583554, −1.187666].
    expect(g[0]).toBeCloseTo(1.583554, 3);
    expect(g[1]).toBeCloseTo(-1.187666, 3);
    expect(g[0]).toBeCloseTo(num[0], 2);
    expect(g[1]).toBeCloseTo(num[1], 2);
  });

  it('CosFace: s·(cos θ − m) on the target', () => {
    // 10·(0.6 − 0.35) = 2.5; 10·0.8 = 8
    close(cosFaceLogits(f(), w(), [0], { scale: 10, margin: 0.35 }).dataSync(), [2.5, 8], 1e-4);
  });
});

describe('regularization', () => {
  it('L2 weight decay = scale·Σw²/2 (slim l2_regularizer)', () => {
    // Σw² = 1+4+9+16 + 1+1 = 32; 0.1·32/2 = 1.6
    const l = l2WeightDecay([tf.tensor2d([[1, 2], [3, 4]]), tf.tensor1d([1, -1])], 0.1);
    expect(l.dataSync()[0]).toBeCloseTo(1.6, 5);
    expect(l2WeightDecay([], 0.1).dataSync()[0]).toBe(0);
    expect(() => l2WeightDecay([], -1)).toThrow(ConfigError);
  });

  it('pre-logits norm: mean of ‖|x|+1e-4‖_p', () => {
    const x = tf.tensor2d([
      [1, -2],
      [0, 3],
    ]);
    // p=1: (1.0001 + 2.0001) and (0.0001 + 3.0001) → both 3.0002
    expect(prelogitsNorm(x, 1).dataSync()[0]).toBeCloseTo(3.0002, 4);
    // p=2: √(1.0001² + 2.0001²) = 2.2362021, √(0.0001² + 3.0001²) = 3.0001000 → mean 2.6181511
    expect(prelogitsNorm(x, 2).dataSync()[0]).toBeCloseTo(2.6181511, 4);
    expect(() => prelogitsNorm(x, 0.5)).toThrow(/prelogitsNormP/);
  });
});
