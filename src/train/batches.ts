/**
 * Batches for training: which images (sampling), how they are augmented (random crop,
 * horizontal flip, fixed standardization), and loading them (sharp decode) ahead of use.
 *
 * Every choice for update `step`, micro-batch `micro` comes from generators derived from
 * (seed, step, micro) — see {@link Rng.derive} — so a plan is a pure function of its
 * position: prefetching, resuming and data-parallel sharding all see the same batches.
 */
import { ConfigError, FacenetError, FileNotFoundError, ImageDecodeError } from '../errors.js';
import { decodeImageFile } from '../image/decode-node.js';
import type { LabeledImages } from './dataset.js';
import { Rng } from './rng.js';
import { fixedStandardization } from '../recognition/standardize.js';

/** Augmentation of one image. */
export interface Augmentation {
  /** Left/top of the crop window in the decoded image (may be negative: zero padding). */
  left: number;
  top: number;
  flip: boolean;
}

/** The images of one micro-batch and what to do with each. */
export interface BatchPlan {
  step: number;
  micro: number;
  /** Indices into the image list. */
  indices: Int32Array;
  labels: Int32Array;
  /** Per image; null = centre crop, no flip (decided once the image size is known). */
  augment: Array<{ u: number; v: number; flip: boolean } | null>;
}

/** A loaded micro-batch: NHWC float32 images standardized to about [−1, 1]. */
export interface LoadedBatch {
  plan: BatchPlan;
  images: Float32Array;
  /** [batch, size, size, 3] */
  shape: [number, number, number, number];
  labels: Int32Array;
  /** With a teacher: its embedding of each image as augmented (`[batch, d]` row-major). */
  targets?: Float32Array;
}

/** Options of {@link BatchSampler}. */
export interface SamplerOptions {
  seed: number;
  batchSize: number;
  accumulationSteps: number;
  kind: 'shuffle' | 'pk';
  /** For 'pk': images per class. */
  imagesPerClass: number;
  randomCrop: boolean;
  randomFlip: boolean;
}

/**
 * Decides the images of every micro-batch.
 * - `shuffle`: the training images form an endless stream of seeded permutations (one
 *   per pass); update s takes the next batchSize × accumulationSteps of them — every image
 *   once per pass, like the reference's `range_input_producer(shuffle=True)`.
 * - `pk`: each micro-batch takes P = batchSize / K classes at random (among classes with
 *   ≥ 2 images when there are enough) and K images of each (without replacement when the
 *   class has K), so triplets can be mined in every batch.
 */
export class BatchSampler {
  private readonly n: number;
  private readonly byClass: number[][];
  private readonly pkClasses: number[];
  private permCache = new Map<number, Int32Array>();

  constructor(
    private readonly images: LabeledImages,
    private readonly opts: SamplerOptions,
  ) {
    this.n = images.paths.length;
    if (this.n === 0) throw new ConfigError('dataDir', 'no training images');
    this.byClass = images.classNames.map(() => []);
    images.labels.forEach((y, i) => this.byClass[y].push(i));
    const multi = this.byClass.map((l, c) => (l.length >= 2 ? c : -1)).filter((c) => c >= 0);
    const p = opts.batchSize / opts.imagesPerClass;
    this.pkClasses = multi.length >= p ? multi : this.byClass.map((l, c) => (l.length > 0 ? c : -1)).filter((c) => c >= 0);
    if (opts.kind === 'pk' && this.pkClasses.length < 2) {
      throw new ConfigError('sampler', '"pk" needs at least 2 classes with images');
    }
  }

  /** Images per update. */
  get imagesPerStep(): number {
    return this.opts.batchSize * this.opts.accumulationSteps;
  }

  /** Updates in one pass over the training images (at least 1). */
  get stepsPerPass(): number {
    return Math.max(1, Math.floor(this.n / this.imagesPerStep));
  }

