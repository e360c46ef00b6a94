/**
 * Counting this thread's garbage collections by kind, from Node's `gc` performance entries
 * (Node only). Used by the face pool's workers (`FacePool.workerStats`) and the benchmarks.
 */
import { PerformanceObserver, constants } from 'node:perf_hooks';

/** Collections seen since {@link countCollections} started; `stop()` ends the counting. */
export interface CollectionCounts {
  minor: number;
  major: number;
  /** Incremental-marking steps (parts of a major collection). */
  incremental: number;
  other: number;
  stop(): void;
}

/** Start counting this thread's garbage collections (entries arrive asynchronously, on the event loop). */
export function countCollections(): CollectionCounts {
  const counts: CollectionCounts = { minor: 0, major: 0, incremental: 0, other: 0, stop: () => observer.disconnect() };
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) counts.minor++;
      else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) counts.major++;
      else if (kind === constants.NODE_PERFORMANCE_GC_INCREMENTAL) counts.incremental++;
      else counts.other++;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return counts;
}
