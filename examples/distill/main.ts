/**
 * Distil a teacher (default: the shipped dlib model) into a small Inception-ResNet-v1
 * (see BENCHMARKS.md, "Recognition models", for the first run and what it taught). Every stage is resumable; run the same command again after
 * an interruption.
 *
 *   node --import tsx examples/distill/main.ts [--out out/distill] [--sources celeba-faces]
 *        [--size 96] [--config examples/distill/student.json] [--workers 2]
 *
 * Stages:
 *   1. chips    — `align --method chip --image-size 150` of each source under ../shared/data
 *   2. tree     — one training tree of the chips, without the identities of bench/celeba-holdout.txt
 *   3. teacher  — the teacher's embeddings of every chip and its mirror image (TeacherCache)
 *   4. rescale  — the chips at the student's input size (INTER_AREA, as the embedder does)
 *   5. train    — label-free distillation (examples/distill/student.json)
 * The trained model is in <out>/run/model; evaluate it with `bench:identify`, `eval-lfw`.
 */
import { parseArgs } from 'node:util';
import { readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
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

const { values: args } = parseArgs({
  options: {
    out: { type: 'string', default: 'out/distill' },
    sources: { type: 'string', default: 'celeba-faces' },
    teacher: { type: 'string', default: 'models/dlib' },
    size: { type: 'string', default: '96' },
    config: { type: 'string', default: 'examples/distill/student.json' },
    workers: { type: 'string', default: '2' },
  },
});
const out = resolve(args.out);
const size = Number(args.size);
const workers = Number(args.workers);
const log = (s: string) => console.error(`[distill] ${s}`);

await initBackend();

// 1. chips
const chipDirs: string[] = [];
for (const source of args.sources.split(',')) {
  const dir = join(out, 'chips150', source);
  const s = await alignDataset({ input: sharedPath('data', source), output: dir, imageSize: 150, method: 'chip', workers });
  log(`chips ${source}: ${s.aligned + s.skipped} aligned, ${s.noFace.length} without a face, ${s.failed.length} failed`);
  chipDirs.push(dir);
}

// 2. tree
const holdout = new Set((await readFile(resolve('bench/celeba-holdout.txt'), 'utf8')).split('\n').filter((l) => l && !l.startsWith('#')));
const tree = join(out, 'train150');
const linked = await linkTrainingTree(chipDirs, tree, holdout);
log(`training tree: ${linked.images} chips of ${linked.identities} identities (${holdout.size} held out)`);

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

// 4. rescale
const studentTree = join(out, `train${size}`);
log(`rescaled ${await rescaleChips(tree, studentTree, size)} chips to ${size} px`);

// 5. train
const config = await readTrainConfigFile(resolve(args.config));
const result = await train(
  { ...config, dataDir: studentTree, outDir: join(out, 'run'), imageSize: size, teacherCache: cachePath },
  { workers, preprocessing: { imageSize: size, margin: 0.25, alignment: 'chip', standardization: 'fixed', flip: false } },
);
log(`training ${result.stopReason} after ${result.step} updates; model in ${result.modelDir ?? '(not exported)'}`);
