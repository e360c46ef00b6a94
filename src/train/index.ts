/** Training: the loop, its configuration, data pipeline, optimizers, schedules and checkpoints (Node). */
export { train, checkpointsDir, trainLogPath, exportTrainedModel, buildDefaultModel, describeRun } from './trainer.js';
export type {
  TrainOptions,
  TrainResult,
  StopReason,
  StepMetrics,
  EpochMetrics,
  ValidationMetrics,
  EvaluationContext,
} from './trainer.js';
export type { GradientEngine, TrainingState, StepAccumulator } from './engine.js';
export type { ModelWeight } from './model-state.js';
export { resolveTrainConfig, validateTrainConfig, DEFAULT_TRAIN_CONFIG, seedPreset, TRAIN_PRESETS, readTrainConfigFile } from './config.js';
export type { TrainConfig, OptimizerName, HeadKind, SamplerKind, LearningRateSchedule } from './config.js';
export { readImageFolder, splitDataset, datasetFingerprint } from './dataset.js';
export type { ImageClass, ImageFolder, LabeledImages, SplitOptions, DatasetSplit } from './dataset.js';
export { BatchSampler, BatchLoader, cropFlipStandardize, cropWindow } from './batches.js';
export type { Augmentation, BatchPlan, LoadedBatch, SamplerOptions, LoaderOptions, WarningSink } from './batches.js';
export { Rng } from './rng.js';
export type { RngState } from './rng.js';
export { TrainOptimizer } from './optimizers.js';
export type { NamedVariable, OptimizerHyper } from './optimizers.js';
export { parseScheduleFile, readScheduleFile, rateFromEntries, resolveSchedule, learningRateAt } from './schedule.js';
export type { ScheduleEntry, ResolvedSchedule, ScheduleTime } from './schedule.js';
export { MovingAverage } from './ema.js';
export { ClassHead } from './head.js';
export type { ClassHeadOptions } from './head.js';
export {
  saveTrainingCheckpoint,
  loadTrainingCheckpoint,
  readTrainingCheckpointState,
  listTrainingCheckpoints,
  latestTrainingCheckpoint,
  pruneTrainingCheckpoints,
  checkpointDirName,
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
} from './checkpoint.js';
export type { TrainingCheckpointState } from './checkpoint.js';
export { JsonLinesLog } from './log.js';
export { microBatchGradients } from './step.js';
export type { LossSettings, MicroMetrics, MicroBatchInput, MicroBatchResult } from './step.js';
export { withSeededMathRandom, seedRandomLayers, randomLayers, isDecayedWeight, prelogitsOutputIndex } from './model-state.js';
export { createParallelEngine, shardSizes } from './parallel.js';
export { initWeightsFrom, initWeightsFromModel, isResidualUpProjection } from './init-weights.js';
export type { WeightInit } from './init-weights.js';
export { TeacherCache, fillTeacherCache, readTeacherCache, parseTeacherRecords, encodeTeacherRecords } from './teacher-cache.js';
export type { TeacherCacheHeader, TeacherRecord, TeacherEmbeddings, TeacherImage, FillTeacherCacheOptions } from './teacher-cache.js';
