/**
 * withInitialOldSpace: workers started inside it get a heap whose old generation starts at
 * the size asked for (V8's `--initial-old-space-size`), workers started before or after get
 * V8's own sizing. Seen through what that size changes: a worker that keeps ≈ 100 MB of
 * objects needs a full collection on the way with V8's sizing, none with 256 MB.
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { withInitialOldSpace } from '../src/runtime/workers.js';

const KEEPER = `
const { parentPort } = require('node:worker_threads');
const { PerformanceObserver, constants } = require('node:perf_hooks');
let major = 0;
const observer = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) major++;
});
observer.observe({ entryTypes: ['gc'] });
const kept = [];
for (let i = 0; i < 1200000; i++) kept.push({ a: i, b: [i, i] });
setTimeout(() => { observer.disconnect(); parentPort.postMessage({ major, kept: kept.length }); }, 50);
`;

/** Start the keeper; resolves once its isolate runs, with a promise of its report. */
function startKeeper(): Promise<{ report: Promise<{ major: number; kept: number }> }> {
  const worker = new Worker(KEEPER, { eval: true });
  const report = new Promise<{ major: number; kept: number }>((resolve, reject) => {
    worker.once('message', (m: { major: number; kept: number }) => {
      resolve(m);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
  return new Promise((resolve, reject) => {
    worker.once('online', () => resolve({ report }));
    worker.once('error', reject);
  });
}

describe('withInitialOldSpace', () => {
  it('sizes the old generation of the workers started inside it, and only theirs', async () => {
    const before = await (await startKeeper()).report;
    const inside = await (await withInitialOldSpace(256, startKeeper)).report;
    const after = await (await startKeeper()).report;
    expect(before.kept).toBe(1200000);
    expect(before.major).toBeGreaterThanOrEqual(1);
    expect(inside.major).toBe(0);
    expect(after.major).toBeGreaterThanOrEqual(1);
    // 0 leaves V8's sizing alone.
    expect((await (await withInitialOldSpace(0, startKeeper)).report).major).toBeGreaterThanOrEqual(1);
  });
});
