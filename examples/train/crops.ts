/**
 * Data preparation around the aligner: a small subset of a dataset (for smoke runs), and
 * the aligned crops rescaled for a network input smaller (or larger) than the reference's.
 *
 * The reference aligns at 182 px and trains on random 160 px crops of them, so the network
 * sees 160/182 of the aligned face. For an input of `s` pixels the same face area is a
 * random `s` crop of the aligned thumbnail scaled to round(s · 182 / 160) pixels.
 */
import { existsSync } from 'node:fs';
import { mkdir, readlink, symlink } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import sharp from 'sharp';
import { ConfigError, listDataset } from 'tfjs-facenet/node';
import { writeFileAtomic } from '../common/files.js';

/** The reference's network input (its random crops of the aligned thumbnails). */
export const REFERENCE_INPUT_SIZE = 160;

/**
 * Side of the thumbnails to train an `imageSize` network on, so that its random crop covers
 * the share of the face that 160 of `alignSize` (182) covers in the reference.
 */
export function trainingCropSize(imageSize: number, alignSize = 182): number {
  return Math.round((imageSize * alignSize) / REFERENCE_INPUT_SIZE);
}

/** What {@link makeSubset} picked. */
export interface SubsetSummary {
  identities: string[];
  images: number;
}

/**
 * A dataset of the first `identities` identity folders (by name) that have at least
 * `perIdentity` images, with their first `perIdentity` images, as symbolic links under
 * `output` (no copies). Idempotent: links already there are kept.
 * @throws {ConfigError} when the input has too few such identities.
 */
export async function makeSubset(input: string, output: string, identities: number, perIdentity: number): Promise<SubsetSummary> {
  const { classes } = await listDataset(input);
  const chosen = classes.filter((c) => c.images.length >= perIdentity).slice(0, identities);
  if (chosen.length < identities) {
    throw new ConfigError('--subset', `${input} has only ${chosen.length} identities with ≥ ${perIdentity} images, ${identities} asked`);
  }
  let images = 0;
  for (const c of chosen) {
    const dir = join(output, c.name);
    await mkdir(dir, { recursive: true });
    for (const file of c.images.slice(0, perIdentity)) {
      const link = join(dir, basename(file));
      if (existsSync(link)) {
        // A link left by an earlier run must point at the same file.
        if (resolve(dir, await readlink(link)) !== resolve(file)) {
          throw new ConfigError('--subset', `${link} exists and is not a link to ${file}; remove ${output}`);
        }
      } else {
        await symlink(relative(dir, file), link);
      }
      images++;
    }
  }
  return { identities: chosen.map((c) => c.name), images };
}

/** Options of {@link resizeCrops}. */
export interface ResizeCropsOptions {
  /** Folder-per-identity tree of aligned thumbnails. */
  input: string;
  /** Where the rescaled tree goes (same identity folders and file names, PNG). */
  output: string;
  /** Side of the output squares in pixels. */
  size: number;
  /** Called after each image. */
  onProgress?: (done: number, total: number) => void;
}

/** What {@link resizeCrops} did. */
export interface ResizeCropsSummary {
  total: number;
  resized: number;
  /** Already present from an earlier run. */
  skipped: number;
  failed: { file: string; error: string }[];
}

/**
 * Rescale every thumbnail of `input` to `size`×`size` (Lanczos) into `output`. Resumable:
 * outputs are written atomically, so an existing file is complete and is skipped. An
 * unreadable image is reported and the others go on.
 */
export async function resizeCrops(opts: ResizeCropsOptions): Promise<ResizeCropsSummary> {
  if (!(Number.isInteger(opts.size) && opts.size >= 1)) throw new ConfigError('size', `must be a positive integer, got ${opts.size}`);
  const { classes } = await listDataset(opts.input);
  const total = classes.reduce((n, c) => n + c.images.length, 0);
  const summary: ResizeCropsSummary = { total, resized: 0, skipped: 0, failed: [] };
  let done = 0;
  for (const c of classes) {
    const dir = join(opts.output, c.name);
    await mkdir(dir, { recursive: true });
    for (const file of c.images) {
      const target = join(dir, basename(file).replace(/\.[^.]+$/, '.png'));
      if (existsSync(target)) {
        summary.skipped++;
      } else {
        try {
          const png = await sharp(file).removeAlpha().resize(opts.size, opts.size, { fit: 'fill', kernel: 'lanczos3' }).png().toBuffer();
          await writeFileAtomic(target, png);
          summary.resized++;
        } catch (e) {
          summary.failed.push({ file, error: (e as Error).message });
        }
      }
      opts.onProgress?.(++done, total);
    }
  }
  return summary;
}
