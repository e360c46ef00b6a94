/**
 * CPU time per thread of this process, for the benchmarks that split it (Linux:
 * `/proc/self/task/<tid>/stat`, user + system ticks of 1/100 s).
 */
import { readdirSync, readFileSync } from 'node:fs';

/** CPU ms of each thread of this process by thread id (the main thread's id is `process.pid`), or null where /proc is missing. */
export function threadCpuMs(): Map<string, number> | null {
  try {
    const out = new Map<string, number>();
    for (const tid of readdirSync('/proc/self/task')) {
      const fields = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      out.set(tid, (Number(fields[11]) + Number(fields[12])) * 10);
    }
    return out;
  } catch {
    return null;
  }
}
