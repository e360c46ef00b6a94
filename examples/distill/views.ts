/**
 * Augmented views of face chips, for teaching the student on more than the chips themselves.
 *
 * The first students learned the teacher's answers for their 22,585 chips well and generalised
 * worse: embedding loss 0.18 on those chips, 0.27 on chips of people they never saw, 0.26 on
 * LFW (`gap.ts`, BENCHMARKS.md) — too few teacher-labelled images. A view is a chip moved a little (scale, rotation,
 * shift) and recoloured (brightness, contrast, saturation, sometimes grey), written as an
 * image of its own; the teacher then embeds the view itself, so the student is shown
 * exactly the picture whose answer it is taught ("consistent" teaching — a target computed
 * on the unaugmented chip would be wrong for the moved one).
 *
 * Views are deterministic: view `v` of the chip at key `k` depends only on (seed, k, v), so
 * an interrupted stage resumes and a rerun on the same backend writes the same pixels. The
 * seed is part of every view's file name, so views of two seeds never stand in for each other
 * (in a tree, a teacher cache or a rescaled copy).
 */
import * as tf from '@tensorflow/tfjs-core';
import { transformRow } from '../../src/face/align.js';
import { loadImage } from '../../src/image/load.js';
import { Rng } from '../../src/train/rng.js';
import { deriveImages } from './data.js';

/** How one view differs from its chip. */
export interface ViewParameters {
  /** Zoom about the chip's centre (> 1 enlarges the face). */
  scale: number;
  /** Rotation about the centre, radians (positive turns the face clockwise on screen). */
  angle: number;
  /** Shift in pixels: +dx moves the face right, +dy down. */
  dx: number;
  dy: number;
  /** Multiplies every value. */
  brightness: number;
  /** Stretches values about the image's mean grey. */
  contrast: number;
  /** 0 = grey, 1 = unchanged; stretches each pixel away from its own grey. */
  saturation: number;
}

/** The ranges views are drawn from (uniform in each). */
export const VIEW_RANGES = {
  scale: [0.9, 1.1],
  angleDegrees: [-12, 12],
  shiftFraction: [-0.05, 0.05],
  brightness: [0.7, 1.3],
  contrast: [0.7, 1.3],
  saturation: [0.5, 1.5],
  /** Probability that a view is grey (saturation 0). */
  grey: 0.15,
} as const;

/** The parameters of view `view` of the chip `key` of side `size` (chips are square). */
export function viewParameters(seed: number, key: string, view: number, size: number): ViewParameters {
  const rng = Rng.derive(seed, 'view', key, view);
  const uniform = ([lo, hi]: readonly [number, number]) => lo + (hi - lo) * rng.next();
  const r = VIEW_RANGES;
  const scale = uniform(r.scale);
  const angle = (uniform(r.angleDegrees) * Math.PI) / 180;
  const dx = uniform(r.shiftFraction) * size;
  const dy = uniform(r.shiftFraction) * size;
  const brightness = uniform(r.brightness);
  const contrast = uniform(r.contrast);
  const saturation = rng.next() < r.grey ? 0 : uniform(r.saturation);
  return { scale, angle, dx, dy, brightness, contrast, saturation };
}

/**
 * A view's geometry as `tf.image.transform` takes it: the image→view similarity
 * `p ↦ c + d + scale·R(angle)·(p − c)` (c the centre, d the shift), inverted by align's
 * {@link transformRow}.
 */
export function viewTransform(p: ViewParameters, height: number, width: number): number[] {
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const a = p.scale * Math.cos(p.angle);
  const b = p.scale * Math.sin(p.angle);
  return transformRow({ a, b, tx: cx + p.dx - (a * cx - b * cy), ty: cy + p.dy - (b * cx + a * cy) });
}

/**
 * One view of a chip (`[h, w, 3]`, RGB 0…255): the geometry first (bilinear, border pixels
 * repeated), then the colour. Returns a new int32 tensor of rounded 0…255 values.
 */
export function augmentChip(chip: tf.Tensor3D, p: ViewParameters): tf.Tensor3D {
  return tf.tidy(() => {
    const [h, w] = chip.shape;
    const x = tf.expandDims(tf.cast(chip, 'float32'), 0) as tf.Tensor4D;
    const moved = tf.image.transform(x, tf.tensor2d([viewTransform(p, h, w)]), 'bilinear', 'nearest');
    const rgb = tf.squeeze(moved, [0]) as tf.Tensor3D;
    // ITU-R BT.601 luma, the grey that "saturation 0" leaves.
    const grey = tf.sum(tf.mul(rgb, tf.tensor1d([0.299, 0.587, 0.114])), -1, true);
    const saturated = tf.add(grey, tf.mul(tf.sub(rgb, grey), p.saturation));
    const bright = tf.mul(saturated, p.brightness);
    const mean = tf.mean(tf.mul(grey, p.brightness));
    const contrasted = tf.add(mean, tf.mul(tf.sub(bright, mean), p.contrast));
    return tf.cast(tf.clipByValue(tf.round(contrasted), 0, 255), 'int32') as tf.Tensor3D;
  });
}

/** Where view `view` (of seed `seed`) of the chip at relative path `key` is written: `id/name~s<seed>v<view>.png`. */
export function viewKey(key: string, seed: number, view: number): string {
  return key.replace(/\.[^./]+$/, '') + `~s${seed}v${view}.png`;
}

/**
 * Write `views` augmented views of every chip of the folder-per-identity tree `input` into
 * `output` (same identity folders). Resumable: views already written are kept.
 * @returns how many views were written.
 */
export async function writeViews(input: string, output: string, views: number, seed: number, onProgress?: (done: number, total: number) => void): Promise<number> {
  const viewNumbers = Array.from({ length: views }, (_, v) => v + 1);
  return deriveImages(
    input,
    output,
    (rel) => viewNumbers.map((v) => viewKey(rel, seed, v)),
    async (source, missing, key) => {
      const chip = await loadImage(source);
      try {
        const [h, w] = chip.shape;
        return missing.map((k) => {
          const view = augmentChip(chip, viewParameters(seed, key, viewNumbers[k], w));
          const data = Uint8Array.from(view.dataSync());
          view.dispose();
          return { data, width: w, height: h, channels: 3 as const };
        });
      } finally {
        chip.dispose();
      }
    },
    onProgress,
  );
}
