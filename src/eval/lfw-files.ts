/**
 * LFW pairs on disk (Node only): read `pairs.txt`, map pairs to image files and report
 * the files that are missing.
 */
import * as fsp from 'node:fs/promises';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { FileNotFoundError } from '../errors.js';
import { parseLfwPairs, lfwImageRelativePath, type LfwImageRef, type LfwPair, type LfwPairs } from './lfw-pairs.js';

/** Read and parse an LFW `pairs.txt`. @throws {FileNotFoundError} @throws {DataFormatError} */
export async function readLfwPairs(path: string): Promise<LfwPairs> {
  let text: string;
  try {
    text = await fsp.readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new FileNotFoundError(path, 'LFW pairs file');
    throw e;
  }
  return parseLfwPairs(text, path);
}

/** A pair whose two images were found, with indices into {@link ResolvedLfwPairs.images}. */
export interface ResolvedLfwPair extends LfwPair {
  image1: number;
  image2: number;
}

/** Result of {@link resolveLfwPairs}. */
export interface ResolvedLfwPairs {
  /** Unique image paths used by the kept pairs, each once (LFW pairs share images). */
  images: string[];
  /** Pairs whose two images exist, in file order. */
  pairs: ResolvedLfwPair[];
  /** Pairs left out because an image is missing (the reference skips them too). */
  skipped: LfwPair[];
  /** Every missing image path (each once). */
  missing: string[];
}

/**
 * Find the image files of every pair under `lfwDir` (`<Name>/<Name>_NNNN.jpg`, or `.png`
 * as the reference's `add_extension` also accepts). Pairs with a missing image are
 * skipped and reported — as davidsandberg/facenet `lfw.get_paths` does — so that the
 * caller can decide whether to go on.
 * @throws {FileNotFoundError} when `lfwDir` is not a folder.
 */
export function resolveLfwPairs(pairs: LfwPairs | LfwPair[], lfwDir: string): ResolvedLfwPairs {
  // A mistyped folder would otherwise show up as every pair "missing", far from its cause.
  if (!fs.statSync(lfwDir, { throwIfNoEntry: false })?.isDirectory()) throw new FileNotFoundError(lfwDir, 'LFW image folder');
  const list = Array.isArray(pairs) ? pairs : pairs.pairs;
  const images: string[] = [];
  const imageIndex = new Map<string, number>();
  const found = new Map<string, string | null>();
  const missing: string[] = [];
  const locate = (ref: LfwImageRef): string | null => {
    const key = `${ref.name}\u0000${ref.index}`;
    const hit = found.get(key);
    if (hit !== undefined) return hit;
    let path: string | null = null;
    for (const ext of ['jpg', 'png']) {
      const p = nodePath.join(lfwDir, lfwImageRelativePath(ref, ext));
      if (fs.existsSync(p)) {
        path = p;
        break;
      }
    }
    if (path === null) missing.push(nodePath.join(lfwDir, lfwImageRelativePath(ref, 'jpg')));
    found.set(key, path);
    return path;
  };
  const indexOf = (p: string): number => {
    let i = imageIndex.get(p);
    if (i === undefined) {
      i = images.length;
      images.push(p);
      imageIndex.set(p, i);
    }
    return i;
  };
  const kept: ResolvedLfwPair[] = [];
  const skipped: LfwPair[] = [];
  for (const pair of list) {
    const p1 = locate(pair.first);
    const p2 = locate(pair.second);
    if (p1 === null || p2 === null) {
      skipped.push(pair);
      continue;
    }
    kept.push({ ...pair, image1: indexOf(p1), image2: indexOf(p2) });
  }
  return { images, pairs: kept, skipped, missing };
}
