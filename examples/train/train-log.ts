/**
 * Reading the trainer's `train-log.jsonl` back into per-epoch numbers for the report and
 * its charts. The log is appended across resumes: a run stopped between checkpoints
 * redoes the updates after its last checkpoint, so the same step can appear twice — the
 * later record (the one the final model descends from) wins.
 */
import { readFile } from 'node:fs/promises';

/** Training and validation numbers of one epoch. Validation fields are NaN when not validated. */
export interface EpochRow {
  epoch: number;
  /** Updates of the epoch found in the log. */
  steps: number;
  /** Means over the epoch's updates. */
  loss: number;
  crossEntropy: number;
  centerLoss: number;
  regularization: number;
  accuracy: number;
  learningRate: number;
  valLoss: number;
  valCrossEntropy: number;
  valCenterLoss: number;
  valAccuracy: number;
}

/** What a training log says about the run. */
export interface TrainLogSummary {
  rows: EpochRow[];
  /** Configuration of the last start record (the run's current configuration). */
  config: Record<string, unknown> | null;
  classes: number | null;
  trainImages: number | null;
  validationImages: number | null;
  stepsPerEpoch: number | null;
  /** Start records: 1 + the number of resumes. */
  sessions: number;
  /** Last update logged. */
  lastStep: number;
  /** Reason of the last stop record, or null when the last session did not stop cleanly (yet). */
  stopReason: string | null;
  /** Wall-clock seconds of training: for each session, its first to its last record, summed. */
  seconds: number;
  /** Lines that were not JSON (a line cut by a kill). */
  badLines: number;
}

type LogRecord = Record<string, unknown> & { type?: string; time?: string };

const num = (v: unknown): number => (typeof v === 'number' ? v : Number.NaN);

function mean(xs: number[]): number {
  return xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Summarize the text of a training log (pure). */
export function summarizeTrainLog(text: string): TrainLogSummary {
  const records: LogRecord[] = [];
  let badLines = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const r = JSON.parse(line) as unknown;
      if (typeof r === 'object' && r !== null && !Array.isArray(r)) records.push(r as LogRecord);
      else badLines++;
    } catch {
      badLines++;
    }
  }

  const steps = new Map<number, LogRecord>();
  const epochs = new Map<number, LogRecord>();
  let start: LogRecord | null = null;
  let sessions = 0;
  let stopReason: string | null = null;
  let seconds = 0;
  let sessionStart: number | null = null;
  let sessionLast: number | null = null;
  const closeSession = () => {
    if (sessionStart !== null && sessionLast !== null) seconds += (sessionLast - sessionStart) / 1000;
  };
  for (const r of records) {
    const t = typeof r.time === 'string' ? Date.parse(r.time) : Number.NaN;
    if (r.type === 'start') {
      closeSession();
      sessions++;
      start = r;
      stopReason = null;
      sessionStart = Number.isFinite(t) ? t : null;
      sessionLast = sessionStart;
      continue;
    }
    if (Number.isFinite(t) && sessionStart !== null) sessionLast = t;
    if (r.type === 'step' && typeof r.step === 'number') steps.set(r.step, r);
    else if (r.type === 'epoch' && typeof r.epoch === 'number') epochs.set(r.epoch, r);
    else if (r.type === 'stop') stopReason = typeof r.reason === 'string' ? r.reason : 'unknown';
  }
  closeSession();

  const byEpoch = new Map<number, LogRecord[]>();
  for (const s of [...steps.values()].sort((a, b) => num(a.step) - num(b.step))) {
    const e = num(s.epoch);
    if (!Number.isInteger(e)) continue;
    if (!byEpoch.has(e)) byEpoch.set(e, []);
    byEpoch.get(e)!.push(s);
  }
  const epochNumbers = [...new Set([...byEpoch.keys(), ...epochs.keys()])].sort((a, b) => a - b);
  const rows: EpochRow[] = epochNumbers.map((epoch) => {
    const ss = byEpoch.get(epoch) ?? [];
    const field = (k: string) => mean(ss.map((s) => num(s[k])));
    const validation = (epochs.get(epoch)?.validation ?? null) as Record<string, unknown> | null;
    const val = (k: string) => (validation ? num(validation[k]) : Number.NaN);
    return {
      epoch,
      steps: ss.length,
      loss: field('loss'),
      crossEntropy: field('crossEntropy'),
      centerLoss: field('centerLoss'),
      regularization: field('regularization'),
      accuracy: field('accuracy'),
      learningRate: field('learningRate'),
      valLoss: val('loss'),
      valCrossEntropy: val('crossEntropy'),
      valCenterLoss: val('centerLoss'),
      valAccuracy: val('accuracy'),
    };
  });
  const startNum = (k: string) => (start && typeof start[k] === 'number' ? (start[k] as number) : null);
  return {
    rows,
    config: start && typeof start.config === 'object' && start.config !== null ? (start.config as Record<string, unknown>) : null,
    classes: startNum('classes'),
    trainImages: startNum('trainImages'),
    validationImages: startNum('validationImages'),
    stepsPerEpoch: startNum('stepsPerEpoch'),
    sessions,
    lastStep: steps.size > 0 ? Math.max(...steps.keys()) : 0,
    stopReason,
    seconds,
    badLines,
  };
}

/** Read and summarize a training log file. */
export async function readTrainLog(path: string): Promise<TrainLogSummary> {
  return summarizeTrainLog(await readFile(path, 'utf8'));
}
