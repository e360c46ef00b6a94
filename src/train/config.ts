/**
 * Training configuration: every option with its documented default, validation that
 * names the option at fault, and the seed project's `train/config.py` as a preset.
 */
import { ConfigError, FileNotFoundError } from '../errors.js';
import { nodeBuiltins } from '../runtime/node-platform.js';

/** Optimization algorithms (TensorFlow 1.x semantics, see `optimizers.ts`). */
export type OptimizerName = 'adam' | 'rmsprop' | 'momentum' | 'adagrad';

/** How the logits head turns pre-logits into class scores. */
export type HeadKind = 'softmax' | 'arcface' | 'cosface' | 'none';

/** How training batches are drawn. */
export type SamplerKind = 'shuffle' | 'pk';

/**
 * Learning-rate schedule.
 * - `constant`: `learningRate` throughout.
 * - `piecewise`: `learningRate` · factor^k after the k-th boundary (in epochs), like the
 *   seed's `tf.train.piecewise_constant` with boundaries `LR_EPOCH` and factor 0.1.
 * - `file`: the reference's schedule file (`epoch: rate` lines; a rate of −1 stops training).
 */
export type LearningRateSchedule =
  | { kind: 'constant' }
  | { kind: 'piecewise'; boundaries: number[]; factor: number }
  | { kind: 'file'; path: string };

/** Everything that defines a training run. All fields have defaults except `dataDir`/`outDir`. */
export interface TrainConfig {
  /** Folder-per-identity image tree (e.g. the output of `tfjs-facenet align`). */
  dataDir: string;
  /** Where checkpoints, the JSON-lines log and the exported model go. */
  outDir: string;
  /** Seed of every random choice (split, order, augmentation, dropout, initialization). Default 666 (the reference's). */
  seed: number;

  // ---- data ----
  /** Network input size: training images are cropped to this square. Default 160. */
  imageSize: number;
  /** Random crop of `imageSize` from larger images (else the centre). Default true. */
  randomCrop: boolean;
  /** Random horizontal flip. Default true. */
  randomFlip: boolean;
  /** Fraction of each class's images held out for validation. Default 0.05 (the seed's). */
  validationSplit: number;
  /**
   * A class is used only if at least this many of its images stay in the training part
   * (the reference's `min_nrof_val_images_per_class` test in `split_dataset`). Default 0.
   */
  minImagesPerClass: number;
  /** `shuffle`: every image once per epoch in random order. `pk`: P classes × K images per batch (for triplet loss). Default 'shuffle'. */
  sampler: SamplerKind;
  /** Images per class in a batch for the `pk` sampler (batchSize must be a multiple). Default 4. */
  imagesPerClass: number;

  // ---- schedule ----
  /** Images per micro-batch (one forward/backward pass). Default 8 (what wasm memory allows at 160 px). */
  batchSize: number;
  /** Micro-batches whose gradients are averaged into one update: effective batch = batchSize × this. Default 1. */
  accumulationSteps: number;
  /** Epochs to train. Default 150 (the seed's `max_nrof_epochs`). */
  epochs: number;
  /** Updates per epoch; null = one pass over the training images (the seed's choice). Default null. */
  stepsPerEpoch: number | null;
  /** Validate every this many epochs (0 = never). Default 1. */
  validateEveryEpochs: number;
  /** Save a checkpoint every this many epochs. Default 1. */
  checkpointEveryEpochs: number;
  /** Also save a checkpoint every this many steps (0 = only per epoch). Default 0. */
  checkpointEverySteps: number;
  /** How many checkpoints to keep (oldest removed first). Default 3 (the seed's `max_to_keep`). */
  keepCheckpoints: number;

  // ---- model ----
  /** Pre-logits / embedding dimension. Default 512 (the seed's). */
  embeddingSize: number;
  /** Dropout keep probability before the bottleneck. Default 0.8. */
  keepProbability: number;
  /** Model-builder extras passed through (e.g. `{ blockRepeats, widthMultiplier }`). Default {}. */
  modelOptions: Record<string, unknown>;

