/**
 * The benchmark images, decoded to RGB bytes before anything is timed: LFW images picked
 * evenly from the sorted list of every file, and the group photos (samples/groups). Shared by
 * bench:detect and bench:pipeline so that both measure the same pictures.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { sharedPath } from '../src/util/shared-data.js';

/** A decoded image: 8-bit RGB, row-major. `name` is its path below the data folder. */
export interface Rgb {
  name: string;
  data: Uint8Array;
  width: number;
  height: number;
}

/** Decode a sharp pipeline to RGB bytes. */
export async function toRgb(name: string, img: Sharp): Promise<Rgb> {
  const { data, info } = await img.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { name, data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

/** `count` of `all` spread evenly: the middle element of each of `count` equal runs. */
export function pickEvenly<T>(all: readonly T[], count: number): T[] {
  const n = Math.min(count, all.length);
  return Array.from({ length: n }, (_, i) => all[Math.floor(((i + 0.5) * all.length) / n)]);
}

/**
 * `count` JPEG files of a folder-per-person data set (`data/lfw`, `data/celeba-faces`, …)
 * spread evenly over the sorted list of all its files, as paths below that folder.
 */
export async function peopleFiles(dataSet: string, count: number): Promise<string[]> {
  const dir = sharedPath('data', dataSet);
  const people = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  const all: string[] = [];
  for (const p of people) {
    for (const f of (await readdir(join(dir, p))).filter((f) => /\.jpe?g$/i.test(f)).sort()) all.push(join(p, f));
  }
  return pickEvenly(all, count);
}

/** `count` LFW images spread evenly over the sorted list of every LFW file. */
export async function lfwImages(count: number): Promise<Rgb[]> {
  const dir = sharedPath('data', 'lfw');
  return Promise.all((await peopleFiles('lfw', count)).map((p) => toRgb(p, sharp(join(dir, p)))));
}

/** The group photos (samples/groups/bbt1…5.jpg, sorted), each passed through `shape` before decoding. */
export async function groupPhotos(shape: (img: Sharp) => Sharp = (img) => img): Promise<Rgb[]> {
  const dir = sharedPath('data', 'samples', 'groups');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.jpg')).sort();
  return Promise.all(files.map((f) => toRgb(f, shape(sharp(join(dir, f))))));
}