  private permutation(k: number): Int32Array {
    let p = this.permCache.get(k);
    if (!p) {
      p = new Int32Array(this.n);
      for (let i = 0; i < this.n; i++) p[i] = i;
      Rng.derive(this.opts.seed, 'order', k).shuffle(p);
      if (this.permCache.size >= 2) this.permCache.delete(this.permCache.keys().next().value!);
      this.permCache.set(k, p);
    }
    return p;
  }

  private shuffleIndices(step: number, micro: number): Int32Array {
    const B = this.opts.batchSize;
    const start = step * this.imagesPerStep + micro * B;
    const out = new Int32Array(B);
    for (let j = 0; j < B; j++) {
      const pos = start + j;
      out[j] = this.permutation(Math.floor(pos / this.n))[pos % this.n];
    }
    return out;
  }

  private pkIndices(step: number, micro: number): Int32Array {
    const K = this.opts.imagesPerClass;
    const P = this.opts.batchSize / K;
    const rng = Rng.derive(this.opts.seed, 'pk', step, micro);
    const classes = (rng.shuffle(this.pkClasses.slice()) as number[]).slice(0, Math.min(P, this.pkClasses.length));
    const out: number[] = [];
    let ci = 0;
    while (out.length < this.opts.batchSize) {
      const members = this.byClass[classes[ci % classes.length]];
      const pick = members.length >= K ? (rng.shuffle(members.slice()) as number[]).slice(0, K) : Array.from({ length: K }, () => members[rng.int(members.length)]);
      out.push(...pick);
      ci++;
    }
    return Int32Array.from(out.slice(0, this.opts.batchSize));
  }

  /** The plan of micro-batch `micro` of update `step`. */
  plan(step: number, micro: number): BatchPlan {
    const indices = this.opts.kind === 'pk' ? this.pkIndices(step, micro) : this.shuffleIndices(step, micro);
    const rng = Rng.derive(this.opts.seed, 'augment', step, micro);
    const augment = Array.from(indices, () => {
      // Draw all three numbers for every image so that toggling one option leaves the others' draws unchanged.
      const u = rng.next();
      const v = rng.next();
      const flip = rng.bool(0.5);
      return this.opts.randomCrop || this.opts.randomFlip
        ? { u: this.opts.randomCrop ? u : -1, v: this.opts.randomCrop ? v : -1, flip: this.opts.randomFlip && flip }
        : null;
    });
    return { step, micro, indices, labels: Int32Array.from(indices, (i) => this.images.labels[i]), augment };
  }

  /** Image indices of a class (for substituting an unreadable image). */
  classMembers(label: number): readonly number[] {
    return this.byClass[label];
  }
}

/**
 * Crop (or zero-pad) `size`×`size` at (left, top) from 8-bit RGB, optionally mirror it, and
 * write it standardized into `out` at `offset`. Pure function.
 */
export function cropFlipStandardize(
  src: { data: Uint8Array | Uint8ClampedArray; width: number; height: number },
  size: number,
  aug: Augmentation,
  out: Float32Array,
  offset: number,
): void {
  const { data, width, height } = src;
  const pad = fixedStandardization(0);
  for (let y = 0; y < size; y++) {
    const sy = aug.top + y;
    for (let x = 0; x < size; x++) {
      const sx = aug.left + (aug.flip ? size - 1 - x : x);
      const o = offset + (y * size + x) * 3;
      if (sy < 0 || sy >= height || sx < 0 || sx >= width) {
        out[o] = pad;
        out[o + 1] = pad;
        out[o + 2] = pad;
      } else {
        const i = (sy * width + sx) * 3;
        out[o] = fixedStandardization(data[i]);
        out[o + 1] = fixedStandardization(data[i + 1]);
        out[o + 2] = fixedStandardization(data[i + 2]);
      }
    }
  }
}

/**
 * Where the crop window goes: uniform over all positions inside the image for a random
 * crop (`tf.random_crop`), else centred (`resize_image_with_crop_or_pad`: a smaller image
 * is centred on a zero border).
 */
