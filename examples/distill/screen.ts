/**
 * Keep the people of evaluation sets out of a distillation set whose photos carry no names:
 * every training image of the given folder prefixes whose teacher embedding lies nearer than
 * a screening distance to any photo of a reference set (LFW's chips, the held-out CelebA
 * people) is unlinked from the training tree. Names cannot be checked, so the distance decides:
 * it is set from the first reference set itself, at the squared distance that only a fraction
 * `--far` of its pairs of *different* people come closer than, and the report gives the share
 * of its pairs of the *same* person that do (how many of a person's photos such a screen
 * catches) and the share of unrelated images it is expected to catch (each is compared with
 * every reference photo: 1 − (1 − far)^photos). Teacher embeddings come from teacher caches
 * (teacher.ts) of each tree, all of one teacher.
 *
 *   node --import tsx examples/distill/screen.ts --tree TREE --cache TREE.cache \
 *     --prefixes utkface,aaf --reference LFW-CHIPS=LFW.cache [--reference DIR=FILE …] \
 *     [--far 1e-5] --report screen.json
 *
 * It only reports; `main.ts --exclude screen.json` leaves the caught images out of the trees
 * it makes.
 */
import '../../src/runtime/install-node.js';
import { parseArgs } from 'node:util';
import { relative, resolve } from 'node:path';
import { initBackend } from '../../src/runtime/backend.js';
import { readImageFolder } from '../../src/train/dataset.js';
import { readTeacherCache } from '../../src/train/teacher-cache.js';
import { writeFileAtomic } from '../../src/util/atomic.js';
import { nearestDistances, screeningDistance } from './screening.js';

const { values: args } = parseArgs({
  options: {
    tree: { type: 'string' },
    cache: { type: 'string' },
    prefixes: { type: 'string' },
    reference: { type: 'string', multiple: true },
    far: { type: 'string', default: '1e-5' },
    report: { type: 'string' },
  },
});
if (!args.tree || !args.cache || !args.prefixes || !args.reference?.length || !args.report) {
  throw new Error('usage: screen.ts --tree TREE --cache FILE --prefixes a,b --reference DIR=CACHE [...] [--far 1e-5] --report FILE');
}
const far = Number(args.far);
if (!(far >= 0 && far < 1)) throw new Error(`--far: a fraction in [0, 1), got ${args.far}`);
let teacher: { teacher: string; dimension: number } | undefined;

/** Unit embeddings (teacher, not mirrored) of every image of a tree, with its identity folder. */
async function embeddingsOf(tree: string, cachePath: string, keep: (identity: string) => boolean) {
  const cache = await readTeacherCache(cachePath);
  teacher ??= cache.header;
  if (cache.header.teacher !== teacher.teacher || cache.header.dimension !== teacher.dimension) {
    throw new Error(`${cachePath}: embeddings of another teacher (${cache.header.teacher}, ${cache.header.dimension}-d) than ${teacher.teacher}`);
  }
  const folder = await readImageFolder(resolve(tree));
  const keys: string[] = [];
  const identity: number[] = [];
  const rows: Float32Array[] = [];
  folder.classes.forEach((c, label) => {
    if (!keep(c.name)) return;
    for (const path of c.paths) {
      const key = relative(folder.root, path);
      const e = cache.get(key);
      if (!e) continue; // no face found when the teacher ran
      keys.push(key);
      identity.push(label);
      rows.push(e);
    }
  });
  const d = cache.header.dimension;
  const matrix = new Float32Array(rows.length * d);
  rows.forEach((r, i) => matrix.set(r, i * d));
  return { keys, identity, matrix, d, count: rows.length };
}

await initBackend();
const prefixes = args.prefixes.split(',');
const train = await embeddingsOf(args.tree, args.cache, (id) => prefixes.some((p) => id.startsWith(p)));
const references = [];
for (const spec of args.reference) {
  const at = spec.lastIndexOf('=');
  if (at <= 0) throw new Error(`--reference: DIR=CACHE, got ${spec}`);
  const [dir, cache] = [spec.slice(0, at), spec.slice(at + 1)];
  references.push({ dir, ...(await embeddingsOf(dir, cache, () => true)) });
}

// The screening distance from the first reference set: its different-person pairs' quantile.
const first = references[0];
const { threshold, impostorPairs, genuinePairs, genuineBelow } = await screeningDistance(first, far);
console.error(
  `screening distance ${threshold.toFixed(4)}: ${first.dir}'s different-person pairs nearer: at most ${far} of ${impostorPairs}; same-person pairs nearer: ${genuineBelow.toFixed(3)} of ${genuinePairs}`,
);

// Each training image's nearest reference photo, over all reference sets.
const nearest = new Float32Array(train.count).fill(Infinity);
const nearestSet = new Array<string>(train.count).fill('');
for (const ref of references) {
  const mine = await nearestDistances(train, ref);
  mine.forEach((m, i) => {
    if (m < nearest[i]) {
      nearest[i] = m;
      nearestSet[i] = ref.dir;
    }
  });
}
const photos = references.reduce((n, r) => n + r.count, 0);
const unrelatedCaught = 1 - (1 - far) ** photos;
const caught = [...nearest.keys()].filter((i) => nearest[i] < threshold);
const bySet = Object.fromEntries(references.map((r) => [r.dir, caught.filter((i) => nearestSet[i] === r.dir).length]));
const sorted = Float32Array.from(nearest).sort();
const q = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))].toFixed(3) : 'n/a');
console.error(
  `${train.count} training images of ${prefixes.join(', ')} against ${photos} reference photos: nearest at quantiles 1% ${q(0.01)}, 10% ${q(0.1)}, 50% ${q(0.5)}; ${caught.length} nearer than ${threshold.toFixed(4)} (${JSON.stringify(bySet)}); an unrelated image is caught with probability ≈ ${unrelatedCaught.toFixed(3)}`,
);
await writeFileAtomic(
  args.report,
  JSON.stringify(
    {
      far,
      threshold,
      genuineBelow,
      referencePhotos: photos,
      unrelatedCaught,
      screened: train.count,
      caught: caught.map((i) => ({ key: train.keys[i], distance: nearest[i], set: nearestSet[i] })),
    },
    null,
    1,
  ),
);
