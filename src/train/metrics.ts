/**
 * What training reports: per update, per epoch, on the validation images; and how one
 * update's metrics are made from its micro-batches.
 */
import type { MicroMetrics } from './step.js';
import type { StepAccumulator } from './engine.js';

/** Metrics of one update. */
export interface StepMetrics {
  /** Updates done, including this one. */
  step: number;
  /** 1-based epoch of this update. */
  epoch: number;
  /** Total loss: data loss + weight decay. */
  loss: number;
  crossEntropy: number;
  centerLoss: number;
  /** Weight decay term (before the update). */
  regularization: number;
  prelogitsNorm: number;
  tripletLoss: number;
  /** Distillation losses against the teacher (0 without one). */
  distillation: number;
  relationalDistillation: number;
  /** Training accuracy of the head on this update's images (0 without a head). */
  accuracy: number;
  learningRate: number;
  imagesPerSecond: number;
  /**
   * Where the time of this update went, in seconds: `dataWait` (waiting for images that
   * were not decoded yet), `gradients` (forward + backward), `update` (weight decay,
   * optimizer, centers, moving average), plus engine details with workers
   * (`broadcast`, `workers`, `reduce`).
   */
  seconds: Record<string, number>;
}

/** Loss and accuracy on the validation images. */
export interface ValidationMetrics {
  loss: number;
  crossEntropy: number;
  centerLoss: number;
  accuracy: number;
  images: number;
}

/** Metrics of one epoch. */
export interface EpochMetrics {
  /** 1-based epoch just finished. */
  epoch: number;
  step: number;
  /** Means over the epoch's updates (of this run; a resumed epoch counts from the resume). */
  loss: number;
  accuracy: number;
  validation?: ValidationMetrics;
  /** What the `evaluateEvery` callback returned. */
  evaluation?: Record<string, number>;
  seconds: number;
}

/** Weighted mean (0 when the weights sum to 0). */
export function weightedMean(values: number[], weights: number[]): number {
  let s = 0;
  let w = 0;
  values.forEach((v, i) => {
    s += v * weights[i];
    w += weights[i];
  });
  return w > 0 ? s / w : 0;
}

/** What {@link stepMetrics} needs besides the engine's result. */
export interface StepFacts {
  step: number;
  epoch: number;
  regularization: number;
  learningRate: number;
  /** Milliseconds since the previous update ended. */
  elapsedMs: number;
  /** Milliseconds: waiting for images, computing gradients, updating. */
  dataWaitMs: number;
  gradientsMs: number;
  updateMs: number;
}

/** The metrics of one update from its micro-batches (weighted by their sizes). */
export function stepMetrics(acc: StepAccumulator, f: StepFacts): StepMetrics {
  const images = acc.sizes.reduce((a, b) => a + b, 0);
  const mean = (k: keyof MicroMetrics) => weightedMean(acc.metrics.map((m) => m[k]), acc.sizes);
  return {
    step: f.step,
    epoch: f.epoch,
    loss: mean('loss') + f.regularization + mean('modelRegularization'),
    crossEntropy: mean('crossEntropy'),
    centerLoss: mean('centerLoss'),
    regularization: f.regularization + mean('modelRegularization'),
    prelogitsNorm: mean('prelogitsNorm'),
    tripletLoss: mean('tripletLoss'),
    distillation: mean('distillation'),
    relationalDistillation: mean('relationalDistillation'),
    accuracy: mean('accuracy'),
    learningRate: f.learningRate,
    imagesPerSecond: images / Math.max(1e-3, f.elapsedMs / 1000),
    seconds: {
      dataWait: f.dataWaitMs / 1000,
      gradients: f.gradientsMs / 1000,
      update: f.updateMs / 1000,
      ...acc.timings,
    },
  };
}

/** The updates of the epoch in progress, summed into its {@link EpochMetrics} when it ends. */
export class EpochTally {
  private losses: number[] = [];
  private accuracies: number[] = [];
  private start = Date.now();
  /** `Date.now()` when the last update (or epoch) ended: where the next update's timing starts. */
  lastUpdateEnd = Date.now();

  add(m: StepMetrics, now: number): void {
    this.losses.push(m.loss);
    this.accuracies.push(m.accuracy);
    this.lastUpdateEnd = now;
  }

  /** The epoch's metrics (means over this run's updates of it); starts the next epoch. */
  finish(epoch: number, step: number, validation?: ValidationMetrics, evaluation?: Record<string, number>): EpochMetrics {
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
    const em: EpochMetrics = {
      epoch,
      step,
      loss: mean(this.losses),
      accuracy: mean(this.accuracies),
      validation,
      evaluation,
      seconds: (Date.now() - this.start) / 1000,
    };
    this.losses = [];
    this.accuracies = [];
    this.start = Date.now();
    this.lastUpdateEnd = Date.now();
    return em;
  }
}
