/**
 * Folder-per-identity datasets: `root/<identity>/<image>` (the layout `tfjs-facenet align`
 * writes and CASIA-WebFace / VGGFace2 / LFW use), read into paths, labels and class names,
 * and split into training and validation parts the way davidsandberg/facenet
 * `split_dataset(..., mode='SPLIT_IMAGES')` does. Node only.
 */
import * as nodePath from 'node:path';
import * as nodeCrypto from 'node:crypto';
import { ConfigError } from '../errors.js';
import { listIdentityFolders } from '../datasets/folders.js';
import { Rng } from './rng.js';

/** One identity: its folder name and its image paths (sorted). */
export interface ImageClass {
  name: string;
  paths: string[];
}

/** A folder-per-identity tree as read from disk. */
export interface ImageFolder {
  root: string;
  /** Identities sorted by folder name (code-point order), each with sorted image paths. */
  classes: ImageClass[];
}

/** Images with integer labels; `classNames[label]` names a label. */
export interface LabeledImages {
  paths: string[];
  labels: Int32Array;
  classNames: string[];
}

/**
 * Read `root`: every sub-folder is an identity, every image file in it (non-recursive,
 * by extension) an example. Hidden entries are skipped. Folders without images are kept
 * (with no paths) so that the caller can report them.
 * @throws {FileNotFoundError} when `root` does not exist; {ConfigError} when it has no sub-folders.
 */
export async function readImageFolder(root: string): Promise<ImageFolder> {
  const { classes } = await listIdentityFolders(root);
  if (classes.length === 0) {
    throw new ConfigError('dataDir', `${root} has no identity sub-folders (expected root/<identity>/<image>)`);
  }
  return { root, classes: classes.map((c) => ({ name: c.name, paths: c.images })) };
}

/** Options of {@link splitDataset}. */
export interface SplitOptions {
  /** Fraction of each class held out for validation, in [0, 1). 0 = no validation set. */
  validationSplit: number;
  /** A class is used only if at least this many images stay for training. Default 0. */
  minImagesPerClass?: number;
  /** Seed of the per-class shuffles. */
  seed: number;
}

/** The result of {@link splitDataset}. */
export interface DatasetSplit {
  train: LabeledImages;
  validation: LabeledImages;
  /** Classes left out, with the reason. */
  dropped: { name: string; reason: string }[];
}

function flatten(classes: ImageClass[]): LabeledImages {
  const paths: string[] = [];
  const labels: number[] = [];
  classes.forEach((c, i) => {
    for (const p of c.paths) {
      paths.push(p);
      labels.push(i);
    }
  });
  return { paths, labels: Int32Array.from(labels), classNames: classes.map((c) => c.name) };
}

/**
 * Split every class's images into training and validation parts (the reference's
 * `SPLIT_IMAGES`): the images of a class are shuffled (seeded), the first
 * ⌊n·(1 − split)⌋ train (at most n − 1, so every class validates on ≥ 1 image) and the rest
 * validate. A class is dropped when fewer than `minImagesPerClass` (or no) images would
 * train. Labels are re-numbered over the kept classes, in folder order, and are the same
 * in both parts. With split 0 every non-empty class trains on all its images.
 */
export function splitDataset(folder: ImageFolder, opts: SplitOptions): DatasetSplit {
  const { validationSplit: r, minImagesPerClass = 0, seed } = opts;
  if (!(r >= 0 && r < 1)) throw new ConfigError('validationSplit', `must be in [0, 1), got ${r}`);
  const train: ImageClass[] = [];
  const val: ImageClass[] = [];
  const dropped: DatasetSplit['dropped'] = [];
  for (const c of folder.classes) {
    const n = c.paths.length;
    if (n === 0) {
      dropped.push({ name: c.name, reason: 'no images' });
      continue;
    }
    if (r === 0) {
      if (n < minImagesPerClass) {
        dropped.push({ name: c.name, reason: `${n} images, fewer than minImagesPerClass ${minImagesPerClass}` });
        continue;
      }
      train.push(c);
      val.push({ name: c.name, paths: [] });
      continue;
    }
    const shuffled = Rng.derive(seed, 'split', c.name).shuffle(c.paths.slice()) as string[];
    let split = Math.floor(n * (1 - r));
    if (split === n) split = n - 1;
    if (split < 1 || split < minImagesPerClass) {
      dropped.push({
        name: c.name,
        reason: `${n} image(s) leave ${split} for training (need ≥ ${Math.max(1, minImagesPerClass)})`,
      });
      continue;
    }
    train.push({ name: c.name, paths: shuffled.slice(0, split) });
    val.push({ name: c.name, paths: shuffled.slice(split) });
  }
  if (train.length === 0) {
    throw new ConfigError('dataDir', `${folder.root}: no class has images left for training`);
  }
  return { train: flatten(train), validation: flatten(val), dropped };
}

/**
 * A fingerprint of a labeled image list (relative paths and labels): a resumed run
 * checks that it sees the same data in the same split.
 */
export function datasetFingerprint(images: LabeledImages, root: string): string {
  const h = nodeCrypto.createHash('sha256');
  h.update(images.classNames.join('\n'));
  h.update('\0');
  images.paths.forEach((p, i) => {
    h.update(nodePath.relative(root, p));
    h.update(`\t${images.labels[i]}\n`);
  });
  return h.digest('hex').slice(0, 32);
}
