/**
 * Distil a teacher (default: the shipped dlib model) into a small Inception-ResNet-v1
 * (see BENCHMARKS.md, "Recognition models", for the first run and what it taught). Every stage is resumable; run the same command again after
 * an interruption.
 *
 *   node --import tsx examples/distill/main.ts [--out out/distill] [--sources celeba-faces]
 *        [--size 96] [--config examples/distill/student.json] [--workers 2]
 *        [--views 0] [--mixes 0] [--seed 1] [--min-face-size 20] [--exclude SCREEN.json] [--stop-after STAGE]
 *
 * Stages:
 *   1. chips    — `align --method chip --image-size 150` of each source: a folder of
 *                 ../shared/data by name, or any folder-per-identity tree by path (e.g. an
 *                 unlabelled set arranged by unlabeled.ts)
 *   2. tree     — one training tree of the chips, without the identities of bench/celeba-holdout.txt
 *                 (and without the images a screen.ts report caught, with --exclude)
 *   2b. views   — with --views K: K augmented views of every chip (views.ts), added to the tree
 *   2c. mixes   — with --mixes N: N morphs of two chips of different people (mixes.ts), added to the tree
 *   3. teacher  — the teacher's embeddings of every chip and its mirror image (TeacherCache)
 *   4. rescale  — the chips at the student's input size (INTER_AREA, as the embedder does)
 *   5. train    — label-free distillation (examples/distill/student.json)
 * The trained model is in <out>/run/model; evaluate it with `bench:identify`, `eval-lfw`.
 * `--stop-after chips|tree|views|mixes|teacher|rescale` ends the command after that stage (e.g. to fill the
 * teacher cache in several processes with teacher.ts, or to train with `tfjs-facenet train`
 * options such as `--init-from`).
 */
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import '../../src/runtime/install-node.js';
import { initBackend } from '../../src/runtime/backend.js';
import { alignDataset } from '../../src/datasets/align.js';
import { loadModel } from '../../src/facenet/model-io.js';
import { modelFingerprint } from '../../src/recognition/embedder.js';
import { readModelPreprocessing } from '../../src/recognition/load.js';
import { readImageFolder } from '../../src/train/dataset.js';
import { TeacherCache, fillTeacherCache } from '../../src/train/teacher-cache.js';
import { readTrainConfigFile } from '../../src/train/config.js';
import { train } from '../../src/train/trainer.js';
import { sharedPath } from '../../src/util/shared-data.js';
import { linkTrainingTree, rescaleChips, teacherEmbedding } from './data.js';
import { mixSourceKeys, writeMixes } from './mixes.js';
import { writeViews } from './views.js';

const { values: args } = parseArgs({
  options: {
    out: { type: 'string', default: 'out/distill' },
    sources: { type: 'string', default: 'celeba-faces' },
    teacher: { type: 'string', default: 'models/dlib' },
    size: { type: 'string', default: '96' },
    config: { type: 'string', default: 'examples/distill/student.json' },
    workers: { type: 'string', default: '2' },
    views: { type: 'string', default: '0' },
    mixes: { type: 'string', default: '0' },
    seed: { type: 'string', default: '1' },
    // The detector's smallest face: for sets of face crops (the face fills the photo) a
    // larger one prunes MTCNN's image pyramid, so they align faster.
    'min-face-size': { type: 'string', default: '20' },
    exclude: { type: 'string' },
    'stop-after': { type: 'string' },
  },
});
const out = resolve(args.out);
const size = Number(args.size);
const workers = Number(args.workers);
const log = (s: string) => console.error(`[distill] ${s}`);
const STAGES = ['chips', 'tree', 'views', 'mixes', 'teacher', 'rescale'];
if (args['stop-after'] !== undefined && !STAGES.includes(args['stop-after'])) throw new Error(`--stop-after: one of ${STAGES.join(', ')}, got ${args['stop-after']}`);
const views = Number(args.views);
const mixes = Number(args.mixes);
const seed = Number(args.seed);
if (!(Number.isInteger(views) && views >= 0)) throw new Error(`--views: a whole number ≥ 0, got ${args.views}`);
if (!(Number.isInteger(mixes) && mixes >= 0)) throw new Error(`--mixes: a whole number ≥ 0, got ${args.mixes}`);
if (!Number.isInteger(seed)) throw new Error(`--seed: a whole number, got ${args.seed}`);
/** The end of the names of trees that hold views or mixes: their counts and seed ('' for the chips alone). */
const extrasTag = views > 0 || mixes > 0 ? `-${[views > 0 ? `views${views}` : '', mixes > 0 ? `mixes${mixes}` : ''].filter(Boolean).join('-')}-seed${seed}` : '';
/** Ends the command when `--stop-after` names this stage. */
const stageDone = (stage: string) => {
  if (args['stop-after'] === stage) {
    log(`stopped after stage ${stage}`);
    process.exit(0);
  }
};

