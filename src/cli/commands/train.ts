/**
 * `tfjs-facenet train --data DIR --out DIR`: train a FaceNet on a folder-per-identity
 * dataset (e.g. the output of `tfjs-facenet align`), from scratch or `--resume`d.
 * Ctrl-C saves a checkpoint and exits (status 130); running the same command with
 * `--resume` continues exactly where it stopped.
 */
import type { Command } from 'commander';
import { ConfigError, FileNotFoundError } from '../../errors.js';
import { readTrainConfigFile, type TrainConfig } from '../../train/config.js';
import type { Preprocessing } from '../../face/embedding.js';

interface TrainFlags {
  data?: string;
  out: string;
  config?: string;
  preset?: string;
  resume?: boolean;
  epochs?: string;
  batchSize?: string;
  accumulate?: string;
  lr?: string;
  optimizer?: string;
  schedule?: string;
  imageSize?: string;
  embeddingSize?: string;
  head?: string;
  centerLossFactor?: string;
  teacherCache?: string;
  initFrom?: string;
  valSplit?: string;
  stepsPerEpoch?: string;
  seed?: string;
  workers?: string;
  maxSteps?: string;
  alignment?: string;
  margin?: string;
  progress: boolean;
}

/** How the exported model's faces are to be aligned (`preprocessing.json`): the training data's alignment. */
export function exportPreprocessing(flags: Pick<TrainFlags, 'alignment' | 'margin'>): Partial<Preprocessing> {
  const out: Partial<Preprocessing> = {};
  if (flags.alignment !== undefined) {
    if (!['crop', 'landmarks', 'chip'].includes(flags.alignment)) {
      throw new ConfigError('--alignment', `must be crop, landmarks or chip, got '${flags.alignment}'`);
    }
    out.alignment = flags.alignment as Preprocessing['alignment'];
    // Inference margins matching `align`'s defaults (crop: the reference's 32 px at inference).
    out.margin = { crop: 32, landmarks: 0.1, chip: 0.25 }[out.alignment];
  }
  const margin = num('--margin', flags.margin, false);
  if (margin !== undefined) {
    if (margin < 0) throw new ConfigError('--margin', `must be ≥ 0, got ${margin}`);
    out.margin = margin;
  }
  return out;
}

function num(option: string, value: string | undefined, integer: boolean): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new ConfigError(option, `expected ${integer ? 'an integer' : 'a number'}, got '${value}'`);
  }
  return n;
}

/** Build the run configuration from preset < config file < checkpoint (when resuming) < flags. */
export async function configFromFlags(flags: TrainFlags): Promise<Partial<TrainConfig> & Record<string, unknown>> {
  const { TRAIN_PRESETS } = await import('../../train/config.js');
  let config: Record<string, unknown> = {};
  if (flags.preset !== undefined) {
    const preset = TRAIN_PRESETS[flags.preset];
    if (!preset) throw new ConfigError('--preset', `unknown preset '${flags.preset}' (known: ${Object.keys(TRAIN_PRESETS).join(', ')})`);
    config = { ...preset };
  }
  if (flags.config !== undefined) config = { ...config, ...(await readTrainConfigFile(flags.config)) };
  if (flags.resume) {
    const { latestTrainingCheckpoint, readTrainingCheckpointState } = await import('../../train/checkpoint.js');
    const { checkpointsDir } = await import('../../train/trainer.js');
    const dir = await latestTrainingCheckpoint(checkpointsDir(flags.out));
    if (!dir) throw new FileNotFoundError(checkpointsDir(flags.out), 'checkpoint to resume from');
    // The checkpoint's configuration is the base; flags and files may change what is safe to change.
    config = { ...(await readTrainingCheckpointState(dir)).config, ...config };
  }
  const set = (k: keyof TrainConfig, v: unknown) => {
    if (v !== undefined) config[k] = v;
  };
  set('dataDir', flags.data);
  set('outDir', flags.out);
  set('epochs', num('--epochs', flags.epochs, true));
  set('batchSize', num('--batch-size', flags.batchSize, true));
  set('accumulationSteps', num('--accumulate', flags.accumulate, true));
  set('learningRate', num('--lr', flags.lr, false));
  set('optimizer', flags.optimizer);
  if (flags.schedule !== undefined) config.schedule = { kind: 'file', path: flags.schedule };
  set('imageSize', num('--image-size', flags.imageSize, true));
  set('embeddingSize', num('--embedding-size', flags.embeddingSize, true));
  set('head', flags.head);
  set('centerLossFactor', num('--center-loss-factor', flags.centerLossFactor, false));
  set('teacherCache', flags.teacherCache);
  // A shipped model's name (e.g. facenet-distilled) or a folder.
  if (flags.initFrom !== undefined) set('initialModel', await (await import('../../recognition/models.js')).modelFolder(flags.initFrom));
  set('validationSplit', num('--val-split', flags.valSplit, false));
  set('stepsPerEpoch', num('--steps-per-epoch', flags.stepsPerEpoch, true));
  set('seed', num('--seed', flags.seed, true));
  if (config.dataDir === undefined) throw new ConfigError('--data', 'is required (the folder-per-identity dataset)');
  return config as Partial<TrainConfig> & Record<string, unknown>;
}