  // ---- losses ----
  /** Class head. Default 'softmax'. */
  head: HeadKind;
  /** ArcFace/CosFace scale s. Default 64. */
  marginScale: number;
  /** ArcFace angular margin (radians) or CosFace cosine margin. Default 0.5. */
  margin: number;
  /** L2 weight decay scale (slim `l2_regularizer`: scale·Σw²/2) on kernels and the head. Default 5e-4. */
  weightDecay: number;
  /** Center loss weight (0 = off). Default 1e-2 (the seed's). */
  centerLossFactor: number;
  /** Center update rate "alfa". Default 0.95 (reference; the seed uses 0.6). */
  centerLossAlpha: number;
  /** Weight of the pre-logits p-norm penalty (0 = off). Default 0. */
  prelogitsNormFactor: number;
  /** p of the pre-logits norm. Default 1. */
  prelogitsNormP: number;
  /** Weight of the triplet loss on L2-normalized embeddings (0 = off). Default 0. */
  tripletLossFactor: number;
  /** Triplet margin alpha. Default 0.2. */
  tripletMargin: number;
  /** Triplet mining. Default 'semi-hard'. */
  tripletMining: 'semi-hard' | 'batch-hard';

  // ---- distillation ----
  /**
   * A teacher-embedding cache (`TeacherCache`) holding an embedding of every training image,
   * keyed by its path relative to `dataDir` (and of its mirror image, for random flips):
   * the student's L2-normalised embeddings learn the teacher's. null = no teacher. Default null.
   */
  teacherCache: string | null;
  /** Weight of the embedding-matching loss (used with `teacherCache`). Default 1. */
  distillationFactor: number;
  /** How embeddings are matched: 'cosine' (1 − cos) or 'l2' (squared distance of unit vectors). Default 'cosine'. */
  distillationMetric: 'cosine' | 'l2';
  /** Weight of the relational loss (the batch's pairwise similarities, used with `teacherCache`). Default 0. */
  relationalDistillationFactor: number;
  /**
   * Subtract the mean of the training images' teacher embeddings from each and renormalise
   * before matching. A teacher whose unit embeddings lie in a narrow cone (dlib's: different
   * people at cosine ≈ 0.9) otherwise lets a student that predicts the cone's axis score a
   * small loss while telling no one apart. Default false.
   */
  centerTeacherEmbeddings: boolean;

  /**
   * A model folder (a run's `out/model`, or any `saveModel` output) whose weights start a new
   * run instead of random ones, matched by name. Residual blocks it lacks start as identity,
   * so a deeper network begins as the trained shallower one; other missing weights keep
   * their random start. Ignored when resuming (the checkpoint holds the weights). Default null.
   */
  initialModel: string | null;

  // ---- optimization ----
  /** Default 'adam' (the seed's; epsilon 0.1 like the reference). */
  optimizer: OptimizerName;
  /** Base learning rate. Default 0.01 (the seed's). */
  learningRate: number;
  /** Learning-rate schedule. Default piecewise, boundaries [10, 20, 40] epochs, factor 0.1 (the seed's). */
  schedule: LearningRateSchedule;
  /** Exponential moving average of the weights (0 = off); the exported model uses the averages. Default 0.9999. */
  movingAverageDecay: number;
}

/** Defaults of every optional option. */
export const DEFAULT_TRAIN_CONFIG: Omit<TrainConfig, 'dataDir' | 'outDir'> = {
  seed: 666,
  imageSize: 160,
  randomCrop: true,
  randomFlip: true,
  validationSplit: 0.05,
  minImagesPerClass: 0,
  sampler: 'shuffle',
  imagesPerClass: 4,
  batchSize: 8,
  accumulationSteps: 1,
  epochs: 150,
  stepsPerEpoch: null,
  validateEveryEpochs: 1,
  checkpointEveryEpochs: 1,
  checkpointEverySteps: 0,
  keepCheckpoints: 3,
  embeddingSize: 512,
  keepProbability: 0.8,
  modelOptions: {},
  head: 'softmax',
  marginScale: 64,
  margin: 0.5,
  weightDecay: 5e-4,
  centerLossFactor: 1e-2,
  centerLossAlpha: 0.95,
  prelogitsNormFactor: 0,
  prelogitsNormP: 1,
  tripletLossFactor: 0,
  tripletMargin: 0.2,
  tripletMining: 'semi-hard',
  teacherCache: null,
  distillationFactor: 1,
  distillationMetric: 'cosine',
  relationalDistillationFactor: 0,
  centerTeacherEmbeddings: false,
  initialModel: null,
  optimizer: 'adam',
  learningRate: 0.01,
  schedule: { kind: 'piecewise', boundaries: [10, 20, 40], factor: 0.1 },
  movingAverageDecay: 0.9999,
};

