/**
 * Learning-rate schedules: constant, the seed's piecewise-constant decay, and the
 * reference's schedule files (davidsandberg/facenet `data/learning_rate_schedule_*.txt`).
 *
 * Schedule file format: `#` starts a comment; every other non-blank line is
 * `epoch: rate`; the rate of an epoch is that of the last line whose epoch is ≤ the
 * (1-based) epoch number; a negative rate (or `-`) stops training. Example:
 *
 *     # Learning rate schedule
 *     0:   0.05
 *     100: 0.005
 *     276: -1
 */
import { ConfigError, FileNotFoundError } from '../errors.js';
import { nodeBuiltins } from '../runtime/node-platform.js';
import type { LearningRateSchedule } from './config.js';

/** One `epoch: rate` line of a schedule file. */
export interface ScheduleEntry {
  /** First (1-based) epoch the rate applies to. */
  epoch: number;
  /** Learning rate; ≤ 0 means stop. */
  rate: number;
}

/**
 * Parse schedule-file text.
 * @param source names the file in errors.
 * @throws {ConfigError} naming the file and line of the first bad line.
 */
export function parseScheduleFile(text: string, source = 'schedule file'): ScheduleEntry[] {
  const entries: ScheduleEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const where = `${source}:${i + 1}`;
    const line = lines[i].split('#', 1)[0].trim();
    if (line === '') continue;
    const m = /^([^:]*):(.*)$/.exec(line);
    if (!m) throw new ConfigError(where, `expected "epoch: rate", got "${line}"`);
    const epochText = m[1].trim();
    const rateText = m[2].trim();
    if (!/^\d+$/.test(epochText)) throw new ConfigError(where, `epoch must be a non-negative integer, got "${epochText}"`);
    const epoch = Number(epochText);
    let rate: number;
    if (rateText === '-') rate = -1;
    else {
      rate = Number(rateText);
      if (rateText === '' || !Number.isFinite(rate)) throw new ConfigError(where, `rate must be a number, got "${rateText}"`);
    }
    const prev = entries[entries.length - 1];
    if (prev && epoch <= prev.epoch) {
      throw new ConfigError(where, `epochs must increase, ${epoch} follows ${prev.epoch}`);
    }
    entries.push({ epoch, rate });
  }
  if (entries.length === 0) throw new ConfigError(source, 'has no "epoch: rate" lines');
  return entries;
}

/** Read and parse a schedule file. @throws {FileNotFoundError} / {ConfigError}. */
export async function readScheduleFile(path: string): Promise<ScheduleEntry[]> {
  let text: string;
  try {
    text = await nodeBuiltins('reading a learning-rate schedule file').fsp.readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new FileNotFoundError(path, 'learning-rate schedule file');
    throw e;
  }
  return parseScheduleFile(text, path);
}

/**
 * The rate of a schedule file for a 1-based epoch number: the last entry whose epoch is
 * ≤ `epoch` (past the last entry its rate holds). Null before the first entry's epoch or
 * when the rate is ≤ 0: training stops.
 */
export function rateFromEntries(entries: readonly ScheduleEntry[], epoch: number): number | null {
  let rate: number | null = null;
  for (const e of entries) {
    if (e.epoch <= epoch) rate = e.rate;
    else break;
  }
  return rate !== null && rate > 0 ? rate : null;
}

/** A schedule ready to be evaluated (file schedules already read). */
export type ResolvedSchedule =
  | { kind: 'constant' }
  | { kind: 'piecewise'; boundaries: number[]; factor: number }
  | { kind: 'file'; entries: ScheduleEntry[] };

/** Read the file of a `file` schedule; other kinds pass through. */
export async function resolveSchedule(s: LearningRateSchedule): Promise<ResolvedSchedule> {
  if (s.kind === 'file') return { kind: 'file', entries: await readScheduleFile(s.path) };
  return s;
}

/** Where training is when a rate is asked for. */
export interface ScheduleTime {
  /** Updates done so far (0-based index of the update about to run). */
  step: number;
  /** 0-based index of the current epoch. */
  epoch: number;
  /** Updates per epoch. */
  stepsPerEpoch: number;
}

/**
 * The learning rate of the next update, or null when the schedule says stop.
 * `piecewise` follows `tf.train.piecewise_constant(global_step, boundaries·stepsPerEpoch, …)`:
 * the k-th decay applies once step > boundary_k · stepsPerEpoch.
 */
export function learningRateAt(schedule: ResolvedSchedule, baseRate: number, t: ScheduleTime): number | null {
  switch (schedule.kind) {
    case 'constant':
      return baseRate;
    case 'piecewise': {
      let rate = baseRate;
      for (const b of schedule.boundaries) {
        if (t.step > Math.floor(b * t.stepsPerEpoch)) rate *= schedule.factor;
      }
      return rate;
    }
    case 'file':
      return rateFromEntries(schedule.entries, t.epoch + 1);
  }
}
