/**
 * The demo, counted: the seven sample people are enrolled (all their portraits) and every
 * box MTCNN finds in the group photos bbt1…bbt5 is named or called unknown with the model's
 * own threshold (or --threshold) and detection-score floor; each box is compared with
 * bench/groups-truth.json (matched by overlap, IoU ≥ 0.5).
 *
 *   npm run bench:groups -- [--models default,dlib] [--json out/bench-groups.json]
 *        [--aggregation nearest|mean] [--threshold T] [--miss-padding F]
 */
import { Command } from 'commander';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import '../src/runtime/install-node.js';
import { initBackend } from '../src/runtime/backend.js';
import { FaceRecognizer } from '../src/recognition/recognizer.js';
import { sharedPath } from '../src/util/shared-data.js';
import type { Box } from '../src/face/types.js';
import { boxIou } from '../src/recognition/face-tracks.js';
import { NoFaceError } from '../src/errors.js';
import type { Aggregation } from '../src/gallery/gallery.js';

const program = new Command('bench:groups')
  .option('--models <list>', 'shipped model names or model directories', 'default,dlib')
  .option('--miss-padding <f>', "MTCNN's missPadding for enrolment and the group photos (a border for images without a face)", '0')
  .option('--aggregation <a>', "how a face is compared with an enrolled person: 'nearest' photo or 'mean' of them", 'nearest')
  .option('--threshold <t>', "instead of the model's own threshold")
  .option('--json <file>', 'write the results as JSON')
  .parse();
const o = program.opts<{ models: string; missPadding: string; aggregation: string; threshold?: string; json?: string }>();
if (o.aggregation !== 'nearest' && o.aggregation !== 'mean') throw new Error(`--aggregation: nearest or mean, got ${o.aggregation}`);
if (o.threshold !== undefined && !(Number(o.threshold) > 0 && Number.isFinite(Number(o.threshold)))) throw new Error(`--threshold: a positive number, got ${o.threshold}`);
const matchOptions = { aggregation: o.aggregation as Aggregation, ...(o.threshold ? { threshold: Number(o.threshold) } : {}) };

interface Truth { box: Box; name: string | null }
const truth = JSON.parse(await readFile(resolve(import.meta.dirname, 'groups-truth.json'), 'utf8')) as { images: Record<string, Truth[]> };

await initBackend();
const peopleDir = sharedPath('data', 'samples', 'people');
const people = (await readdir(peopleDir)).sort();
const results = [];
for (const model of o.models.split(',')) {
  const rec = await FaceRecognizer.load(model, { detectorOptions: { missPadding: Number(o.missPadding) } });
  const noFace: string[] = [];
  for (const p of people) {
    for (const f of (await readdir(join(peopleDir, p))).sort()) {
      try {
        await rec.enroll(p, [join(peopleDir, p, f)]);
      } catch (e) {
        if (!(e instanceof NoFaceError)) throw e;
        noFace.push(f);
      }
    }
  }
  if (noFace.length) console.error(`no face found in ${noFace.join(', ')} (not enrolled)`);
  const counts = { correct: 0, wrong: 0, unknown: 0, nonFaceNamed: 0, nonFaceUnnamed: 0, unmatchedBoxes: 0 };
  const details: { image: string; truth: string | null; named: string | null; nearest: string | null; distance: number; score: number }[] = [];
  for (const image of Object.keys(truth.images).sort()) {
    const faces = await rec.identify(sharedPath('data', 'samples', 'groups', image), matchOptions);
    for (const f of faces) {
      const t = truth.images[image].find((x) => boxIou(x.box, f.box) >= 0.5);
      if (!t) {
        counts.unmatchedBoxes++;
        continue;
      }
      details.push({ image, truth: t.name, named: f.name, nearest: f.candidates[0]?.name ?? null, distance: f.distance, score: f.score });
      if (t.name === null) counts[f.name ? 'nonFaceNamed' : 'nonFaceUnnamed']++;
      else if (f.name === null) counts.unknown++;
      else counts[f.name === t.name ? 'correct' : 'wrong']++;
    }
  }
  const cal = rec.embedder.calibration;
  rec.dispose();
  const threshold = matchOptions.threshold ?? rec.gallery.threshold;
  results.push({ model, aggregation: matchOptions.aggregation, threshold, minDetectionScore: cal?.minDetectionScore ?? 0, counts, details });
  const faces = counts.correct + counts.wrong + counts.unknown;
  console.log(
    `${basename(model).padEnd(10)} of ${faces} faces: ${counts.correct} named correctly, ${counts.wrong} wrongly, ${counts.unknown} unknown; ` +
      `non-faces named ${counts.nonFaceNamed} of ${counts.nonFaceNamed + counts.nonFaceUnnamed}  (${matchOptions.aggregation}, threshold ${threshold.toFixed(4)}, detection floor ${cal?.minDetectionScore ?? 0})`,
  );
}
if (o.json) {
  await mkdir(dirname(resolve(o.json)), { recursive: true });
  await writeFile(resolve(o.json), JSON.stringify({ command: process.argv.slice(2), results }, null, 2) + '\n');
}