export function cropWindow(width: number, height: number, size: number, u: number, v: number): { left: number; top: number } {
  const place = (extent: number, r: number) =>
    extent >= size && r >= 0 ? Math.min(extent - size, Math.floor(r * (extent - size + 1))) : Math.floor((extent - size) / 2);
  return { left: place(width, u), top: place(height, v) };
}

/** Something that reports problems that do not stop the run (unreadable images). */
export type WarningSink = (message: string, detail?: Record<string, unknown>) => void;

/** Options of {@link BatchLoader}. */
export interface LoaderOptions {
  /** Crop size (network input). */
  imageSize: number;
  /** Report of unreadable images (each path once). */
  onWarning?: WarningSink;
  /** The teacher's embedding of image `index` (mirrored or not), for distillation. */
  teacherEmbedding?: (index: number, mirrored: boolean) => Float32Array;
}

/**
 * Decodes and augments planned batches. An unreadable image is reported once and
 * replaced by the next readable image of the same class (deterministic), so one bad file
 * does not stop a long run; a class with no readable image does.
 */
export class BatchLoader {
  private readonly bad = new Set<number>();

  constructor(
    private readonly images: LabeledImages,
    private readonly classMembers: (label: number) => readonly number[],
    private readonly opts: LoaderOptions,
  ) {}

  private async decodeIndex(index: number, label: number) {
    // The image itself first, then the rest of its class in order (deterministic substitutes).
    const members = this.classMembers(label);
    const start = members.indexOf(index);
    const candidates =
      start < 0 ? [index] : Array.from(members, (_, t) => members[(start + t) % members.length]);
    let firstError: unknown;
    for (const i of candidates) {
      if (this.bad.has(i)) continue;
      try {
        return { index: i, image: await decodeImageFile(this.images.paths[i]) };
      } catch (e) {
        if (!(e instanceof ImageDecodeError || e instanceof FileNotFoundError)) throw e;
        firstError ??= e;
        this.bad.add(i);
        this.opts.onWarning?.(`skipping unreadable image: ${(e as Error).message}`, { path: this.images.paths[i] });
      }
    }
    if (firstError) throw firstError;
    throw new FacenetError('NO_IMAGES', `class ${this.images.classNames[label]} has no readable image`);
  }

  /** Decode and augment the images of `plan`. */
  async load(plan: BatchPlan): Promise<LoadedBatch> {
    const size = this.opts.imageSize;
    const per = size * size * 3;
    const out = new Float32Array(plan.indices.length * per);
    const decoded = await Promise.all(Array.from(plan.indices, (idx, j) => this.decodeIndex(idx, plan.labels[j])));
    decoded.forEach(({ image: img }, j) => {
      const a = plan.augment[j];
      const { left, top } = cropWindow(img.width, img.height, size, a ? a.u : -1, a ? a.v : -1);
      cropFlipStandardize(img, size, { left, top, flip: a ? a.flip : false }, out, j * per);
    });
    const batch: LoadedBatch = { plan, images: out, shape: [plan.indices.length, size, size, 3], labels: plan.labels };
    const teacher = this.opts.teacherEmbedding;
    if (teacher) {
      // The image actually loaded (a substitute when the planned one is unreadable), as augmented.
      const rows = decoded.map(({ index }, j) => teacher(index, plan.augment[j]?.flip ?? false));
      const d = rows[0]?.length ?? 0;
      batch.targets = new Float32Array(rows.length * d);
      rows.forEach((r, j) => batch.targets!.set(r, j * d));
    }
    return batch;
  }

  /** Load images `[start, end)` of the list centred and unflipped (validation). */
  async loadRange(start: number, end: number): Promise<LoadedBatch> {
    const indices = new Int32Array(end - start);
    for (let i = 0; i < indices.length; i++) indices[i] = start + i;
    const plan: BatchPlan = {
      step: -1,
      micro: 0,
      indices,
      labels: Int32Array.from(indices, (i) => this.images.labels[i]),
      augment: Array.from(indices, () => null),
    };
    return this.load(plan);
  }
}
