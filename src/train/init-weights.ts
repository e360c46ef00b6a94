/**
 * Start a run from a trained model's weights instead of random ones: fine-tuning, or
 * growing a trained network into a deeper one without losing what it learned.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { IncompatibleFileError } from '../errors.js';
import { loadModel } from '../facenet/model-io.js';
import { modelWeights } from './model-state.js';

/** What {@link initWeightsFrom} did. */
export interface WeightInit {
  /** Weights copied from the source, by name. */
  copied: number;
  /** Residual up-projections the source lacks, set to zero (the new blocks start as identity). */
  zeroed: number;
  /** Other weights the source lacks, left at their fresh initial values. */
  fresh: string[];
  /** Source weights the model has no place for. */
  unused: string[];
}

/**
 * A residual block's up-projection (`Repeat/block35_3/Conv2d_1x1/kernel`, `…/bias`): the
 * 1×1 convolution whose scaled output the block adds to its input.
 */
export function isResidualUpProjection(name: string): boolean {
  return /(^|\/)block(35|17|8)_\d+\/Conv2d_1x1\/(kernel|bias)$/.test(name);
}

/**
 * Copy `source`'s weights into `target` by weight name (same shapes required). A residual
 * block the source does not have gets a zero up-projection, so it adds nothing: its input
 * is already non-negative (a ReLU output), and the block's own ReLU passes it through.
 * A deeper Inception-ResNet-v1 (more blocks per stage) therefore starts out computing
 * exactly what the trained shallower one computes, and training grows the new blocks from
 * there (Net2Net's "deeper" idea) instead of from scratch.
 *
 * @throws {IncompatibleFileError} when a weight of the same name has another shape, or no
 *   weight's name matches (another architecture); the model is then left unchanged.
 */
export function initWeightsFrom(target: tfl.LayersModel, source: tfl.LayersModel, sourceName: string): WeightInit {
  const byName = new Map(modelWeights(source).map((w) => [w.name, w.variable] as const));
  const weights = modelWeights(target);
  // Every check before any change: a refused source leaves the model as it was.
  for (const w of weights) {
    const src = byName.get(w.name);
    if (src && src.shape.join(',') !== w.variable.shape.join(',')) {
      throw new IncompatibleFileError(sourceName, `weight "${w.name}" has shape [${src.shape}], the model being trained has [${w.variable.shape}]`);
    }
  }
  if (!weights.some((w) => byName.has(w.name))) {
    throw new IncompatibleFileError(sourceName, `has none of the weights of the model being trained (its first: "${[...byName.keys()][0] ?? 'none'}")`);
  }
  const result: WeightInit = { copied: 0, zeroed: 0, fresh: [], unused: [] };
  for (const w of weights) {
    const src = byName.get(w.name);
    if (src) {
      w.variable.assign(src);
      byName.delete(w.name);
      result.copied++;
    } else if (isResidualUpProjection(w.name)) {
      tf.tidy(() => w.variable.assign(tf.zerosLike(w.variable)));
      result.zeroed++;
    } else {
      result.fresh.push(w.name);
    }
  }
  result.unused = [...byName.keys()];
  return result;
}

/**
 * {@link initWeightsFrom} a model folder saved by `saveModel` (e.g. a run's `out/model`).
 * @throws {FileNotFoundError} when the folder is missing; {IncompatibleFileError} as above.
 */
export async function initWeightsFromModel(target: tfl.LayersModel, dir: string): Promise<WeightInit> {
  const source = await loadModel(dir);
  try {
    return initWeightsFrom(target, source, dir);
  } finally {
    source.dispose();
  }
}
