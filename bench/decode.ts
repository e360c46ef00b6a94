/**
 * Decoding image files: the library's `decodeImageBytes` (small plain JPEG files in
 * WebAssembly, the rest by sharp) against sharp alone (the baseline), CPU milliseconds per file
 * of the whole process, on the same bytes read before anything is timed.
 *
 *   npm run bench:decode -- [--files 300] [--rounds 4] [--json out.json]
 *
 * Sets: LFW (250 × 250), CelebA photos (unaligned, most near 213 × 320), CelebA face crops
 * (112 × 112), and the group photos (594 × 383 to 1366 × 768, which stay with sharp). Each
 * round times the baseline and the library alternately (A B, then B A), so drift falls on both;
 * the ratio is the median of the rounds' ratios. The decoded bytes are compared as well.
 */
import { Command } from 'commander';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import '../src/runtime/install-node.js';
import { decodeImageBytes, decodeWithSharp, MAX_DECODE_PIXELS } from '../src/image/decode-node.js';
import { sharedPath } from '../src/util/shared-data.js';
import { peopleFiles } from './bench-images.js';
import { median } from './stats.js';

const o = new Command('bench:decode')
  .option('--files <n>', 'files per folder-per-person set', '300')
  .option('--rounds <n>', 'rounds of baseline and library, alternating', '4')
  .option('--json <file>', 'also write the results as JSON')
  .parse()
  .opts<{ files: string; rounds: string; json?: string }>();
const count = Number(o.files);
const rounds = Number(o.rounds);

type Decode = (bytes: Uint8Array, label: string) => Promise<{ data: ArrayBufferView }>;
const sharpOnly: Decode = (bytes, label) => decodeWithSharp(bytes, label, MAX_DECODE_PIXELS);
const library: Decode = (bytes, label) => decodeImageBytes(bytes, label);

async function readSet(dataSet: string): Promise<Uint8Array[]> {
  return Promise.all((await peopleFiles(dataSet, count)).map((p) => readFile(sharedPath('data', dataSet, p))));
}
async function groupFiles(): Promise<Uint8Array[]> {
  const dir = sharedPath('data', 'samples', 'groups');
  const names = (await readdir(dir)).filter((f) => f.endsWith('.jpg')).sort();
  // Fewer files, each decoded several times, for a comparable amount of work.
  const files = await Promise.all(names.map((f) => readFile(join(dir, f))));
  return Array.from({ length: 10 }, () => files).flat();
}

/**
 * CPU ms per file of decoding all of `files` with `decode`. The garbage of the block before is
 * collected first (with `--expose-gc`, as `npm run bench:decode` runs it), so that neither
 * way pays for the other's.
 */
async function cpuPerFile(decode: Decode, files: Uint8Array[]): Promise<number> {
  (globalThis as { gc?: () => void }).gc?.();
  const start = process.cpuUsage();
  for (const bytes of files) await decode(bytes, 'bench');
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / files.length;
}

const bytesOf = (v: ArrayBufferView) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

const sets: [string, Uint8Array[]][] = [
  ['LFW (250×250)', await readSet('lfw')],
  ['CelebA photos', await readSet('celeba')],
  ['CelebA face crops (112×112)', await readSet('celeba-faces')],
  ['group photos (sharp either way)', await groupFiles()],
];

console.log(`bench:decode — ${count} files per set, ${rounds} rounds, CPU ms per file (all threads)\n`);
console.log('| files | sharp alone (ms) | decodeImageBytes (ms) | ratio, median of rounds (range) | same bytes |');
console.log('|---|---:|---:|---:|---:|');
const results = [];
for (const [name, files] of sets) {
  // One untimed pass of each: loads sharp and the WebAssembly codec, warms both.
  for (const d of [sharpOnly, library]) await cpuPerFile(d, files.slice(0, 20));
  const base: number[] = [];
  const ours: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? [sharpOnly, library] : [library, sharpOnly];
    for (const d of order) (d === sharpOnly ? base : ours).push(await cpuPerFile(d, files));
  }
  let same = 0;
  for (const bytes of files) {
    const [a, b] = [await sharpOnly(bytes, 'x'), await library(bytes, 'x')];
    if (Buffer.compare(bytesOf(a.data), bytesOf(b.data)) === 0) same++;
  }
  const ratios = ours.map((v, i) => v / base[i]!);
  const row = { name, files: files.length, sharp: median(base), library: median(ours), ratio: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios), same };
  results.push(row);
  console.log(`| ${name} | ${row.sharp.toFixed(3)} | ${row.library.toFixed(3)} | ×${row.ratio.toFixed(2)} (×${row.min.toFixed(2)}–×${row.max.toFixed(2)}) | ${same}/${files.length} |`);
}
if (o.json) {
  await mkdir(dirname(o.json), { recursive: true });
  await writeFile(o.json, JSON.stringify({ command: process.argv.slice(2), date: new Date().toISOString(), results }, null, 2));
}
