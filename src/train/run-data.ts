/**
 * The data of a run: the folder read and split, checked against the checkpoint resumed
 * from, and the sampler and loaders that turn it into batches; the schedule with it.
 */
import { ConfigError, IncompatibleFileError } from '../errors.js';
import { BatchLoader, BatchSampler, type WarningSink } from './batches.js';
import type { TrainConfig } from './config.js';
import { datasetFingerprint, readImageFolder, splitDataset, type LabeledImages } from './dataset.js';
import { centerEmbeddings, readTeacherCache } from './teacher-cache.js';
import type { ResumePoint } from './resume.js';
import { resolveSchedule } from './schedule.js';

/**
 * Read, split and check the dataset of `cfg`, and set up its batching.
 * @throws {IncompatibleFileError} when the checkpoint resumed from was trained on other data;
 *   {ConfigError} for a classifier head with fewer than 2 identities.
 */
export async function prepareRunData(cfg: TrainConfig, restored: ResumePoint['restored'], resumeFrom: string | null, warn: WarningSink) {
  const folder = await readImageFolder(cfg.dataDir);
  const split = splitDataset(folder, { validationSplit: cfg.validationSplit, minImagesPerClass: cfg.minImagesPerClass, seed: cfg.seed });
  for (const d of split.dropped) warn(`class ${d.name} not used: ${d.reason}`, { class: d.name });
  const trainSet = split.train;
  const valSet = split.validation;
  const numClasses = trainSet.classNames.length;
  const trainFp = datasetFingerprint(trainSet, cfg.dataDir);
  const valFp = datasetFingerprint(valSet, cfg.dataDir);
  if (restored && restored.state.dataset.trainFingerprint !== trainFp) {
    throw new IncompatibleFileError(
      resumeFrom!,
      `was trained on a different dataset or split (${restored.state.dataset.trainImages} images in ${restored.state.dataset.classNames.length} classes; now ${trainSet.paths.length} in ${numClasses})`,
    );
  }
  if (cfg.head !== 'none' && numClasses < 2) throw new ConfigError('dataDir', `needs at least 2 identities, found ${numClasses}`);
  const sampler = new BatchSampler(trainSet, {
    seed: cfg.seed,
    batchSize: cfg.batchSize,
    accumulationSteps: cfg.accumulationSteps,
    kind: cfg.sampler,
    imagesPerClass: cfg.imagesPerClass,
    randomCrop: cfg.randomCrop,
    randomFlip: cfg.randomFlip,
  });
  const teacherEmbedding = cfg.teacherCache ? await teacherLookup(cfg.teacherCache, trainSet, cfg) : undefined;
  const loader = new BatchLoader(trainSet, (l) => sampler.classMembers(l), { imageSize: cfg.imageSize, onWarning: warn, teacherEmbedding });
  const valLoader = new BatchLoader(valSet, () => [], { imageSize: cfg.imageSize, onWarning: warn });
  const stepsPerEpoch = cfg.stepsPerEpoch ?? sampler.stepsPerPass;
  const totalSteps = cfg.epochs * stepsPerEpoch;
  const schedule = await resolveSchedule(cfg.schedule);
  return { trainSet, valSet, numClasses, trainFp, valFp, sampler, loader, valLoader, stepsPerEpoch, totalSteps, schedule };
}

/**
 * The teacher's embedding of every training image (see `TeacherCache`), keyed by its path
 * relative to the data folder.
 * @throws {ConfigError} when an image (or, with random flips, its mirror image) has none, or
 *   the teacher's dimension differs from the student's embedding size.
 */
async function teacherLookup(cachePath: string, images: LabeledImages, cfg: TrainConfig): Promise<(index: number, mirrored: boolean) => Float32Array> {
  const { relative } = await import('node:path');
  const cache = await readTeacherCache(cachePath);
  if (cache.header.dimension !== cfg.embeddingSize) {
    throw new ConfigError('teacherCache', `holds ${cache.header.dimension}-d embeddings; set embeddingSize to ${cache.header.dimension}`);
  }
  const keys = images.paths.map((p) => relative(cfg.dataDir, p).split('\\').join('/'));
  const missing = keys.filter((k) => !cache.has(k, false) || (cfg.randomFlip && !cache.has(k, true)));
  if (missing.length > 0) {
    throw new ConfigError('teacherCache', `${cachePath} has no teacher embedding for ${missing.length} training images (first: ${missing[0]})`);
  }
  if (!cfg.centerTeacherEmbeddings) return (index, mirrored) => cache.get(keys[index], mirrored)!;
  // The mean over exactly the embeddings training will use (mirrors only with random flips).
  const plain = keys.map((k) => cache.get(k, false)!);
  const mirrors = cfg.randomFlip ? keys.map((k) => cache.get(k, true)!) : [];
  const centred = centerEmbeddings([...plain, ...mirrors]);
  return (index, mirrored) => centred[mirrored && cfg.randomFlip ? keys.length + index : index];
}

/** What {@link prepareRunData} returns. */
export type RunData = Awaited<ReturnType<typeof prepareRunData>>;
