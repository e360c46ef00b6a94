/**
 * Loading batches ahead: batch (step, micro-batch) is planned by the sampler and decoded by
 * the loader while earlier ones train, up to `max(2, accumulationSteps)` ahead, in order.
 */
import type { BatchLoader, BatchSampler, LoadedBatch } from './batches.js';

export class BatchPrefetcher {
  private readonly pending = new Map<string, Promise<LoadedBatch>>();
  private readonly depth: number;

  constructor(
    private readonly loader: BatchLoader,
    private readonly sampler: BatchSampler,
    private readonly accumulationSteps: number,
    private readonly totalSteps: number,
  ) {
    this.depth = Math.max(2, accumulationSteps);
  }

  /** Start loading batch (s, m) unless it is loading already. */
  request(s: number, m: number): Promise<LoadedBatch> {
    const k = `${s}:${m}`;
    let p = this.pending.get(k);
    if (!p) {
      p = this.loader.load(this.sampler.plan(s, m));
      p.catch(() => {}); // surfaced when awaited
      this.pending.set(k, p);
    }
    return p;
  }

  /** Batch (s, m), handed over to the caller; the batches after it start loading. */
  take(s: number, m: number): Promise<LoadedBatch> {
    const p = this.request(s, m);
    this.pending.delete(`${s}:${m}`);
    let ss = s;
    let mm = m;
    for (let i = 0; i < this.depth; i++) {
      mm++;
      if (mm >= this.accumulationSteps) {
        mm = 0;
        ss++;
      }
      if (ss >= this.totalSteps) break;
      this.request(ss, mm);
    }
    return p;
  }

  /** Wait for the loads still in flight (so that nothing rejects later) and forget them. */
  async settle(): Promise<void> {
    await Promise.allSettled(this.pending.values());
    this.pending.clear();
  }
}