await initBackend();

// 1. chips
const chipDirs: string[] = [];
const sources = args.sources.split(',');
if (new Set(sources.map((s) => basename(s))).size !== sources.length) throw new Error(`--sources: each needs its own folder name (their chips go to chips150/<name>), got ${args.sources}`);
const detector = { minFaceSize: Number(args['min-face-size']) };
for (const source of sources) {
  const input = source.includes('/') ? resolve(source) : sharedPath('data', source);
  const dir = join(out, 'chips150', basename(input));
  const s = await alignDataset({ input, output: dir, imageSize: 150, method: 'chip', workers, detector });
  log(`chips ${source}: ${s.aligned + s.skipped} aligned, ${s.noFace.length} without a face, ${s.failed.length} failed`);
  chipDirs.push(dir);
}
stageDone('chips');

// 2. tree
const holdout = new Set((await readFile(resolve('bench/celeba-holdout.txt'), 'utf8')).split('\n').filter((l) => l && !l.startsWith('#')));
const chipTree = join(out, 'train150');
const linked = await linkTrainingTree(chipDirs, chipTree, holdout);
log(`training tree: ${linked.images} chips of ${linked.identities} identities (${holdout.size} held out)`);
/** Keys (paths relative to a tree) that a screen.ts report caught; they stay out of every tree made here. */
const excluded: string[] = args.exclude ? (JSON.parse(await readFile(resolve(args.exclude), 'utf8')) as { caught: { key: string }[] }).caught.map((c) => c.key) : [];
if (excluded.length && views > 0) throw new Error('--exclude: not with --views (the views of a caught chip would stay)');
/** Remove the excluded images from `tree`; returns how many were there. */
const leaveOut = async (tree: string): Promise<number> => {
  let removed = 0;
  for (const key of excluded) {
    const path = join(tree, key);
    if (!existsSync(path)) continue;
    await rm(path);
    removed++;
  }
  return removed;
};
if (excluded.length) log(`left out ${await leaveOut(chipTree)} of the ${excluded.length} images caught by ${args.exclude}`);
stageDone('tree');

// 2b. views, 2c. mixes: written beside the chips, then linked with them into one tree
const tree = join(out, `train150${extrasTag}`);
const extraDirs: string[] = [];
const addToTree = async (dir: string) => {
  extraDirs.push(dir);
  const all = await linkTrainingTree([chipTree, ...extraDirs], tree, holdout);
  log(`training tree ${basename(tree)}: ${all.images} images`);
};
if (views > 0) {
  const viewDir = join(out, `views150-seed${seed}`);
  log(`views: ${await writeViews(chipTree, viewDir, views, seed)} written`);
  await addToTree(viewDir);
}
stageDone('views');
if (mixes > 0) {
  // Mixes of the chips only, never of views.
  const mixDir = join(out, `mixes150-seed${seed}`);
  log(`mixes: ${await writeMixes(chipTree, await mixSourceKeys(chipTree), mixDir, { count: mixes, seed })} written`);
  await addToTree(mixDir);
}
stageDone('mixes');

// 3. teacher
const teacher = await loadModel(resolve(args.teacher));
const prep = { imageSize: 150, standardization: 'none' as const, ...(await readModelPreprocessing(resolve(args.teacher))) };
const dimension = teacher.outputs[0].shape[1] as number;
const cachePath = join(out, 'teacher.cache');
const cache = await TeacherCache.open(cachePath, { teacher: await modelFingerprint(teacher), dimension });
const folder = await readImageFolder(tree);
const images = folder.classes.flatMap((c) => c.paths).map((path) => ({ key: relative(tree, path), path }));
const computed = await fillTeacherCache(cache, {
  images,
  imageSize: prep.imageSize,
  embed: teacherEmbedding(teacher, prep.standardization),
  onError: (im, e) => log(`teacher skipped ${im.path}: ${e.message}`),
});
await cache.close();
teacher.dispose();
log(`teacher: ${computed} embeddings computed, ${cache.size} cached`);
stageDone('teacher');

// 4. rescale
const studentTree = join(out, `train${size}${extrasTag}`);
log(`rescaled ${await rescaleChips(tree, studentTree, size)} chips to ${size} px`);
if (excluded.length) await leaveOut(studentTree); // rescaled by an earlier run without --exclude
stageDone('rescale');

// 5. train
const config = await readTrainConfigFile(resolve(args.config));
const result = await train(
  { ...config, dataDir: studentTree, outDir: join(out, 'run'), imageSize: size, teacherCache: cachePath },
  { workers, preprocessing: { imageSize: size, margin: 0.25, alignment: 'chip', standardization: 'fixed', flip: false } },
);
log(`training ${result.stopReason} after ${result.step} updates; model in ${result.modelDir ?? '(not exported)'}`);
