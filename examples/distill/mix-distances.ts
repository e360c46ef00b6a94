/**
 * How far the teacher puts each mix from its two parents: squared distances of unit embeddings
 * from a teacher cache that holds the chips and their mixes, set against the teacher's
 * verification threshold (its `calibration.json`). A mix farther than the threshold from both
 * parents is, to the teacher, somebody else.
 *
 *   node --import tsx examples/distill/mix-distances.ts --chips TRAIN150 --cache TEACHER.cache
 *        [--teacher models/dlib] [--seed 1] [--count 3000]
 */
import '../../src/runtime/install-node.js';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readTeacherCache } from '../../src/train/teacher-cache.js';
import { mixKey, mixParameters, mixSourceKeys } from './mixes.js';

const { values: args } = parseArgs({
  options: {
    chips: { type: 'string' },
    cache: { type: 'string' },
    teacher: { type: 'string', default: 'models/dlib' },
    seed: { type: 'string', default: '1' },
    count: { type: 'string', default: '3000' },
  },
});
if (!args.chips || !args.cache) throw new Error('usage: mix-distances.ts --chips TREE --cache FILE [--teacher DIR] [--seed 1] [--count 3000]');
const seed = Number(args.seed);
const count = Number(args.count);
const threshold = (JSON.parse(await readFile(resolve(args.teacher, 'calibration.json'), 'utf8')) as { threshold: number }).threshold;

const keys = await mixSourceKeys(resolve(args.chips));
const cache = await readTeacherCache(resolve(args.cache));
const embedding = (key: string, mirrored = false) => {
  const e = cache.get(key, mirrored);
  if (!e) throw new Error(`${args.cache}: no teacher embedding of ${key}${mirrored ? ' (mirrored)' : ''}`);
  return e;
};
const squared = (x: Float32Array, y: Float32Array) => x.reduce((s, v, i) => s + (v - y[i]) ** 2, 0);

const rows = Array.from({ length: count }, (_, i) => {
  const m = mixParameters(seed, keys, i);
  const mix = embedding(mixKey(seed, i));
  const a = embedding(m.a);
  const b = embedding(m.b, m.mirrorB);
  return { weight: m.weight, toA: squared(mix, a), toB: squared(mix, b), parents: squared(a, b) };
});
const quantile = (xs: number[], p: number) => xs.slice().sort((x, y) => x - y)[Math.floor(p * (xs.length - 1))];
const f3 = (x: number) => x.toFixed(3);
const nearer = rows.map((r) => Math.min(r.toA, r.toB));
console.log(`${count} mixes of seed ${seed}; teacher threshold ${threshold} (squared distance)`);
console.log(`between the two parents: median ${f3(quantile(rows.map((r) => r.parents), 0.5))}`);
console.log(`mix to its nearer parent: median ${f3(quantile(nearer, 0.5))} (10 % ${f3(quantile(nearer, 0.1))}, 90 % ${f3(quantile(nearer, 0.9))})`);
console.log(`farther than the threshold from both parents: ${f3(nearer.filter((d) => d > threshold).length / count)}`);
for (const [lo, hi] of [[0.3, 0.4], [0.4, 0.6], [0.6, 0.7]]) {
  const s = rows.filter((r) => r.weight >= lo && r.weight < hi);
  console.log(`weight on a in [${lo}, ${hi}) (${s.length}): to a ${f3(quantile(s.map((r) => r.toA), 0.5))}, to b ${f3(quantile(s.map((r) => r.toB), 0.5))} (medians)`);
}
