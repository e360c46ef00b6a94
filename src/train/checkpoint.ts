/**
 * Training checkpoints: one directory per checkpoint, `<root>/ckpt-<step>/`, holding
 *
 * - `state.json` — step, epoch, the configuration, the dataset fingerprints, the optimizer
 *   kind and iteration count, the random-number scheme, the model's weight names, metrics;
 * - `tensors.json` + `tensors.bin` — every array needed to go on exactly: model weights
 *   (including batch-norm moving statistics), head, optimizer slots, center-loss centers,
 *   moving averages (little-endian, concatenated, described by the JSON index).
 *
 * A checkpoint is written into a hidden temporary directory and renamed into place, so a
 * crash never leaves a half-written `ckpt-*`. Only the newest `keep` are kept. Node only.
 */
import * as fsp from 'node:fs/promises';
import * as nodePath from 'node:path';
import * as nodeCrypto from 'node:crypto';
import { FileNotFoundError, IncompatibleFileError } from '../errors.js';
import type { NamedArray, NamedArrays } from '../io/types.js';
import type { TrainConfig } from './config.js';

/** Marks the files as ours. */
export const CHECKPOINT_FORMAT = 'tfjs-facenet-train-checkpoint';
/** Bumped when the layout changes incompatibly. */
export const CHECKPOINT_VERSION = 1;

/** The JSON part of a checkpoint. */
export interface TrainingCheckpointState {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  /** Updates done. */
  step: number;
  /** 0-based epoch the next update belongs to. */
  epoch: number;
  config: TrainConfig;
  dataset: {
    trainFingerprint: string;
    validationFingerprint: string;
    classNames: string[];
    trainImages: number;
    validationImages: number;
  };
  /** Model weight names in `model.weights` order (diagnostics; arrays are stored as `model/<i>`). */
  modelWeights: { name: string; shape: number[]; trainable: boolean }[];
  optimizer: { kind: string; iterations: number };
  /**
   * How random numbers are drawn: every choice of update s, micro-batch m comes from
   * `Rng.derive(seed, purpose, s, m)`, so the seed and `step` are the whole RNG state.
   */
  rng: { seed: number; scheme: 'derive(seed,purpose,step,micro)' };
  movingAverage: boolean;
  /** Last metrics, informational. */
  metrics?: Record<string, unknown>;
  savedAt: string;
}

interface IndexEntry {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  offset: number;
  length: number;
}

const DIR_RE = /^ckpt-(\d+)$/;

/** Directory name of the checkpoint at `step`. */
export function checkpointDirName(step: number): string {
  return `ckpt-${String(step).padStart(9, '0')}`;
}

/**
 * Write a checkpoint under `root` atomically; returns its directory. A checkpoint of the
 * same step is replaced.
 */
export async function saveTrainingCheckpoint(root: string, state: TrainingCheckpointState, tensors: NamedArrays): Promise<string> {
  await fsp.mkdir(root, { recursive: true });
  const tmp = nodePath.join(root, `.tmp-${checkpointDirName(state.step)}-${process.pid}-${nodeCrypto.randomBytes(4).toString('hex')}`);
  await fsp.mkdir(tmp);
  try {
    const index: IndexEntry[] = [];
    let offset = 0;
    for (const [name, a] of tensors) {
      if (a.dtype !== 'float32' && a.dtype !== 'int32') {
        throw new IncompatibleFileError(name, `checkpoint arrays must be float32 or int32, got ${a.dtype}`);
      }
      const length = (a.data as Float32Array | Int32Array).length;
      index.push({ name, shape: a.shape, dtype: a.dtype, offset, length });
      offset += length * 4;
    }
    const bin = new Uint8Array(offset);
    for (const e of index) {
      const a = tensors.get(e.name)!.data as Float32Array | Int32Array;
      bin.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), e.offset);
    }
    await fsp.writeFile(nodePath.join(tmp, 'tensors.bin'), bin);
    await fsp.writeFile(nodePath.join(tmp, 'tensors.json'), JSON.stringify({ byteLength: offset, arrays: index }));
    // state.json last: its presence marks a complete checkpoint even inside the temp dir.
    await fsp.writeFile(nodePath.join(tmp, 'state.json'), JSON.stringify(state, null, 1));
    const dest = nodePath.join(root, checkpointDirName(state.step));
    let old: string | undefined;
    try {
      await fsp.stat(dest);
      old = `${tmp}-old`;
      await fsp.rename(dest, old);
    } catch {
      /* no previous checkpoint of this step */
    }
    await fsp.rename(tmp, dest);
    if (old) await fsp.rm(old, { recursive: true, force: true });
    return dest;
  } catch (e) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Checkpoint directories under `root`, oldest first (empty when `root` is missing). */
