/**
 * How well a student reproduces its teacher on faces it was taught with and on faces it
 * never saw: the mean embedding loss (1 − cosine between the student's embedding and the
 * teacher's, centred on the training chips' mean teacher embedding and renormalised — the
 * target `centerTeacherEmbeddings` trains towards) over an evenly spaced sample of each set
 * of 150-px dlib chips. A loss much lower on the training chips than on the others means the
 * student learned those chips rather than the teacher: it needs more teacher-labelled images.
 *
 *   node --import tsx examples/distill/gap.ts --student DIR --set train=DIR --set lfw=DIR …
 *        [--teacher dlib] [--per-set 400] [--exclude bench/celeba-holdout.txt]
 *
 * The first `--set` gives the centring mean. Identities listed in `--exclude` are left out of
 * sets named `train*` and are the only ones kept in sets named `unseen*`.
 */
import { parseArgs } from 'node:util';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '../../src/runtime/install-node.js';
import { initBackend } from '../../src/runtime/backend.js';
import { loadEmbedder } from '../../src/recognition/models.js';
import { loadAlignedFaces } from '../../src/recognition/embedder.js';
import { readImageFolder } from '../../src/train/dataset.js';

const { values: args } = parseArgs({
  options: {
    student: { type: 'string' },
    teacher: { type: 'string', default: 'dlib' },
    set: { type: 'string', multiple: true },
    'per-set': { type: 'string', default: '400' },
    exclude: { type: 'string', default: 'bench/celeba-holdout.txt' },
  },
});
if (!args.student || !args.set?.length) throw new Error('usage: gap.ts --student DIR --set NAME=DIR [--set NAME=DIR …]');
const perSet = Number(args['per-set']);
const excluded = new Set((await readFile(resolve(args.exclude), 'utf8')).split('\n').filter((l) => l && !l.startsWith('#')));

await initBackend();
/** A model (a shipped name or a folder) as an embedding function of chip files: the network alone, no mirror image. */
async function embedderOf(source: string) {
  const embedder = await loadEmbedder(source);
  return {
    embedder,
    async embedFiles(paths: string[]): Promise<Float32Array[]> {
      const out: Float32Array[] = [];
      for (let i = 0; i < paths.length; i += 16) {
        const faces = await loadAlignedFaces(paths.slice(i, i + 16), embedder.preprocessing.imageSize);
        try {
          out.push(...(await embedder.embedCropsRaw(faces)));
        } finally {
          faces.dispose();
        }
      }
      return out;
    },
  };
}

const teacher = await embedderOf(args.teacher);
const student = await embedderOf(args.student);
let mean: Float32Array | null = null;
for (const spec of args.set) {
  const [name, dir] = spec.split('=');
  const folder = await readImageFolder(resolve(dir));
  const keep = (id: string) => (name.startsWith('train') ? !excluded.has(id) : name.startsWith('unseen') ? excluded.has(id) : true);
  const all = folder.classes.filter((c) => keep(c.name)).flatMap((c) => c.paths);
  const paths = Array.from({ length: Math.min(perSet, all.length) }, (_, i) => all[Math.floor((i * all.length) / Math.min(perSet, all.length))]);
  const targets = await teacher.embedFiles(paths);
  const predictions = await student.embedFiles(paths);
  if (!mean) {
    mean = new Float32Array(targets[0].length);
    for (const t of targets) t.forEach((v, j) => (mean![j] += v / targets.length));
  }
  let loss = 0;
  targets.forEach((t, i) => {
    const centred = t.map((v, j) => v - mean![j]);
    const norm = Math.hypot(...centred);
    loss += 1 - predictions[i].reduce((s, v, j) => s + (v * centred[j]) / norm, 0);
  });
  console.log(`${name.padEnd(12)} ${paths.length} chips  embedding loss ${(loss / paths.length).toFixed(4)}`);
}
teacher.embedder.dispose();
student.embedder.dispose();
console.log(`tensors left: ${tf.memory().numTensors}`);