/**
 * The seed project's `train/config.py` (LeslieZhoa/tensorflow-facenet): 160 px input,
 * batch 90, embedding 512, keep probability 0.8, weight decay 5e-4, center loss factor
 * 1e-2 with alfa 0.6, Adam at 0.01 ×0.1 at epochs 10/20/40, moving average 0.999,
 * 150 epochs, 5 % validation split. Batch 90 does not fit wasm memory at 160 px: it is
 * expressed as 9 accumulated micro-batches of 10 (same effective batch).
 */
export const seedPreset: Partial<TrainConfig> = {
  imageSize: 160,
  batchSize: 10,
  accumulationSteps: 9,
  embeddingSize: 512,
  keepProbability: 0.8,
  weightDecay: 5e-4,
  centerLossFactor: 1e-2,
  centerLossAlpha: 0.6,
  optimizer: 'adam',
  learningRate: 0.01,
  schedule: { kind: 'piecewise', boundaries: [10, 20, 40], factor: 0.1 },
  movingAverageDecay: 0.999,
  epochs: 150,
  validationSplit: 0.05,
  minImagesPerClass: 0,
  head: 'softmax',
};

/** Named presets for the CLI's `--preset`. */
export const TRAIN_PRESETS: Record<string, Partial<TrainConfig>> = { seed: seedPreset };

const KEYS = new Set<string>(['dataDir', 'outDir', ...Object.keys(DEFAULT_TRAIN_CONFIG)]);

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

function need(ok: boolean, option: string, reason: string): void {
  if (!ok) throw new ConfigError(option, reason);
}

function fmt(v: unknown): string {
  return typeof v === 'string' ? `"${v}"` : JSON.stringify(v);
}

function checkSchedule(s: unknown): void {
  need(typeof s === 'object' && s !== null, 'schedule', `must be an object, got ${fmt(s)}`);
  const sch = s as Record<string, unknown>;
  switch (sch.kind) {
    case 'constant':
      return;
    case 'piecewise': {
      const b = sch.boundaries;
      need(
        Array.isArray(b) && b.every((x) => typeof x === 'number' && x > 0 && Number.isFinite(x)),
        'schedule.boundaries',
        `must be an array of positive epoch numbers, got ${fmt(b)}`,
      );
      const arr = b as number[];
      need(arr.every((x, i) => i === 0 || x > arr[i - 1]), 'schedule.boundaries', `must increase, got ${fmt(b)}`);
      need(
        typeof sch.factor === 'number' && sch.factor > 0 && Number.isFinite(sch.factor),
        'schedule.factor',
        `must be a positive number, got ${fmt(sch.factor)}`,
      );
      return;
    }
    case 'file':
      need(typeof sch.path === 'string' && sch.path.length > 0, 'schedule.path', `must be a file path, got ${fmt(sch.path)}`);
      return;
    default:
      throw new ConfigError('schedule.kind', `must be "constant", "piecewise" or "file", got ${fmt(sch.kind)}`);
  }
}

/**
 * Merge `partial` over the defaults and validate. Unknown option names are rejected (a
 * typo must not silently fall back to a default).
 * @throws {ConfigError} naming the first bad option.
 */
export function resolveTrainConfig(partial: Partial<TrainConfig> & Record<string, unknown>): TrainConfig {
  for (const k of Object.keys(partial)) {
    if (!KEYS.has(k)) throw new ConfigError(k, 'unknown option');
  }
  const defined = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined));
  const c = { ...DEFAULT_TRAIN_CONFIG, ...defined } as TrainConfig;
  validateTrainConfig(c);
  return c;
}