async function runTrain(flags: TrainFlags): Promise<void> {
  const config = await configFromFlags(flags);
  const preprocessing = exportPreprocessing(flags);
  const { initBackend } = await import('../../runtime/backend.js');
  const { train } = await import('../../train/trainer.js');
  const info = await initBackend();
  const ctrl = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) {
      process.stderr.write('\ntfjs-facenet: interrupted again, exiting without a checkpoint\n');
      process.exit(130);
    }
    process.stderr.write('\ntfjs-facenet: stopping after this update and saving a checkpoint (Ctrl-C again to quit at once)\n');
    ctrl.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  try {
    process.stderr.write(`training on ${info.name}; output in ${flags.out}\n`);
    const result = await train(config as Parameters<typeof train>[0], {
      resume: flags.resume ?? false,
      signal: ctrl.signal,
      progress: flags.progress && !!process.stderr.isTTY,
      workers: num('--workers', flags.workers, true),
      maxSteps: num('--max-steps', flags.maxSteps, true),
      preprocessing,
      onWarning: (m) => process.stderr.write(`warning: ${m}\n`),
      onEpoch: (e) => {
        const v = e.validation
          ? `  val loss ${e.validation.loss.toFixed(4)} acc ${e.validation.accuracy.toFixed(4)}`
          : '';
        process.stdout.write(`epoch ${e.epoch}  step ${e.step}  loss ${e.loss.toFixed(4)}  acc ${e.accuracy.toFixed(4)}${v}  ${e.seconds.toFixed(1)}s\n`);
      },
    });
    process.stdout.write(
      `${result.stopReason}: ${result.step} updates, ${result.epoch} epochs; checkpoint ${result.checkpoint ?? '-'}` +
        (result.modelDir ? `; model ${result.modelDir}` : '') +
        '\n',
    );
    if (result.stopReason === 'aborted') process.exitCode = 130;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}

export function register(program: Command): void {
  program
    .command('train')
    .description('train a FaceNet (Inception-ResNet-v1, softmax + center loss) on a folder-per-identity dataset')
    .requiredOption('--out <dir>', 'output folder: checkpoints/, train-log.jsonl, model/')
    .option('--data <dir>', 'dataset: one sub-folder of face images per identity (e.g. from `tfjs-facenet align`)')
    .option('--config <file>', 'JSON file of training options (see TrainConfig)')
    .option('--preset <name>', "start from a preset: 'seed' (LeslieZhoa/tensorflow-facenet train/config.py)")
    .option('--resume', 'continue from the newest checkpoint in --out (its configuration is the base)')
    .option('--epochs <n>', 'epochs to train (default 150)')
    .option('--batch-size <n>', 'images per micro-batch (default 8)')
    .option('--accumulate <n>', 'micro-batches per update: effective batch = batch size × this (default 1)')
    .option('--lr <rate>', 'base learning rate (default 0.01)')
    .option('--optimizer <name>', 'adam, rmsprop, momentum or adagrad (default adam)')
    .option('--schedule <file>', 'learning-rate schedule file ("epoch: rate" lines, -1 stops)')
    .option('--image-size <n>', 'network input size; images are randomly cropped to it (default 160)')
    .option('--embedding-size <n>', 'embedding dimension (default 512)')
    .option('--head <kind>', 'softmax, arcface, cosface or none (default softmax)')
    .option('--center-loss-factor <x>', 'center loss weight, 0 = off (default 0.01)')
    .option('--teacher-cache <file>', "distil a teacher: its embeddings of every training image (see examples/distill)")
    .option('--init-from <name|dir>', "start from a trained model's weights (a shipped model's name or a folder; matched by name; residual blocks it lacks start as identity)")
    .option('--val-split <x>', 'fraction of each identity held out for validation (default 0.05)')
    .option('--steps-per-epoch <n>', 'updates per epoch (default: one pass over the images)')
    .option('--seed <n>', 'random seed (default 666)')
    .option('--workers <n>', 'data-parallel worker threads (default 0: train in the main thread)')
    .option('--max-steps <n>', 'stop after this many updates (a checkpoint is saved)')
    .option('--alignment <method>', "how the training faces were aligned (crop, landmarks or chip, as `align --method`): recorded in the exported model's preprocessing.json (default crop)")
    .option('--margin <x>', "the alignment's margin, as `align --margin` (default: that method's default)")
    .option('--no-progress', 'no progress bar')
    .action((flags: TrainFlags) => runTrain(flags));
}
