/**
 * Data stages of the distillation pipeline:
 * - {@link linkTrainingTree}: one folder-per-identity tree of face chips made of several
 *   aligned datasets (symbolic links, no copies), leaving out held-out identities; the same
 *   CelebA identity in two sources becomes one folder.
 * - {@link rescaleChips}: the chips rescaled for the student's input (INTER_AREA, as the
 *   embedder rescales chips at inference), same relative paths, written atomically.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, symlink } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { encodeImage } from '../../src/image/decode-node.js';
import { loadAlignedFaces } from '../../src/recognition/embedder.js';
import { readImageFolder } from '../../src/train/dataset.js';
import { writeFileAtomic } from '../../src/util/atomic.js';
import { standardizeFaces } from '../../src/recognition/standardize.js';
import type { Preprocessing } from '../../src/face/embedding.js';
import type { LayersModel } from '@tensorflow/tfjs-layers';

/**
 * Link every image of `sources` (aligned folder-per-identity trees) into `output`, except
 * `exclude`d identities. A file name an earlier source already gave the same identity is the
 * same photo (CelebA's two folders share ids and file names) and is linked and counted once.
 */
export async function linkTrainingTree(sources: string[], output: string, exclude: ReadonlySet<string>): Promise<{ identities: number; images: number }> {
  const ids = new Set<string>();
  const linked = new Set<string>();
  for (const src of sources) {
    for (const id of (await readdir(src, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name)) {
      if (exclude.has(id)) continue;
      ids.add(id);
      await mkdir(join(output, id), { recursive: true });
      for (const f of (await readdir(join(src, id))).filter((f) => f.endsWith('.png'))) {
        const target = join(output, id, f);
        if (linked.has(target)) continue;
        if (!existsSync(target)) await symlink(resolve(src, id, f), target);
        linked.add(target);
      }
    }
  }
  return { identities: ids.size, images: linked.size };
}

/** Rescale every chip of `input` to `size` px into `output` (resumable: existing files are kept). */
export async function rescaleChips(input: string, output: string, size: number, onProgress?: (done: number, total: number) => void): Promise<number> {
  return deriveImages(
    input,
    output,
    (rel) => [rel],
    async (source) => {
      const face = await loadAlignedFaces([source], size);
      const rounded = tf.tidy(() => tf.clipByValue(tf.round(face), 0, 255));
      const bytes = Uint8Array.from(rounded.dataSync());
      tf.dispose([face, rounded]);
      return [{ data: bytes, width: size, height: size, channels: 3 }];
    },
    onProgress,
  );
}

/** An 8-bit RGB picture to write. */
export interface RgbPicture {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 3;
}

/**
 * Pictures made from every image of the folder tree `input`, written as PNG files under
 * `output`, resumably: `outputsOf(rel)` names the files an image at `rel` (its path below
 * `input`) gives; only those not on disk yet are made, `make(source, missing, rel)` returning one
 * picture per missing output index, each written atomically.
 * @returns how many files were written.
 */
export async function deriveImages(
  input: string,
  output: string,
  outputsOf: (rel: string) => string[],
  make: (source: string, missing: number[], rel: string) => Promise<RgbPicture[]>,
  onProgress?: (done: number, total: number) => void,
): Promise<number> {
  const folder = await readImageFolder(input);
  const paths = folder.classes.flatMap((c) => c.paths);
  let written = 0;
  for (let i = 0; i < paths.length; i++) {
    const rel = relative(folder.root, paths[i]);
    const targets = outputsOf(rel).map((t) => join(output, t));
    const missing = targets.flatMap((t, k) => (existsSync(t) ? [] : [k]));
    if (missing.length) {
      const pictures = await make(paths[i], missing, rel);
      for (let k = 0; k < missing.length; k++) {
        await writeFileAtomic(targets[missing[k]], await encodeImage(pictures[k], 'png'));
        written++;
      }
    }
    onProgress?.(i + 1, paths.length);
  }
  return written;
}

/**
 * A teacher model as `fillTeacherCache` calls it: aligned faces (mirrored on request) →
 * standardized as the model's preprocessing says → the model → unit-length embeddings.
 */
export function teacherEmbedding(model: LayersModel, standardization: Preprocessing['standardization']) {
  const dimension = model.outputs[0].shape[1] as number;
  return async (faces: tf.Tensor4D, { mirror }: { mirror: boolean }): Promise<Float32Array[]> => {
    const y = tf.tidy(() => {
      const e = model.predict(standardizeFaces(mirror ? (tf.reverse(faces, 2) as tf.Tensor4D) : faces, standardization)) as tf.Tensor2D;
      return tf.div(e, tf.norm(e, 'euclidean', 1, true));
    });
    const data = (await y.data()) as Float32Array;
    y.dispose();
    return Array.from({ length: faces.shape[0] }, (_, i) => data.slice(i * dimension, (i + 1) * dimension));
  };
}
