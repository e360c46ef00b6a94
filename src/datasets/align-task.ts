/**
 * One image of a dataset alignment job: decode, detect, choose faces, crop (or align by
 * landmarks), write PNGs atomically. Shared by the worker threads and the in-process path
 * of {@link alignDataset}. Node only.
 */
import * as tf from '@tensorflow/tfjs-core';
import { decodeImageFile, encodeImage } from '../image/decode-node.js';
import { rawToTensor } from '../image/load.js';
import { writeFileAtomic } from '../util/atomic.js';
import { cropFace, marginBox, selectFaces, type FaceSelection } from '../face/crop.js';
import { alignFace, faceChipPoints } from '../face/align.js';
import type { Mtcnn } from '../mtcnn/detector.js';
import type { Box } from '../face/types.js';

/** How a dataset image becomes a face thumbnail. */
export type AlignMethod = 'crop' | 'landmarks' | 'chip';

/** Settings that are the same for every image of a job. */
export interface AlignImageConfig {
  imageSize: number;
  /** Crop margin in pixels of the original image (method `'crop'`). */
  margin: number;
  /** Fraction of the output left around the landmark template (method `'landmarks'`). */
  landmarkMargin: number;
  /** Padding of dlib's face chip, as a fraction of the face (method `'chip'`). */
  chipPadding: number;
  faceSelection: FaceSelection;
  /** Name outputs `<stem>_<i>.png` (one per face), as the reference does with `--detect_multiple_faces`. */
  multipleFaces: boolean;
  method: AlignMethod;
}

/** One image to align. */
export interface AlignTask {
  id: number;
  /** Absolute path of the source image. */
  source: string;
  /** Output path without extension: `<output>/<identity>/<stem>`. */
  outputBase: string;
}

/** What became of one image. */
export interface AlignTaskResult {
  id: number;
  /** Files written, each with the integer crop rectangle (`marginBox`) in source pixels. */
  outputs: { path: string; box: Box }[];
  /** No face was found (nothing written). */
  noFace?: boolean;
  /** The image could not be read or processed (nothing written). */
  error?: string;
}

/** Round and clip a float `[h, w, 3]` tensor to 8-bit RGB. */
async function toBytes(t: tf.Tensor3D): Promise<Uint8Array> {
  const ints = tf.tidy(() => tf.cast(tf.clipByValue(tf.round(t), 0, 255), 'int32'));
  try {
    return Uint8Array.from(await ints.data());
  } finally {
    ints.dispose();
  }
}

/** Process one image (never throws: failures come back in the result). */
export async function alignImageFile(mtcnn: Mtcnn, task: AlignTask, cfg: AlignImageConfig): Promise<AlignTaskResult> {
  let image: tf.Tensor3D | undefined;
  try {
    const raw = await decodeImageFile(task.source);
    image = rawToTensor(raw, task.source);
    const faces = await mtcnn.detect(image);
    const chosen = selectFaces(faces, raw.width, raw.height, cfg.faceSelection);
    if (chosen.length === 0) return { id: task.id, outputs: [], noFace: true };
    const outputs: AlignTaskResult['outputs'] = [];
    for (let i = 0; i < chosen.length; i++) {
      const face = chosen[i];
      const thumb =
        cfg.method === 'landmarks'
          ? alignFace(image, face.landmarks, { imageSize: cfg.imageSize, margin: cfg.landmarkMargin })
          : cfg.method === 'chip'
            ? alignFace(image, face.landmarks, { imageSize: cfg.imageSize, points: faceChipPoints(cfg.imageSize, cfg.chipPadding) })
            : cropFace(image, face.box, { imageSize: cfg.imageSize, margin: cfg.margin });
      let bytes: Uint8Array;
      try {
        bytes = await toBytes(thumb);
      } finally {
        thumb.dispose();
      }
      const png = await encodeImage({ data: bytes, width: cfg.imageSize, height: cfg.imageSize, channels: 3 }, 'png');
      const path = cfg.multipleFaces ? `${task.outputBase}_${i}.png` : `${task.outputBase}.png`;
      await writeFileAtomic(path, png);
      // In the file's own pixels, also when it was decoded downscaled (past the pixel cap).
      const box = marginBox(face.box, raw.width, raw.height, cfg.margin).map((v) => Math.round(v / raw.scale)) as typeof face.box;
      outputs.push({ path, box });
    }
    return { id: task.id, outputs };
  } catch (e) {
    return { id: task.id, outputs: [], error: e instanceof Error ? e.message : String(e) };
  } finally {
    image?.dispose();
  }
}