export async function listTrainingCheckpoints(root: string): Promise<{ step: number; path: string }[]> {
  let names: string[];
  try {
    names = await fsp.readdir(root);
  } catch {
    return [];
  }
  return names
    .map((n) => ({ m: DIR_RE.exec(n), n }))
    .filter((x) => x.m)
    .map((x) => ({ step: Number(x.m![1]), path: nodePath.join(root, x.n) }))
    .sort((a, b) => a.step - b.step);
}

/** The newest checkpoint directory under `root`, or null. */
export async function latestTrainingCheckpoint(root: string): Promise<string | null> {
  const all = await listTrainingCheckpoints(root);
  return all.length ? all[all.length - 1].path : null;
}

/** Delete all but the newest `keep` checkpoints (and stale temporary directories). */
export async function pruneTrainingCheckpoints(root: string, keep: number): Promise<void> {
  const all = await listTrainingCheckpoints(root);
  for (const c of all.slice(0, Math.max(0, all.length - keep))) await fsp.rm(c.path, { recursive: true, force: true });
  for (const n of await fsp.readdir(root).catch(() => [] as string[])) {
    if (n.startsWith('.tmp-ckpt-') && !n.includes(`-${process.pid}-`)) await fsp.rm(nodePath.join(root, n), { recursive: true, force: true });
  }
}

async function readText(path: string): Promise<string> {
  try {
    return await fsp.readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new FileNotFoundError(path, 'checkpoint file');
    throw e;
  }
}

/** Read only `state.json` of a checkpoint. */
export async function readTrainingCheckpointState(dir: string): Promise<TrainingCheckpointState> {
  const path = nodePath.join(dir, 'state.json');
  let state: TrainingCheckpointState;
  try {
    state = JSON.parse(await readText(path)) as TrainingCheckpointState;
  } catch (e) {
    if (e instanceof FileNotFoundError) throw e;
    throw new IncompatibleFileError(path, `not valid JSON (${(e as Error).message})`);
  }
  if (state?.format !== CHECKPOINT_FORMAT) throw new IncompatibleFileError(path, 'not a tfjs-facenet training checkpoint');
  if (state.version !== CHECKPOINT_VERSION) {
    throw new IncompatibleFileError(path, `checkpoint version ${state.version}, this library reads ${CHECKPOINT_VERSION}`);
  }
  return state;
}

/** Read a whole checkpoint. @throws {IncompatibleFileError} for damaged or foreign files. */
export async function loadTrainingCheckpoint(dir: string): Promise<{ state: TrainingCheckpointState; tensors: NamedArrays }> {
  const state = await readTrainingCheckpointState(dir);
  const indexPath = nodePath.join(dir, 'tensors.json');
  let index: { byteLength: number; arrays: IndexEntry[] };
  try {
    index = JSON.parse(await readText(indexPath));
  } catch (e) {
    if (e instanceof FileNotFoundError) throw e;
    throw new IncompatibleFileError(indexPath, 'not valid JSON');
  }
  const binPath = nodePath.join(dir, 'tensors.bin');
  let bin: Buffer;
  try {
    bin = await fsp.readFile(binPath);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new FileNotFoundError(binPath, 'checkpoint file');
    throw e;
  }
  if (bin.byteLength !== index.byteLength) {
    throw new IncompatibleFileError(binPath, `has ${bin.byteLength} bytes, the index expects ${index.byteLength}`);
  }
  // Copy into an aligned buffer (Buffer slices may start at odd offsets).
  const aligned = new Uint8Array(bin.byteLength);
  aligned.set(bin);
  const tensors: NamedArrays = new Map();
  for (const e of index.arrays) {
    const count = e.shape.reduce((a, b) => a * b, 1);
    if (count !== e.length || e.offset + e.length * 4 > aligned.byteLength) {
      throw new IncompatibleFileError(indexPath, `array "${e.name}" is inconsistent with its shape or the data file`);
    }
    const data =
      e.dtype === 'int32'
        ? new Int32Array(aligned.buffer, e.offset, e.length)
        : new Float32Array(aligned.buffer, e.offset, e.length);
    const arr: NamedArray = { shape: e.shape, dtype: e.dtype, data };
    tensors.set(e.name, arr);
  }
  return { state, tensors };
}
