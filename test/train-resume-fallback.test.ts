/** Resuming past a damaged newest checkpoint, and a training log cut back to the checkpoint. */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, mkdir, rm, writeFile, readFile, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkpointDirName, saveTrainingCheckpoint, CHECKPOINT_FORMAT, CHECKPOINT_VERSION, type TrainingCheckpointState } from '../src/train/checkpoint.js';
import { resolveTrainConfig } from '../src/train/config.js';
import { findResumePoint } from '../src/train/resume.js';
import { JsonLinesLog, keepLinesUpToStep } from '../src/train/log.js';
import { IncompatibleFileError } from '../src/errors.js';
import type { TrainConfig } from '../src/train/config.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'resume-fallback-'));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('training log after a resume', () => {
  it('keeps the records up to the checkpoint step, drops the rest', () => {
    const lines = [
      '{"type":"start"}',
      '{"type":"step","step":1}',
      '{"type":"step","step":2}',
      '{"type":"epoch","epoch":1}',
      '{"type":"step","step":3}',
      '{"type":"step","step":4}',
    ];
    const text = lines.join('\n') + '\n';
    expect(keepLinesUpToStep(text, 2)).toBe(lines.slice(0, 4).join('\n') + '\n');
    expect(keepLinesUpToStep(text, 4)).toBe(text);
    expect(keepLinesUpToStep(text, 0)).toBe(lines[0] + '\n');
  });

  it('JsonLinesLog.truncateAfterStep rewrites the file before later writes', async () => {
    const path = join(tmp, 'log', 'train.jsonl');
    await mkdir(join(tmp, 'log'), { recursive: true });
    await writeFile(path, ['{"step":1}', '{"step":2}', '{"step":3}'].join('\n') + '\n');
    const log = new JsonLinesLog(path);
    void log.truncateAfterStep(1);
    await log.write({ step: 2, again: true });
    await log.flush();
    const records = (await readFile(path, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(records.map((r) => [r.step, r.again ?? false])).toEqual([[1, false], [2, true]]);
  });
});

describe('resume with damaged checkpoints', () => {
  it('tries every checkpoint, newest first, and names each reason when none loads', async () => {
    const root = join(tmp, 'checkpoints');
    for (const step of [100, 200]) {
      const dir = join(root, checkpointDirName(step));
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'state.json'), step === 200 ? '{"truncated' : '');
    }
    const err = await findResumePoint(true, root, {} as TrainConfig).catch((e) => e);
    expect(err).toBeInstanceOf(IncompatibleFileError);
    expect(err.message).toMatch(/no checkpoint can be read/);
    // Both were tried: the newest (step 200) and the one before it.
    expect(err.message).toContain(checkpointDirName(200));
    expect(err.message).toContain(checkpointDirName(100));
  });

  it('resumes from the previous checkpoint when the newest is damaged, and lists the damaged one', async () => {
    const root = join(tmp, 'fallback');
    const config = resolveTrainConfig({ dataDir: join(tmp, 'data'), outDir: join(tmp, 'out') });
    const state = (step: number): TrainingCheckpointState => ({
      format: CHECKPOINT_FORMAT,
      version: CHECKPOINT_VERSION,
      step,
      epoch: 0,
      config,
      dataset: { trainFingerprint: 'a', validationFingerprint: 'b', classNames: ['x'], trainImages: 1, validationImages: 0 },
      modelWeights: [{ name: 'w', shape: [3], trainable: true }],
      optimizer: { kind: 'adam', iterations: step },
      rng: { seed: config.seed, scheme: 'derive(seed,purpose,step,micro)' },
      movingAverage: false,
      savedAt: new Date(0).toISOString(),
    });
    const weights = (v: number) => new Map([['model/0', { shape: [3], dtype: 'float32' as const, data: new Float32Array([v, v, v]) }]]);
    await saveTrainingCheckpoint(root, state(100), weights(1));
    const newest = await saveTrainingCheckpoint(root, state(200), weights(2));
    // A kill or a bad disk: the newest checkpoint's data file is cut short.
    await truncate(join(newest, 'tensors.bin'), 5);
    const point = await findResumePoint(true, root, config);
    expect(point.resumeFrom).toBe(join(root, checkpointDirName(100)));
    expect(point.restored!.state.step).toBe(100);
    expect(Array.from(point.restored!.tensors.get('model/0')!.data as Float32Array)).toEqual([1, 1, 1]);
    expect(point.damaged.map((d) => d.path)).toEqual([newest]);
    expect(point.damaged[0].reason).toMatch(/has 5 bytes, the index expects 12/);
  });
});
