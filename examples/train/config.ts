/**
 * The training configuration of the example: a named preset (or, when resuming, the
 * checkpoint's own configuration), then a JSON config file, then command-line flags —
 * each overriding the one before.
 */
import {
  ConfigError,
  FileNotFoundError,
  checkpointsDir,
  latestTrainingCheckpoint,
  readTrainingCheckpointState,
  readTrainConfigFile,
  seedPreset,
  type TrainConfig,
} from 'tfjs-facenet/node';

/** A preset of the example: a partial {@link TrainConfig} and what it is for. */
export interface ExamplePreset {
  description: string;
  config: Partial<TrainConfig>;
}

/**
 * - `small` (default): 96 px input, half width, blocks 2/4/2, 128-d — trains on all of
 *   CelebA in ~2.5 min per epoch on 2 cores (wasm).
 * - `seed`: the seed project's configuration (160 px, full Inception-ResNet-v1, 512-d,
 *   150 epochs) — days on a CPU.
 * - `tiny`: 80 px, 1/8 width, one block per stage, 10 epochs — with `--subset 4x10`, a
 *   smoke run of the whole path in well under a minute (its accuracy means nothing).
 */
export const EXAMPLE_PRESETS: Readonly<Record<string, ExamplePreset>> = Object.freeze({
  small: {
    description: '96 px, width ×0.5, blocks 2/4/2, 128-d, batch 32, Adam 0.05 ×0.1 at epochs 6 and 9, 10 epochs',
    config: {
      imageSize: 96,
      embeddingSize: 128,
      batchSize: 32,
      keepProbability: 0.8,
      modelOptions: { blockRepeats: { block35: 2, block17: 4, block8: 2 }, widthMultiplier: 0.5 },
      optimizer: 'adam',
      learningRate: 0.05,
      schedule: { kind: 'piecewise', boundaries: [6, 9], factor: 0.1 },
      epochs: 10,
      centerLossFactor: 0.01,
      centerLossAlpha: 0.9,
      weightDecay: 5e-4,
      movingAverageDecay: 0.999,
      validationSplit: 0.05,
      keepCheckpoints: 2,
    },
  },
  seed: { description: "the seed project's train/config.py (160 px, full model, 512-d, 150 epochs)", config: seedPreset },
  tiny: {
    description: 'smoke run: 80 px, width ×0.125, blocks 1/1/1, 32-d, batch 8, Adam 0.01 constant, 10 epochs',
    config: {
      imageSize: 80,
      embeddingSize: 32,
      batchSize: 8,
      modelOptions: { blockRepeats: { block35: 1, block17: 1, block8: 1 }, widthMultiplier: 0.125 },
      optimizer: 'adam',
      learningRate: 0.01,
      schedule: { kind: 'constant' },
      epochs: 10,
      centerLossFactor: 0.01,
      movingAverageDecay: 0,
      validationSplit: 0.2,
      keepCheckpoints: 1,
    },
  },
});

/** The training flags of the example (strings as commander gives them). */
export interface TrainFlags {
  preset: string;
  config?: string;
  resume?: boolean;
  imageSize?: string;
  blockRepeats?: string;
  widthMultiplier?: string;
  embeddingSize?: string;
  epochs?: string;
  batchSize?: string;
  accumulate?: string;
  lr?: string;
  lrBoundaries?: string;
  lrFactor?: string;
  lrFile?: string;
  centerLossFactor?: string;
  valSplit?: string;
  seed?: string;
}

/** A number flag: undefined when absent; a {@link ConfigError} naming the flag when malformed. */
export function parseNumber(flag: string, value: string | undefined, opts: { integer?: boolean; min?: number } = {}): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  const ok = value.trim() !== '' && Number.isFinite(n) && (!opts.integer || Number.isInteger(n)) && (opts.min === undefined || n >= opts.min);
  if (!ok) {
    const what = opts.integer ? 'an integer' : 'a number';
    throw new ConfigError(flag, `expected ${what}${opts.min !== undefined ? ` ≥ ${opts.min}` : ''}, got '${value}'`);
  }
  return n;
}

