/**
 * Resuming: which checkpoint a run continues from, and whether it may (the options that
 * decide what the run computes must not have changed).
 */
import { FacenetError, FileNotFoundError, IncompatibleFileError } from '../errors.js';
import { listTrainingCheckpoints, loadTrainingCheckpoint } from './checkpoint.js';
import type { TrainConfig } from './config.js';

/** Options whose change makes a checkpoint unusable for resuming. */
const RESUME_CRITICAL: Array<keyof TrainConfig> = [
  'seed',
  'imageSize',
  'randomCrop',
  'randomFlip',
  'validationSplit',
  'minImagesPerClass',
  'sampler',
  'imagesPerClass',
  'batchSize',
  'accumulationSteps',
  'stepsPerEpoch',
  'embeddingSize',
  'keepProbability',
  'modelOptions',
  'head',
  'optimizer',
];

function pickConfig(c: TrainConfig, keys: Array<keyof TrainConfig>): string {
  return keys.map((k) => `${k}=${JSON.stringify(c[k])}`).join(', ');
}

/** Describe the resume-critical part of a configuration (for messages). */
export function describeRun(c: TrainConfig): string {
  return pickConfig(c, RESUME_CRITICAL);
}

/** The checkpoint a run continues from (none for a fresh run) and what it holds. */
export interface ResumePoint {
  resumeFrom: string | null;
  restored: Awaited<ReturnType<typeof loadTrainingCheckpoint>> | null;
  /** Newer checkpoints passed over because they could not be read (resume `true` only). */
  damaged: { path: string; reason: string }[];
}

/**
 * Find and load the checkpoint to resume from: `resume` is a checkpoint folder, or `true`
 * for the newest one under `checkpointsRoot` that can be read (a damaged newer one — a
 * kill mid-save, a bad disk — is passed over and listed in `damaged`).
 * @throws {FileNotFoundError} when there is none; {IncompatibleFileError} when it was made
 *   with other resume-critical options.
 */
export async function findResumePoint(resume: string | boolean | undefined, checkpointsRoot: string, cfg: TrainConfig): Promise<ResumePoint> {
  let resumeFrom: string | null = null;
  let restored: ResumePoint['restored'] = null;
  const damaged: ResumePoint['damaged'] = [];
  if (resume === true) {
    // The newest checkpoint that loads; damaged newer ones are passed over and reported.
    const all = await listTrainingCheckpoints(checkpointsRoot);
    if (all.length === 0) throw new FileNotFoundError(checkpointsRoot, 'checkpoint to resume from');
    for (const c of [...all].reverse()) {
      try {
        restored = await loadTrainingCheckpoint(c.path);
        resumeFrom = c.path;
        break;
      } catch (e) {
        if (!(e instanceof FacenetError)) throw e;
        damaged.push({ path: c.path, reason: e.message });
      }
    }
    if (!restored) throw new IncompatibleFileError(checkpointsRoot, `no checkpoint can be read: ${damaged.map((d) => d.reason).join('; ')}`);
  } else if (resume) {
    resumeFrom = resume;
    restored = await loadTrainingCheckpoint(resume);
  }
  if (restored) {
    for (const k of RESUME_CRITICAL) {
      if (JSON.stringify(restored.state.config[k]) !== JSON.stringify(cfg[k])) {
        throw new IncompatibleFileError(
          resumeFrom!,
          `was trained with ${k}=${JSON.stringify(restored.state.config[k])}, the configuration now says ${JSON.stringify(cfg[k])}`,
        );
      }
    }
  }
  return { resumeFrom, restored, damaged };
}
