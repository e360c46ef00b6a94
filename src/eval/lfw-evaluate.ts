/**
 * The LFW verification benchmark end to end (Node only), as davidsandberg/facenet's
 * `validate_on_lfw.py` on MTCNN-aligned LFW: read `pairs.txt`, find and crop the main face
 * of every image (the face `align_dataset_mtcnn.py` keeps), embed it (optionally with its
 * mirror image, concatenated), and compute accuracy, VAL@FAR, AUC and EER.
 */
import { ConfigError } from '../errors.js';
import { loadAlignedFaces, type FacenetEmbedder } from '../recognition/embedder.js';
import { sharedPath } from '../util/shared-data.js';
import { readLfwPairs, resolveLfwPairs } from './lfw-files.js';
import type { LfwPair, LfwPairs } from './lfw-pairs.js';
import { concatFlipped, evaluateVerification, type VerificationOptions, type VerificationReport } from './verification.js';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Keep the first `perFold` matched and `perFold` mismatched pairs of every fold: a smaller
 * benchmark with the same fold structure (for quick runs).
 * @throws {ConfigError} unless `1 ≤ perFold ≤ pairsPerFold`.
 */
export function subsetLfwPairs(pairs: LfwPairs, perFold: number): LfwPairs {
  if (!Number.isInteger(perFold) || perFold < 1 || perFold > pairs.pairsPerFold) {
    throw new ConfigError('pairsPerFold', `must be an integer in 1…${pairs.pairsPerFold}, got ${perFold}`);
  }
  const kept: LfwPair[] = [];
  const seen = new Map<string, number>();
  for (const p of pairs.pairs) {
    const key = `${p.fold}:${p.issame}`;
    const n = seen.get(key) ?? 0;
    if (n < perFold) kept.push(p);
    seen.set(key, n + 1);
  }
  return { nrofFolds: pairs.nrofFolds, pairsPerFold: perFold, pairs: kept };
}

/** Options of {@link evaluateLfw}. */
export interface LfwEvaluationOptions extends VerificationOptions {
  /** LFW image root (`<Name>/<Name>_NNNN.jpg`). Default: the shared data's `data/lfw`. */
  lfwDir?: string;
  /** The pairs file. Default: the shared data's `data/lfw-pairs.txt`. */
  pairsFile?: string;
  /** Use only this many matched + mismatched pairs per fold (see {@link subsetLfwPairs}). Default: all. */
  pairsPerFold?: number;
  /**
   * `true`: concatenate each image's embedding with its mirror image's, unnormalised, exactly
   * as the reference's `--use_flipped_images` (squared distances then reach 8); `false`: the
   * plain embeddings. Default: the embedder's own embeddings, as its preprocessing says
   * (with `flip`, the concatenation scaled back to unit length).
   */
  flip?: boolean;
  /**
   * The LFW folder holds face crops already aligned the embedder's way (`tfjs-facenet align`
   * with the model's alignment): each image is resized to the model's input and embedded
   * without detection; images that alignment found no face in are simply absent. Default false.
   */
  aligned?: boolean;
  /** Called after each image is embedded. */
  onProgress?: (done: number, total: number) => void;
}

/** Result of {@link evaluateLfw}. */
export interface LfwEvaluation {
  report: VerificationReport;
  /** Distinct images read. */
  images: number;
  /** Images in which no face was found; their pairs are left out (as the reference does). */
  noFace: string[];
  /** Image files named by the pairs file but missing on disk. */
  missing: string[];
  /** Pairs left out (missing file or no face). */
  skippedPairs: number;
  /** Wall-clock seconds spent on detection + embedding. */
  seconds: number;
}

/**
 * Run the LFW benchmark with `embedder` (its detector, crop and standardization; its flip
 * setting unless {@link LfwEvaluationOptions.flip} is given).
 */
export async function evaluateLfw(embedder: FacenetEmbedder, opts: LfwEvaluationOptions = {}): Promise<LfwEvaluation> {
  const lfwDir = opts.lfwDir ?? sharedPath('data', 'lfw');
  let pairs = await readLfwPairs(opts.pairsFile ?? sharedPath('data', 'lfw-pairs.txt'));
  if (opts.pairsPerFold !== undefined) pairs = subsetLfwPairs(pairs, opts.pairsPerFold);
  const resolved = resolveLfwPairs(pairs, lfwDir);
  const t0 = performance.now();
  const embeddings: (Float32Array | null)[] = new Array(resolved.images.length).fill(null);
  const noFace: string[] = [];
  // Crops are collected into batches so the network runs on full batches.
  const batchSize = 32;
  let pending: { index: number; crop: tf.Tensor4D }[] = [];
  let done = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    const batch = tf.concat(pending.map((p) => p.crop), 0) as tf.Tensor4D;
    try {
      const out =
        opts.flip === undefined
          ? await embedder.embedCrops(batch)
          : opts.flip
            ? concatFlipped(await embedder.embedCropsRaw(batch), await embedder.embedCropsRaw(batch, { mirror: true }))
            : await embedder.embedCropsRaw(batch);
      pending.forEach((p, i) => (embeddings[p.index] = out[i]));
    } finally {
      batch.dispose();
      pending.forEach((p) => p.crop.dispose());
      pending = [];
    }
  };
  try {
    for (let i = 0; i < resolved.images.length; i++) {
      const { crops, detections } = opts.aligned
        ? { crops: await loadAlignedFaces([resolved.images[i]], embedder.preprocessing.imageSize), detections: [true] }
        : await embedder.cropFaces(resolved.images[i], 'main');
      if (detections.length === 0) {
        crops.dispose();
        noFace.push(resolved.images[i]);
      } else {
        pending.push({ index: i, crop: crops });
      }
      if (pending.length >= batchSize) await flush();
      opts.onProgress?.(++done, resolved.images.length);
    }
    await flush();
  } finally {
    pending.forEach((p) => p.crop.dispose());
  }
  const seconds = (performance.now() - t0) / 1000;
  const emb1: Float32Array[] = [];
  const emb2: Float32Array[] = [];
  const issame: boolean[] = [];
  for (const p of resolved.pairs) {
    const a = embeddings[p.image1];
    const b = embeddings[p.image2];
    if (!a || !b) continue;
    emb1.push(a);
    emb2.push(b);
    issame.push(p.issame);
  }
  const skippedPairs = pairs.pairs.length - issame.length;
  const report = evaluateVerification(emb1, emb2, issame, opts);
  return { report, images: resolved.images.length, noFace, missing: resolved.missing, skippedPairs, seconds };
}