/** `"2,4,2"` → block repeats of the three residual stages. */
export function parseBlockRepeats(value: string): { block35: number; block17: number; block8: number } {
  const parts = value.split(',').map((p) => p.trim());
  const ns = parts.map(Number);
  if (ns.length !== 3 || parts.some((p) => p === '') || !ns.every((n) => Number.isInteger(n) && n >= 0)) {
    throw new ConfigError('--block-repeats', `expected three integers ≥ 0 like 5,10,5 (block35, block17, block8), got '${value}'`);
  }
  return { block35: ns[0], block17: ns[1], block8: ns[2] };
}

/** `"6,9"` → piecewise boundaries in epochs; `"none"` → a constant rate. */
export function parseBoundaries(value: string): number[] | null {
  if (value.trim() === 'none') return null;
  const ns = value.split(',').map((p) => Number(p.trim()));
  if (ns.length === 0 || !ns.every((n) => Number.isFinite(n) && n > 0)) {
    throw new ConfigError('--lr-boundaries', `expected increasing epoch numbers like 6,9 (or none), got '${value}'`);
  }
  return ns;
}

/**
 * The run's configuration (without dataDir / outDir): preset — or the configuration of the
 * newest checkpoint in `runDir` when resuming — then the config file, then the flags.
 * @throws {ConfigError} for an unknown preset or a malformed flag; {FileNotFoundError}
 *   for a missing config file, or no checkpoint to resume from.
 */
export async function configFromFlags(flags: TrainFlags, runDir: string): Promise<Partial<TrainConfig>> {
  let config: Record<string, unknown>;
  if (flags.resume) {
    const ckpt = await latestTrainingCheckpoint(checkpointsDir(runDir));
    if (!ckpt) throw new FileNotFoundError(checkpointsDir(runDir), 'checkpoint to resume from');
    config = { ...(await readTrainingCheckpointState(ckpt)).config };
  } else {
    const preset = EXAMPLE_PRESETS[flags.preset];
    if (!preset) throw new ConfigError('--preset', `unknown preset '${flags.preset}' (known: ${Object.keys(EXAMPLE_PRESETS).join(', ')})`);
    config = structuredClone(preset.config) as Record<string, unknown>;
  }
  if (flags.config !== undefined) config = { ...config, ...(await readTrainConfigFile(flags.config)) };

  const set = (k: keyof TrainConfig, v: unknown) => {
    if (v !== undefined) config[k] = v;
  };
  set('imageSize', parseNumber('--image-size', flags.imageSize, { integer: true, min: 1 }));
  set('embeddingSize', parseNumber('--embedding-size', flags.embeddingSize, { integer: true, min: 1 }));
  set('epochs', parseNumber('--epochs', flags.epochs, { integer: true, min: 1 }));
  set('batchSize', parseNumber('--batch-size', flags.batchSize, { integer: true, min: 1 }));
  set('accumulationSteps', parseNumber('--accumulate', flags.accumulate, { integer: true, min: 1 }));
  set('learningRate', parseNumber('--lr', flags.lr, { min: 0 }));
  set('centerLossFactor', parseNumber('--center-loss-factor', flags.centerLossFactor, { min: 0 }));
  set('validationSplit', parseNumber('--val-split', flags.valSplit, { min: 0 }));
  set('seed', parseNumber('--seed', flags.seed, { integer: true, min: 0 }));

  const modelOptions = { ...((config.modelOptions as Record<string, unknown> | undefined) ?? {}) };
  if (flags.blockRepeats !== undefined) modelOptions.blockRepeats = parseBlockRepeats(flags.blockRepeats);
  const width = parseNumber('--width-multiplier', flags.widthMultiplier, { min: 0 });
  if (width !== undefined) modelOptions.widthMultiplier = width;
  config.modelOptions = modelOptions;

  if (flags.lrFile !== undefined) {
    config.schedule = { kind: 'file', path: flags.lrFile };
  } else if (flags.lrBoundaries !== undefined || flags.lrFactor !== undefined) {
    const current = config.schedule as { kind?: string; boundaries?: number[]; factor?: number } | undefined;
    const boundaries = flags.lrBoundaries !== undefined ? parseBoundaries(flags.lrBoundaries) : current?.kind === 'piecewise' ? current.boundaries! : null;
    const factor = parseNumber('--lr-factor', flags.lrFactor, { min: 0 }) ?? (current?.kind === 'piecewise' ? current.factor! : 0.1);
    config.schedule = boundaries === null ? { kind: 'constant' } : { kind: 'piecewise', boundaries, factor };
  }
  return config as Partial<TrainConfig>;
}
