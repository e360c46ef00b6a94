/**
 * Morphs of two training chips, for teaching the student on faces no photo shows.
 *
 * Views (views.ts) move and recolour a chip but keep its person; the students stayed far better
 * on the people they were taught than on new ones, and what helped was more distinct people
 * (BENCHMARKS.md, "A student taught on more people"). Chips are aligned — both eyes, the nose
 * and the mouth sit at the same pixels in every one — so a weighted average of two chips of
 * different people is a face-like picture of neither, and the teacher's embedding of that
 * picture is a target like any other: the student is taught the teacher's answer on the very
 * pixels it is shown.
 *
 * Mixes are deterministic: mix `i` depends only on (seed, i) and the sorted list of chips, so
 * an interrupted stage resumes and a rerun writes the same pixels. The seed is part of every
 * mix's folder name, so mixes of two seeds never stand in for each other; the list of chips is
 * recorded beside the mixes (`chips.sha256`), and mixes of another list are refused rather than
 * mixed with new ones.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { decodeImageFile, encodeImage } from '../../src/image/decode-node.js';
import { readImageFolder } from '../../src/train/dataset.js';
import { Rng } from '../../src/train/rng.js';
import { writeFileAtomic } from '../../src/util/atomic.js';

/** The range a mix's weight on its first chip is drawn from (uniform). */
export const MIX_WEIGHT_RANGE = [0.3, 0.7] as const;

/** How one mix is made: `weight·a + (1 − weight)·b`, `b` mirrored left–right first when `mirrorB`. */
export interface MixParameters {
  /** Relative paths (`identity/file`) of the two chips; their identity folders differ. */
  a: string;
  b: string;
  weight: number;
  mirrorB: boolean;
}

const folderOf = (key: string) => key.slice(0, key.indexOf('/'));

/**
 * The chips mixes are drawn from: the relative paths (`identity/file`) of every image of the
 * folder-per-identity tree `tree`, sorted — the one list both writing mixes and reading them
 * back must share, since a mix's parents are picked by position in it.
 */
export async function mixSourceKeys(tree: string): Promise<string[]> {
  const folder = await readImageFolder(tree);
  return folder.classes.flatMap((c) => c.paths.map((p) => relative(folder.root, p))).sort();
}

/**
 * The parameters of mix `index` of `seed` over `keys` (relative paths `identity/file` of a
 * folder-per-identity tree, sorted). Needs chips of at least two identities.
 */
export function mixParameters(seed: number, keys: readonly string[], index: number): MixParameters {
  const rng = Rng.derive(seed, 'mix', index);
  const a = keys[rng.int(keys.length)];
  // Redraw b until it is someone else; a tree of one identity has no mix to make.
  if (keys.every((k) => folderOf(k) === folderOf(a))) throw new Error('mixParameters: keys: chips of two identities at least are needed');
  let b = keys[rng.int(keys.length)];
  while (folderOf(b) === folderOf(a)) b = keys[rng.int(keys.length)];
  const [lo, hi] = MIX_WEIGHT_RANGE;
  return { a, b, weight: lo + (hi - lo) * rng.next(), mirrorB: rng.next() < 0.5 };
}

/** Where mix `index` of `seed` is written: `mix-s<seed>-<group>/<index>.png`, 200 to a folder. */
export function mixKey(seed: number, index: number): string {
  return `mix-s${seed}-${String(Math.floor(index / 200)).padStart(4, '0')}/${String(index).padStart(6, '0')}.png`;
}

/**
 * The mix of two RGB pictures of the same size (`height·width·3` bytes, row-major): the
 * weighted mean of each value, rounded, with `b` mirrored left–right first when asked.
 */
export function blendPictures(a: Uint8Array | Uint8ClampedArray, b: Uint8Array | Uint8ClampedArray, width: number, height: number, weight: number, mirrorB: boolean): Uint8Array {
  if (a.length !== width * height * 3 || b.length !== a.length) throw new Error(`blendPictures: pictures of ${width}×${height}×3 values expected, got ${a.length} and ${b.length}`);
  const out = new Uint8Array(a.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 3;
      const q = (y * width + (mirrorB ? width - 1 - x : x)) * 3;
      for (let c = 0; c < 3; c++) out[p + c] = Math.round(weight * a[p + c] + (1 - weight) * b[q + c]);
    }
  }
  return out;
}

/** Which mixes {@link writeMixes} makes. */
export interface MixesOptions {
  /** Mixes 0 … count − 1. */
  count: number;
  seed: number;
  /** `[i, n]`: only the mixes whose index is i modulo n, for n processes side by side (default [0, 1]). */
  shard?: [number, number];
  onProgress?: (done: number, total: number) => void;
}

/**
 * Write the mixes of the chips of `input` (a folder-per-identity tree of equal-sized RGB chips;
 * `keys` its {@link mixSourceKeys}) into `output`. Resumable: mixes already written are kept.
 * @returns how many mixes were written.
 */
export async function writeMixes(input: string, keys: readonly string[], output: string, { count, seed, shard = [0, 1], onProgress }: MixesOptions): Promise<number> {
  const digest = createHash('sha256').update(keys.join('\n')).digest('hex');
  const recorded = join(output, 'chips.sha256');
  const found = await readFile(recorded, 'utf8').catch(() => undefined);
  if (found === undefined) await writeFileAtomic(recorded, digest);
  else if (found !== digest) throw new Error(`writeMixes: ${output} holds mixes of another list of chips (${recorded}); remove that folder or write elsewhere`);
  let written = 0;
  for (let i = shard[0]; i < count; i += shard[1]) {
    const target = join(output, mixKey(seed, i));
    if (!existsSync(target)) {
      const m = mixParameters(seed, keys, i);
      const [a, b] = await Promise.all([decodeImageFile(join(input, m.a)), decodeImageFile(join(input, m.b))]);
      if (a.width !== b.width || a.height !== b.height) throw new Error(`writeMixes: ${m.a} is ${a.width}×${a.height}, ${m.b} is ${b.width}×${b.height}: chips of one size expected`);
      const data = blendPictures(a.data, b.data, a.width, a.height, m.weight, m.mirrorB);
      await writeFileAtomic(target, await encodeImage({ data, width: a.width, height: a.height, channels: 3 }, 'png'));
      written++;
    }
    onProgress?.(i + 1, count);
  }
  return written;
}