/** Validate a complete configuration. @throws {ConfigError} naming the bad option. */
export function validateTrainConfig(c: TrainConfig): void {
  need(typeof c.dataDir === 'string' && c.dataDir.length > 0, 'dataDir', 'is required (the dataset folder)');
  need(typeof c.outDir === 'string' && c.outDir.length > 0, 'outDir', 'is required (the output folder)');
  need(isInt(c.seed) && c.seed >= 0 && c.seed <= 0xffffffff, 'seed', `must be an integer in 0…2^32−1, got ${fmt(c.seed)}`);
  need(isInt(c.imageSize) && c.imageSize >= 8 && c.imageSize <= 1024, 'imageSize', `must be an integer 8…1024, got ${fmt(c.imageSize)}`);
  need(typeof c.randomCrop === 'boolean', 'randomCrop', `must be true or false, got ${fmt(c.randomCrop)}`);
  need(typeof c.randomFlip === 'boolean', 'randomFlip', `must be true or false, got ${fmt(c.randomFlip)}`);
  need(
    typeof c.validationSplit === 'number' && c.validationSplit >= 0 && c.validationSplit < 1,
    'validationSplit',
    `must be in [0, 1), got ${fmt(c.validationSplit)}`,
  );
  need(isInt(c.minImagesPerClass) && c.minImagesPerClass >= 0, 'minImagesPerClass', `must be an integer ≥ 0, got ${fmt(c.minImagesPerClass)}`);
  need(c.sampler === 'shuffle' || c.sampler === 'pk', 'sampler', `must be "shuffle" or "pk", got ${fmt(c.sampler)}`);
  need(isInt(c.imagesPerClass) && c.imagesPerClass >= 1, 'imagesPerClass', `must be an integer ≥ 1, got ${fmt(c.imagesPerClass)}`);
  need(isInt(c.batchSize) && c.batchSize >= 1, 'batchSize', `must be an integer ≥ 1, got ${fmt(c.batchSize)}`);
  if (c.sampler === 'pk') {
    need(
      c.batchSize % c.imagesPerClass === 0 && c.batchSize / c.imagesPerClass >= 2,
      'batchSize',
      `with sampler "pk" must be a multiple of imagesPerClass (${c.imagesPerClass}) covering at least 2 classes, got ${c.batchSize}`,
    );
  }
  need(isInt(c.accumulationSteps) && c.accumulationSteps >= 1, 'accumulationSteps', `must be an integer ≥ 1, got ${fmt(c.accumulationSteps)}`);
  need(isInt(c.epochs) && c.epochs >= 1, 'epochs', `must be an integer ≥ 1, got ${fmt(c.epochs)}`);
  need(
    c.stepsPerEpoch === null || (isInt(c.stepsPerEpoch) && c.stepsPerEpoch >= 1),
    'stepsPerEpoch',
    `must be null or an integer ≥ 1, got ${fmt(c.stepsPerEpoch)}`,
  );
  need(isInt(c.validateEveryEpochs) && c.validateEveryEpochs >= 0, 'validateEveryEpochs', `must be an integer ≥ 0, got ${fmt(c.validateEveryEpochs)}`);
  need(isInt(c.checkpointEveryEpochs) && c.checkpointEveryEpochs >= 1, 'checkpointEveryEpochs', `must be an integer ≥ 1, got ${fmt(c.checkpointEveryEpochs)}`);
  need(isInt(c.checkpointEverySteps) && c.checkpointEverySteps >= 0, 'checkpointEverySteps', `must be an integer ≥ 0, got ${fmt(c.checkpointEverySteps)}`);
  need(isInt(c.keepCheckpoints) && c.keepCheckpoints >= 1, 'keepCheckpoints', `must be an integer ≥ 1, got ${fmt(c.keepCheckpoints)}`);
  need(isInt(c.embeddingSize) && c.embeddingSize >= 1, 'embeddingSize', `must be an integer ≥ 1, got ${fmt(c.embeddingSize)}`);
  need(
    typeof c.keepProbability === 'number' && c.keepProbability > 0 && c.keepProbability <= 1,
    'keepProbability',
    `must be in (0, 1], got ${fmt(c.keepProbability)}`,
  );
  need(typeof c.modelOptions === 'object' && c.modelOptions !== null && !Array.isArray(c.modelOptions), 'modelOptions', 'must be an object');
  need(['softmax', 'arcface', 'cosface', 'none'].includes(c.head), 'head', `must be softmax, arcface, cosface or none, got ${fmt(c.head)}`);
  need(typeof c.marginScale === 'number' && c.marginScale > 0, 'marginScale', `must be > 0, got ${fmt(c.marginScale)}`);
  need(typeof c.margin === 'number' && c.margin >= 0 && c.margin < Math.PI / 2, 'margin', `must be in [0, π/2), got ${fmt(c.margin)}`);
  const nonNeg = (k: keyof TrainConfig) =>
    need(typeof c[k] === 'number' && (c[k] as number) >= 0 && Number.isFinite(c[k]), k, `must be a number ≥ 0, got ${fmt(c[k])}`);
  nonNeg('weightDecay');
  nonNeg('centerLossFactor');
  nonNeg('prelogitsNormFactor');
  nonNeg('tripletLossFactor');
  nonNeg('tripletMargin');
  nonNeg('distillationFactor');
  nonNeg('relationalDistillationFactor');
  need(c.teacherCache === null || (typeof c.teacherCache === 'string' && c.teacherCache.length > 0), 'teacherCache', `must be a file path or null, got ${fmt(c.teacherCache)}`);
  need(c.initialModel === null || (typeof c.initialModel === 'string' && c.initialModel.length > 0), 'initialModel', `must be a model folder or null, got ${fmt(c.initialModel)}`);
  need(typeof c.centerTeacherEmbeddings === 'boolean', 'centerTeacherEmbeddings', `must be true or false, got ${fmt(c.centerTeacherEmbeddings)}`);
  need(c.distillationMetric === 'cosine' || c.distillationMetric === 'l2', 'distillationMetric', `must be "cosine" or "l2", got ${fmt(c.distillationMetric)}`);
  need(
    typeof c.centerLossAlpha === 'number' && c.centerLossAlpha >= 0 && c.centerLossAlpha < 1,
    'centerLossAlpha',
    `must be in [0, 1), got ${fmt(c.centerLossAlpha)}`,
  );
  need(typeof c.prelogitsNormP === 'number' && c.prelogitsNormP >= 1, 'prelogitsNormP', `must be ≥ 1, got ${fmt(c.prelogitsNormP)}`);
  need(
    c.tripletMining === 'semi-hard' || c.tripletMining === 'batch-hard',
    'tripletMining',
    `must be "semi-hard" or "batch-hard", got ${fmt(c.tripletMining)}`,
  );
  if (c.tripletLossFactor > 0) {
    need(c.sampler === 'pk', 'sampler', 'must be "pk" when tripletLossFactor > 0 (triplets need several images per class in a batch)');
  }
  need(
    c.head !== 'none' || c.tripletLossFactor > 0 || (c.teacherCache !== null && c.distillationFactor + c.relationalDistillationFactor > 0),
    'head',
    '"none" needs another loss: set tripletLossFactor > 0, or a teacherCache with a distillation factor > 0',
  );
  need(['adam', 'rmsprop', 'momentum', 'adagrad'].includes(c.optimizer), 'optimizer', `must be adam, rmsprop, momentum or adagrad, got ${fmt(c.optimizer)}`);
  need(typeof c.learningRate === 'number' && c.learningRate > 0 && Number.isFinite(c.learningRate), 'learningRate', `must be > 0, got ${fmt(c.learningRate)}`);
  checkSchedule(c.schedule);
  need(
    typeof c.movingAverageDecay === 'number' && c.movingAverageDecay >= 0 && c.movingAverageDecay < 1,
    'movingAverageDecay',
    `must be in [0, 1) (0 = off), got ${fmt(c.movingAverageDecay)}`,
  );
}

/**
 * Read a training configuration file: a JSON object of {@link TrainConfig} fields (checked
 * later by {@link resolveTrainConfig}). Node only.
 * @throws {FileNotFoundError} when the file does not exist; {ConfigError} (option `--config`)
 * when it is not a JSON object.
 */
export async function readTrainConfigFile(path: string): Promise<Record<string, unknown>> {
  const { readFile } = nodeBuiltins('reading a training config file').fsp;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new FileNotFoundError(path, 'training config');
    throw e;
  }
  try {
    const o = JSON.parse(text) as unknown;
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new Error('not a JSON object');
    return o as Record<string, unknown>;
  } catch (e) {
    throw new ConfigError('--config', `${path}: ${(e as Error).message}`);
  }
}
