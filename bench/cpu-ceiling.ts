/**
 * The host's own ceiling for N threads: a fixed piece of arithmetic (dot products over two
 * 256 KB arrays, which stay in cache, four independent sums — a busy loop of loads and
 * multiply-adds like a convolution kernel's) run as jobs on 1 or N plain worker threads.
 * Nothing is shared and nothing allocated, so its throughput ratio is the most this machine
 * gives N threads at that moment: a pool of networks measured in the same round can be
 * compared with it instead of with an ideal ×N the host may not have (virtual cores on a
 * shared machine).
 */
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const n = 1 << 16;
const x = new Float32Array(n);
const y = new Float32Array(n);
for (let i = 0; i < n; i++) { x[i] = (i % 97) / 97; y[i] = (i % 89) / 89; }
parentPort.on('message', (passes) => {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (let p = 0; p < passes; p++) {
    for (let i = 0; i < n; i += 4) {
      s0 += x[i] * y[i];
      s1 += x[i + 1] * y[i + 1];
      s2 += x[i + 2] * y[i + 2];
      s3 += x[i + 3] * y[i + 3];
    }
  }
  parentPort.postMessage(s0 + s1 + s2 + s3);
});
`;

/** `threads` worker threads taking fixed arithmetic jobs from one queue. */
export class CpuCeiling {
  private constructor(private readonly workers: Worker[]) {}

  static start(threads: number): CpuCeiling {
    return new CpuCeiling(Array.from({ length: threads }, () => new Worker(WORKER_SOURCE, { eval: true })));
  }

  /** Runs `jobs` jobs of `passes` passes each; resolves when all are done. */
  async run(jobs: number, passes: number): Promise<void> {
    let next = 0;
    const drain = (w: Worker): Promise<void> =>
      new Promise((resolve, reject) => {
        const take = (): void => {
          if (next >= jobs) {
            w.off('message', take);
            w.off('error', reject);
            resolve();
            return;
          }
          next++;
          w.postMessage(passes);
        };
        w.on('message', take);
        w.on('error', reject);
        take();
      });
    await Promise.all(this.workers.map(drain));
  }

  /** Passes that make one job last about `ms` on one thread now (measured on the first worker). */
  async calibrate(ms: number): Promise<number> {
    const one = new CpuCeiling(this.workers.slice(0, 1));
    await one.run(2, 50); // let the optimizing compiler see the loop
    const t0 = performance.now();
    await one.run(1, 200);
    return Math.max(1, Math.round((200 * ms) / (performance.now() - t0)));
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
